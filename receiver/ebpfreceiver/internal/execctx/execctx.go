// Package execctx decides the execution context of each exec: the attacker's entry point that
// children inherit, re-keyed when a process crosses a boundary used to get in.
//
// A process inherits the context of its "parent" (its own previous image when the same process
// exec'd before, otherwise its real parent), except when the exec matches one of these rules,
// checked in this order; the first match opens a new context `<kind>:<random>` whose parent_id is
// the inherited context:
//
//  1. ci_runner: the environment carries CI markers (GITHUB_ACTIONS, GITLAB_CI, JENKINS_URL,
//     BUILDKITE, CIRCLECI, TRAVIS, TF_BUILD, TEAMCITY_VERSION, DRONE, BITBUCKET_BUILD_NUMBER)
//     and the parent's did not.
//  2. container_exec: the cgroup differs from the parent's, the parent is a container runtime
//     (runc, crun, youki, conmon, containerd-shim*, runc:[N:...]) and the target cgroup already had
//     processes (runc exec, docker/podman/kubectl exec).
//  3. cron: the parent is cron, crond, anacron, atd or fcron.
//  4. systemd: the parent is pid 1 or a systemd (user) manager.
//  5. login_session: the login uid or audit session id differs from the parent's.
//  6. cgroup: the cgroup differs from the parent's (a new container, a new scope).
//  7. service_shell: a shell whose parent is a network service, web server, interpreter or
//     database.
//  8. interactive_shell: a shell with a tty, or started with -i, whose parent is not a shell.
//  9. daemonized: nohup/setsid/daemonize, or a session leader without a tty whose parent was in
//     another session.
//
// A process whose parent is unknown (found by the start-up snapshot, or whose parent was never
// seen) gets the `boot` context of its cgroup: one per cgroup path.
//
// docs/events.md ("Execution-context rules") documents the same table; keep them in step.
package execctx // import "github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/execctx"

import (
	"crypto/rand"
	"encoding/hex"
	"path"
	"strings"
	"sync"

	lru "github.com/hashicorp/golang-lru/v2"
)

// Kinds of contexts.
const (
	KindBoot             = "boot"
	KindCgroup           = "cgroup"
	KindLoginSession     = "login_session"
	KindInteractiveShell = "interactive_shell"
	KindServiceShell     = "service_shell"
	KindContainerExec    = "container_exec"
	KindDaemonized       = "daemonized"
	KindCron             = "cron"
	KindSystemd          = "systemd"
	KindCIRunner         = "ci_runner"
)

// Context is one execution context.
type Context struct {
	ID       string
	Kind     string
	ParentID string
}

// Proc is what the rules look at in one process image.
type Proc struct {
	PID       uint32
	ExeName   string // base name of the executable
	Comm      string
	Args      []string // argv, bounded
	CgroupID  uint64
	LoginUID  uint32
	SessionID uint32
	TTY       string
	SID       uint32
	CI        bool // environment carries CI markers
	Context   Context
}

// Tracker holds the per-cgroup boot contexts and which cgroups have been seen.
type Tracker struct {
	mu          sync.Mutex
	boot        *lru.Cache[string, Context]
	seenCgroups *lru.Cache[uint64, struct{}]
}

// NewTracker makes a tracker that remembers at most size cgroups.
func NewTracker(size int) *Tracker {
	boot, _ := lru.New[string, Context](size)
	seen, _ := lru.New[uint64, struct{}](size)
	return &Tracker{boot: boot, seenCgroups: seen}
}

// Boot returns the boot context of a cgroup path, minting it on first use.
func (t *Tracker) Boot(cgroupPath string) Context {
	t.mu.Lock()
	defer t.mu.Unlock()
	if c, ok := t.boot.Get(cgroupPath); ok {
		return c
	}
	c := Context{ID: NewID(KindBoot), Kind: KindBoot}
	t.boot.Add(cgroupPath, c)
	return c
}

// SeeCgroup records that a process lives in cgroup id and says whether it had been seen before.
func (t *Tracker) SeeCgroup(id uint64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	seen, _ := t.seenCgroups.ContainsOrAdd(id, struct{}{})
	return seen
}

// Decide returns the context of child. parent is the previous image of the same process or its real
// parent, nil when unknown. cgroupSeen says whether the child's cgroup had processes before.
func Decide(parent *Proc, child *Proc, cgroupSeen bool, bootCtx func() Context) Context {
	if parent == nil {
		return bootCtx()
	}
	kind := Rule(parent, child, cgroupSeen)
	if kind == "" {
		return parent.Context
	}
	return Context{ID: NewID(kind), Kind: kind, ParentID: parent.Context.ID}
}

