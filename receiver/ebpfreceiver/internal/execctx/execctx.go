// Package execctx decides the execution context of each exec: the attacker's entry point that
// children inherit, re-keyed when a process crosses a boundary used to get in.
//
// A process inherits the context of its "parent" (its own previous image when the same process
// exec'd before, otherwise its real parent), except when the exec matches one of these rules,
// checked in this order; the first match opens a new context `<kind>:<hash>` whose parent_id is
// the inherited context:
//
//  1. ci_runner: the environment carries CI markers (GITHUB_ACTIONS, GITLAB_CI, JENKINS_URL,
//     BUILDKITE, CIRCLECI, TRAVIS, TF_BUILD, TEAMCITY_VERSION, DRONE, BITBUCKET_BUILD_NUMBER)
//     and the parent's did not.
//  2. container_exec: the cgroup differs from the parent's, the parent is a container runtime
//     (runc, crun, youki, conmon, containerd-shim*, runc:[N:...]) and the target cgroup already ran
//     a workload, i.e. a process that is not a runtime (runc exec, docker/podman/kubectl exec).
//  3. cron: the parent is cron, crond, anacron, atd or fcron.
//  4. systemd: the parent is pid 1 or a systemd (user) manager.
//  5. login_session: the login uid or audit session id differs from the parent's.
//  6. cgroup: the cgroup differs from the parent's (a new container, a new scope). Every process a
//     runtime moves into the new cgroup before its workload runs joins the same context.
//  7. service_shell: a shell whose parent is a network service, web server, interpreter or
//     database.
//  8. interactive_shell: a shell with a tty, or started with -i, whose parent is not a shell.
//  9. daemonized: nohup/setsid/daemonize, or a session leader without a tty whose parent was in
//     another session (unless the parent is a container runtime starting a container).
//
// A process whose parent is unknown gets the context of its cgroup, one per cgroup path: `boot`
// when the cgroup was first seen by the start-up snapshot, `cgroup` when it was first seen live (a
// process appeared in a cgroup where nothing ran before, e.g. a container whose runtime exited
// before its events were read).
//
// Context ids are deterministic, so that a receiver restarted on the same boot gives the running
// processes the ids they had: `<kind>:` + the first 16 hex digits of SHA-256 over the host boot id,
// the kind and the identity of the entry-point process that opened the context (pid and start
// time in clock ticks, the precision procfs gives), or, for the per-cgroup `boot`/`cgroup`
// contexts, the cgroup path. The start-up snapshot applies the same rules from the oldest process
// down, so it reaches the same entry point while that process lives.
//
// docs/events.md ("Execution-context rules") documents the same table; keep them in step.
package execctx // import "github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/execctx"

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"path"
	"strings"
	"sync"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
)

