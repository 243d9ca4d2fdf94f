package process

import (
	"bytes"
	"path"
	"strings"
)

// The execution context of each exec is the attacker's entry point that children inherit,
// re-keyed when a process crosses a boundary used to get in.
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
// docs/events.md ("Execution-context rules") documents the same table.
//
// rule returns the kind of context child opens, "" when it inherits its parent's. hasWorkload says
// whether the child's cgroup already ran a process that is not a container runtime.
func rule(parent, child *Proc, hasWorkload bool) string {
	parentName := parent.exeName()
	cgroupChanged := child.Cgroup.ID != 0 && parent.Cgroup.ID != 0 && child.Cgroup.ID != parent.Cgroup.ID
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
	case isShell(child) && isService(parentName):
		return KindServiceShell
	case isShell(child) && !isShell(parent) && (child.TTY != "" || hasInteractiveFlag(child.Args)):
		return KindInteractiveShell
	case daemonizers[child.exeName()]:
		return KindDaemonized
	case child.SID != 0 && child.SID == child.PID && child.TTY == "" && parent.SID != child.SID && !isRuntime(parent):
		// A runtime's setsid is part of starting a container, not a daemonization.
		return KindDaemonized
	}
	return ""
}

// ciMarkers are environment variable names set by CI runners.
var ciMarkers = []string{"GITHUB_ACTIONS", "GITLAB_CI", "JENKINS_URL", "BUILDKITE", "CIRCLECI", "TRAVIS",
	"TF_BUILD", "TEAMCITY_VERSION", "DRONE", "BITBUCKET_BUILD_NUMBER"}

// hasCIMarker says whether an environment entry (NAME=value) is a CI marker.
func hasCIMarker(entry string) bool { return hasCIMarkerBytes([]byte(entry)) }

// hasCIMarkerBytes is hasCIMarker on the kernel's bytes, without copying them.
func hasCIMarkerBytes(entry []byte) bool {
	name, _, _ := bytes.Cut(entry, []byte("="))
	for _, m := range ciMarkers {
		if string(name) == m {
			return true
		}
	}
	return false
}

var shells = set("sh", "bash", "dash", "zsh", "ash", "ksh", "mksh", "fish", "csh", "tcsh", "busybox")

// isShell says whether a process image is a shell (busybox only when invoked as a shell).
func isShell(p *Proc) bool {
	name := p.exeName()
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
	names := [3]string{p.exeName(), p.Comm}
	if len(p.Args) > 0 {
		// runc re-executes itself from a memfd copy for `runc init`: only argv[0] names it.
		names[2] = path.Base(p.Args[0])
	}
	for _, n := range names {
		if n == "" {
			continue
		}
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