// Rule returns the kind of context child opens, "" when it inherits its parent's.
func Rule(parent, child *Proc, cgroupSeen bool) string {
	parentName := parent.ExeName
	if parentName == "" {
		parentName = parent.Comm
	}
	cgroupChanged := child.CgroupID != 0 && parent.CgroupID != 0 && child.CgroupID != parent.CgroupID
	switch {
	case child.CI && !parent.CI:
		return KindCIRunner
	case cgroupChanged && isRuntime(parent) && cgroupSeen:
		return KindContainerExec
	case cronDaemons[parentName]:
		return KindCron
	case parent.PID == 1 || parentName == "systemd":
		return KindSystemd
	case child.LoginUID != parent.LoginUID || child.SessionID != parent.SessionID:
		return KindLoginSession
	case cgroupChanged:
		return KindCgroup
	case IsShell(child) && isService(parentName):
		return KindServiceShell
	case IsShell(child) && !IsShell(parent) && (child.TTY != "" || hasInteractiveFlag(child.Args)):
		return KindInteractiveShell
	case daemonizers[child.ExeName]:
		return KindDaemonized
	case child.SID != 0 && child.SID == child.PID && child.TTY == "" && parent.SID != child.SID:
		return KindDaemonized
	}
	return ""
}

// NewID mints a host-unique context id.
func NewID(kind string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return kind + ":" + hex.EncodeToString(b[:])
}

// CIMarkers are environment variable names set by CI runners.
var CIMarkers = []string{"GITHUB_ACTIONS", "GITLAB_CI", "JENKINS_URL", "BUILDKITE", "CIRCLECI", "TRAVIS",
	"TF_BUILD", "TEAMCITY_VERSION", "DRONE", "BITBUCKET_BUILD_NUMBER"}

// HasCIMarker says whether an environment entry (NAME=value) is a CI marker.
func HasCIMarker(entry string) bool {
	name, _, _ := strings.Cut(entry, "=")
	for _, m := range CIMarkers {
		if name == m {
			return true
		}
	}
	return false
}

var shells = set("sh", "bash", "dash", "zsh", "ash", "ksh", "mksh", "fish", "csh", "tcsh", "busybox")

// IsShell says whether a process image is a shell (busybox only when invoked as a shell).
func IsShell(p *Proc) bool {
	name := p.ExeName
	if name == "" {
		name = p.Comm
	}
	if name == "busybox" {
		if len(p.Args) == 0 {
			return false
		}
		a0 := strings.TrimPrefix(path.Base(p.Args[0]), "-")
		return shells[a0] && a0 != "busybox" || a0 == "busybox" && len(p.Args) > 1 && shells[p.Args[1]]
	}
	return shells[name]
}

func hasInteractiveFlag(args []string) bool {
	for _, a := range args[min(1, len(args)):] {
		if a == "--" || !strings.HasPrefix(a, "-") {
			return false
		}
		if a == "-i" || a == "--interactive" || !strings.HasPrefix(a, "--") && strings.Contains(a, "i") {
			return true
		}
	}
	return false
}

func isRuntime(p *Proc) bool {
	for _, n := range []string{p.ExeName, p.Comm} {
		if runtimes[n] || strings.HasPrefix(n, "containerd-shim") || strings.HasPrefix(n, "runc:[") {
			return true
		}
	}
	return false
}

var runtimes = set("runc", "crun", "youki", "conmon", "runsc", "kata-runtime", "docker-init")

var cronDaemons = set("cron", "crond", "anacron", "atd", "fcron", "busybox-crond")

var daemonizers = set("nohup", "setsid", "daemonize", "start-stop-daemon")

var services = set(
	// web servers and proxies
	"nginx", "httpd", "apache2", "lighttpd", "caddy", "traefik", "haproxy", "envoy", "tomcat", "catalina.sh",
	// app servers and interpreters that serve
	"php", "php-fpm", "php-cgi", "node", "nodejs", "deno", "bun", "java", "python", "python2", "python3",
	"ruby", "perl", "uwsgi", "gunicorn", "unicorn", "puma", "dotnet",
	// databases and queues
	"postgres", "postmaster", "mysqld", "mariadbd", "redis-server", "mongod", "memcached", "rabbitmq-server",
	"elasticsearch", "influxd", "couchdb",
	// remote services
	"sshd-session", "vsftpd", "proftpd", "smbd", "named", "dnsmasq", "squid", "jenkins", "gitlab-runner",
	"kubelet", "dockerd", "containerd", "weblogic", "jboss",
)

// isService matches names like python3.11 and php-fpm8.2 too.
func isService(name string) bool {
	if services[name] {
		return true
	}
	trimmed := strings.TrimRight(name, "0123456789.")
	return trimmed != name && services[trimmed]
}

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}