// Kinds of contexts: the names of internal/contract.
const (
	KindBoot             = contract.ContextBoot
	KindCgroup           = contract.ContextCgroup
	KindLoginSession     = contract.ContextLoginSession
	KindInteractiveShell = contract.ContextInteractiveShell
	KindServiceShell     = contract.ContextServiceShell
	KindContainerExec    = contract.ContextContainerExec
	KindDaemonized       = contract.ContextDaemonized
	KindCron             = contract.ContextCron
	KindSystemd          = contract.ContextSystemd
	KindCIRunner         = contract.ContextCIRunner
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
	Start     uint64 // start time, ns since boot (with PID, the identity that keys a context it opens)
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

// Tracker holds the context of each cgroup (for processes whose parent is unknown and for the
// several processes a runtime puts into a new container) and which cgroups run a workload (a
// process that is not a container runtime), which tells a `runc exec` from a container start.
type Tracker struct {
	bootID   string // host boot id: ids are unique per boot and stable across receiver restarts
	mu       sync.Mutex
	cgroups  *lru.Cache[string, Context]
	workload *lru.Cache[uint64, struct{}]
}

// NewTracker makes a tracker that remembers at most size cgroups. bootID (the host's
// /proc/sys/kernel/random/boot_id) seeds the context ids.
func NewTracker(size int, bootID string) *Tracker {
	cg, _ := lru.New[string, Context](size)
	wl, _ := lru.New[uint64, struct{}](size)
	return &Tracker{bootID: bootID, cgroups: cg, workload: wl}
}

// Boot returns the context of a cgroup first seen by the start-up snapshot, minting a `boot`
// context on first use.
func (t *Tracker) Boot(cgroupPath string) Context {
	return t.cgroupContext(cgroupPath, KindBoot)
}

// Enter returns the context of a process whose parent is unknown, seen live in cgroupPath: the
// cgroup's context if it has one, else a new `cgroup` context (a process appearing in a cgroup
// nobody was seen in has crossed into it).
func (t *Tracker) Enter(cgroupPath string) Context {
	return t.cgroupContext(cgroupPath, KindCgroup)
}

func (t *Tracker) cgroupContext(cgroupPath, kind string) Context {
	t.mu.Lock()
	defer t.mu.Unlock()
	if c, ok := t.cgroups.Get(cgroupPath); ok {
		return c
	}
	c := Context{ID: CgroupID(t.bootID, kind, cgroupPath), Kind: kind}
	t.cgroups.Add(cgroupPath, c)
	return c
}

// Decide returns the context of child, which lives in cgroupPath. parent is the previous image of
// the same process or its real parent, nil when unknown; fromSnapshot says the child was found by
// the start-up snapshot rather than seen live.
func (t *Tracker) Decide(parent, child *Proc, cgroupPath string, fromSnapshot bool) Context {
	t.mu.Lock()
	_, hasWorkload := t.workload.Get(child.CgroupID)
	if child.CgroupID != 0 && !isRuntime(child) {
		t.workload.Add(child.CgroupID, struct{}{})
	}
	t.mu.Unlock()
	if parent == nil {
		if fromSnapshot {
			return t.Boot(cgroupPath)
		}
		return t.Enter(cgroupPath)
	}
	kind := Rule(parent, child, hasWorkload)
	switch kind {
	case "":
		return parent.Context
	case KindCgroup:
		// Every process a runtime moves into a new container joins one context.
		t.mu.Lock()
		defer t.mu.Unlock()
		if c, ok := t.cgroups.Get(cgroupPath); ok && !hasWorkload && c.Kind == KindCgroup {
			return c
		}
		c := Context{ID: EntryID(t.bootID, kind, child.PID, child.Start), Kind: kind, ParentID: parent.Context.ID}
		t.cgroups.Add(cgroupPath, c)
		return c
	}
	return Context{ID: EntryID(t.bootID, kind, child.PID, child.Start), Kind: kind, ParentID: parent.Context.ID}
}

// Rule returns the kind of context child opens, "" when it inherits its parent's. hasWorkload says
// whether the child's cgroup already ran a process that is not a container runtime.
func Rule(parent, child *Proc, hasWorkload bool) string {
	parentName := parent.ExeName
	if parentName == "" {
		parentName = parent.Comm
	}
	cgroupChanged := child.CgroupID != 0 && parent.CgroupID != 0 && child.CgroupID != parent.CgroupID
	switch {
	case child.CI && !parent.CI:
		return KindCIRunner
	case cgroupChanged && isRuntime(parent) && hasWorkload:
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
	case child.SID != 0 && child.SID == child.PID && child.TTY == "" && parent.SID != child.SID && !isRuntime(parent):
		// A runtime's setsid is part of starting a container, not a daemonization.
		return KindDaemonized
	}
	return ""
}

// tickNS is one USER_HZ clock tick: procfs gives start times at this precision, the kernel in ns,
// so an entry process's start is rounded down to it before hashing.
const tickNS = 10_000_000

// EntryID is the id of a context of kind opened by the entry-point process pid started at start
// (ns since boot) on the boot bootID.
func EntryID(bootID, kind string, pid uint32, start uint64) string {
	var b [12]byte
	binary.LittleEndian.PutUint32(b[:4], pid)
	binary.LittleEndian.PutUint64(b[4:], start/tickNS)
	return hashID(bootID, kind, b[:])
}

// CgroupID is the id of the per-cgroup context of kind (boot or cgroup) for cgroupPath.
func CgroupID(bootID, kind, cgroupPath string) string {
	return hashID(bootID, kind, []byte("cgroup\x00"+cgroupPath))
}

func hashID(bootID, kind string, identity []byte) string {
	h := sha256.New()
	h.Write([]byte(bootID))
	h.Write([]byte{0})
	h.Write([]byte(kind))
	h.Write([]byte{0})
	h.Write(identity)
	return kind + ":" + hex.EncodeToString(h.Sum(nil)[:8])
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
	names := []string{p.ExeName, p.Comm}
	if len(p.Args) > 0 {
		// runc re-executes itself from a memfd copy for `runc init`: only argv[0] names it.
		names = append(names, path.Base(p.Args[0]))
	}
	for _, n := range names {
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
