package process

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRule(t *testing.T) {
	base := func() *Proc {
		return &Proc{Key: Key{PID: 100}, Exe: "bash", Cgroup: Cgroup{ID: 10}, LoginUID: 1000, SessionID: 3, SID: 90, TTY: "pts/0",
			Context: Context{ID: "login_session:aa", Kind: KindLoginSession}}
	}
	tests := []struct {
		name     string
		parent   func(*Proc)
		child    Proc
		workload bool
		want     string
	}{
		{"plain child inherits", nil, Proc{Key: Key{PID: 101}, Exe: "ls", Cgroup: Cgroup{ID: 10}, LoginUID: 1000, SessionID: 3, SID: 90, TTY: "pts/0"}, true, ""},
		{"ci runner", nil, Proc{Key: Key{PID: 101}, Exe: "make", Cgroup: Cgroup{ID: 10}, LoginUID: 1000, SessionID: 3, SID: 90, CI: true}, true, KindCIRunner},
		{"new container", func(p *Proc) { p.Exe = "runc" }, Proc{Key: Key{PID: 101}, Exe: "sh", Cgroup: Cgroup{ID: 11}, LoginUID: 1000, SessionID: 3, SID: 90}, false, KindCgroup},
		{"runc exec into running container", func(p *Proc) { p.Exe = "runc"; p.Comm = "runc:[2:INIT]" },
			Proc{Key: Key{PID: 101}, Exe: "sh", Cgroup: Cgroup{ID: 11}, LoginUID: 1000, SessionID: 3, SID: 90}, true, KindContainerExec},
		{"containerd shim exec", func(p *Proc) { p.Exe = "containerd-shim-runc-v2" },
			Proc{Key: Key{PID: 101}, Exe: "bash", Cgroup: Cgroup{ID: 11}, LoginUID: 1000, SessionID: 3, SID: 90}, true, KindContainerExec},
		{"cron job", func(p *Proc) { p.Exe = "cron"; p.TTY = "" }, Proc{Key: Key{PID: 101}, Exe: "sh", Cgroup: Cgroup{ID: 10}, LoginUID: 1000, SessionID: 3, SID: 90}, true, KindCron},
		{"cron job in a new pam session", func(p *Proc) { p.Exe = "cron"; p.TTY = "" }, Proc{Key: Key{PID: 101}, Exe: "sh", Cgroup: Cgroup{ID: 12}, LoginUID: 0, SessionID: 9, SID: 101}, true, KindCron},
		{"atd job", func(p *Proc) { p.Exe = "atd" }, Proc{Key: Key{PID: 101}, Exe: "sh", Cgroup: Cgroup{ID: 10}, LoginUID: 1000, SessionID: 3, SID: 90}, true, KindCron},
		{"systemd service", func(p *Proc) { p.PID = 1; p.Exe = "systemd" }, Proc{Key: Key{PID: 101}, Exe: "xmrig", Cgroup: Cgroup{ID: 12}, LoginUID: 1000, SessionID: 3, SID: 101}, false, KindSystemd},
		{"user manager", func(p *Proc) { p.Exe = "systemd" }, Proc{Key: Key{PID: 101}, Exe: "xmrig", Cgroup: Cgroup{ID: 10}, LoginUID: 1000, SessionID: 3}, true, KindSystemd},
		{"ssh login", func(p *Proc) { p.Exe = "sshd"; p.LoginUID = 4294967295; p.SessionID = 4294967295 },
			Proc{Key: Key{PID: 101}, Exe: "bash", Cgroup: Cgroup{ID: 10}, LoginUID: 1000, SessionID: 7, SID: 101, TTY: "pts/1"}, true, KindLoginSession},
		{"new scope", func(p *Proc) { p.Exe = "sudo" }, Proc{Key: Key{PID: 101}, Exe: "ls", Cgroup: Cgroup{ID: 13}, LoginUID: 1000, SessionID: 3, SID: 90}, true, KindCgroup},
		{"web shell", func(p *Proc) { p.Exe = "php-fpm8.2"; p.TTY = "" }, Proc{Key: Key{PID: 101}, Exe: "dash", Cgroup: Cgroup{ID: 10}, LoginUID: 1000, SessionID: 3, SID: 90}, true, KindServiceShell},
		{"python service shell", func(p *Proc) { p.Exe = "python3.11"; p.TTY = "" }, Proc{Key: Key{PID: 101}, Exe: "sh", Cgroup: Cgroup{ID: 10}, LoginUID: 1000, SessionID: 3, SID: 90}, true, KindServiceShell},
		{"database shell", func(p *Proc) { p.Exe = "postgres"; p.TTY = "" }, Proc{Key: Key{PID: 101}, Exe: "bash", Cgroup: Cgroup{ID: 10}, LoginUID: 1000, SessionID: 3, SID: 90}, true, KindServiceShell},
		{"database child not shell", func(p *Proc) { p.Exe = "postgres"; p.TTY = "" }, Proc{Key: Key{PID: 101}, Exe: "pg_dump", Cgroup: Cgroup{ID: 10}, LoginUID: 1000, SessionID: 3, SID: 90}, true, ""},
		{"interactive shell from terminal", func(p *Proc) { p.Exe = "tmux: server" },
			Proc{Key: Key{PID: 101}, Exe: "bash", Cgroup: Cgroup{ID: 10}, LoginUID: 1000, SessionID: 3, SID: 101, TTY: "pts/2"}, true, KindInteractiveShell},
		{"sh -i without tty", func(p *Proc) { p.Exe = "nc"; p.TTY = "" },
			Proc{Key: Key{PID: 101}, Exe: "sh", Args: []string{"sh", "-i"}, Cgroup: Cgroup{ID: 10}, LoginUID: 1000, SessionID: 3, SID: 90}, true, KindInteractiveShell},
		{"subshell stays", nil, Proc{Key: Key{PID: 101}, Exe: "bash", Cgroup: Cgroup{ID: 10}, LoginUID: 1000, SessionID: 3, SID: 90, TTY: "pts/0"}, true, ""},
		{"sh -c is not interactive", func(p *Proc) { p.Exe = "make"; p.TTY = "" },
			Proc{Key: Key{PID: 101}, Exe: "sh", Args: []string{"sh", "-c", "echo -i"}, Cgroup: Cgroup{ID: 10}, LoginUID: 1000, SessionID: 3, SID: 90}, true, ""},
		{"nohup", nil, Proc{Key: Key{PID: 101}, Exe: "nohup", Cgroup: Cgroup{ID: 10}, LoginUID: 1000, SessionID: 3, SID: 90, TTY: "pts/0"}, true, KindDaemonized},
		{"container init is not daemonized", func(p *Proc) { p.Exe = "/"; p.Args = []string{"/usr/bin/runc", "init"}; p.TTY = "" },
			Proc{Key: Key{PID: 101}, Exe: "busybox", Args: []string{"sleep"}, Cgroup: Cgroup{ID: 10}, LoginUID: 1000, SessionID: 3, SID: 101}, true, ""},
		{"setsid without tty", nil, Proc{Key: Key{PID: 101}, Exe: "kworkerds", Cgroup: Cgroup{ID: 10}, LoginUID: 1000, SessionID: 3, SID: 101}, true, KindDaemonized},
		{"busybox as sh under nginx", func(p *Proc) { p.Exe = "nginx"; p.TTY = "" },
			Proc{Key: Key{PID: 101}, Exe: "busybox", Args: []string{"sh", "-c", "id"}, Cgroup: Cgroup{ID: 10}, LoginUID: 1000, SessionID: 3, SID: 90}, true, KindServiceShell},
		{"busybox wget under nginx", func(p *Proc) { p.Exe = "nginx"; p.TTY = "" },
			Proc{Key: Key{PID: 101}, Exe: "busybox", Args: []string{"wget", "x"}, Cgroup: Cgroup{ID: 10}, LoginUID: 1000, SessionID: 3, SID: 90}, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent := base()
			if tt.parent != nil {
				tt.parent(parent)
			}
			child := tt.child
			assert.Equal(t, tt.want, rule(parent, &child, tt.workload))
		})
	}
}

func TestTracker(t *testing.T) {
	tr := newContexts(16, "test-boot")
	boot := tr.boot("/system.slice/x.service")
	assert.Equal(t, KindBoot, boot.Kind)
	assert.Equal(t, boot, tr.boot("/system.slice/x.service"), "one boot context per cgroup")
	assert.NotEqual(t, boot.ID, tr.boot("/other").ID)
	entered := tr.enter("/libpod_parent/libpod-x")
	assert.Equal(t, KindCgroup, entered.Kind)
	assert.Equal(t, entered, tr.enter("/libpod_parent/libpod-x"))
	assert.Equal(t, boot, tr.enter("/system.slice/x.service"), "a cgroup seen at start keeps its boot context")

	assert.Equal(t, boot, tr.decide(nil, &Proc{Key: Key{PID: 5}, Cgroup: Cgroup{ID: 3, Path: "/system.slice/x.service"}}, true))

	parent := &Proc{Key: Key{PID: 4}, Exe: "cron", Cgroup: Cgroup{ID: 3}, Context: boot}
	got := tr.decide(parent, &Proc{Key: Key{PID: 5}, Exe: "sh", Cgroup: Cgroup{ID: 3, Path: "/system.slice/x.service"}}, false)
	assert.Equal(t, KindCron, got.Kind)
	assert.Equal(t, boot.ID, got.ParentID)
	assert.True(t, strings.HasPrefix(got.ID, "cron:"))
	parent = &Proc{Key: Key{PID: 5}, Exe: "sh", Cgroup: Cgroup{ID: 3}, Context: got}
	assert.Equal(t, got, tr.decide(parent, &Proc{Key: Key{PID: 6}, Exe: "curl", Cgroup: Cgroup{ID: 3, Path: "/system.slice/x.service"}}, false), "children inherit")

	assert.True(t, hasCIMarker("GITHUB_ACTIONS=true"))
	assert.False(t, hasCIMarker("GITHUB_TOKEN=x"))
}

// A podman run: runc init (re-executed from a memfd) enters the new cgroup, then conmon's child
// execs the workload there; both join one `cgroup` context. A later `podman exec` opens
// container_exec.
func TestTrackerContainerLifecycle(t *testing.T) {
	tr := newContexts(16, "test-boot")
	host := Context{ID: "boot:1", Kind: KindBoot}
	const cg = "/libpod_parent/libpod-abc"
	runcInit := &Proc{Key: Key{PID: 10}, Exe: "runc", Args: []string{"/usr/bin/runc", "init"}, Cgroup: Cgroup{ID: 1}, Context: host}
	initInCg := &Proc{Key: Key{PID: 10}, Exe: "/", Args: []string{"/usr/bin/runc", "init"}, Cgroup: Cgroup{ID: 2, Path: cg}}
	c1 := tr.decide(runcInit, initInCg, false)
	assert.Equal(t, KindCgroup, c1.Kind)
	assert.Equal(t, host.ID, c1.ParentID)

	conmon := &Proc{Key: Key{PID: 9}, Exe: "conmon", Cgroup: Cgroup{ID: 1}, Context: host}
	workload := &Proc{Key: Key{PID: 11}, Exe: "busybox", Args: []string{"sh"}, Cgroup: Cgroup{ID: 2, Path: cg}}
	assert.Equal(t, c1, tr.decide(conmon, workload, false), "one context per container start")

	execInit := &Proc{Key: Key{PID: 20}, Exe: "runc", Args: []string{"runc", "init"}, Cgroup: Cgroup{ID: 1}, Context: host}
	shell := &Proc{Key: Key{PID: 20}, Exe: "busybox", Args: []string{"sh"}, Cgroup: Cgroup{ID: 2, Path: cg}}
	c2 := tr.decide(execInit, shell, false)
	assert.Equal(t, KindContainerExec, c2.Kind)
	assert.NotEqual(t, c1.ID, c2.ID)
}

func TestIDsAreDeterministic(t *testing.T) {
	// The kernel gives start times in ns, procfs in 10 ms ticks: both name the same entry point.
	kernel := entryContextID("boot-a", KindDaemonized, 950, 60_012_345_678)
	procfs := entryContextID("boot-a", KindDaemonized, 950, 6001*10_000_000)
	assert.Equal(t, kernel, procfs)
	assert.Regexp(t, `^daemonized:[0-9a-f]{16}$`, kernel)
	assert.NotEqual(t, kernel, entryContextID("boot-b", KindDaemonized, 950, 60_012_345_678), "another boot")
	assert.NotEqual(t, kernel, entryContextID("boot-a", KindDaemonized, 951, 60_012_345_678), "another process")
	assert.NotEqual(t, kernel, entryContextID("boot-a", KindDaemonized, 950, 60_022_345_678), "a reused pid")
	assert.NotEqual(t, kernel, entryContextID("boot-a", KindCron, 950, 60_012_345_678), "another kind")

	a, b := newContexts(4, "boot-a"), newContexts(4, "boot-a")
	assert.Equal(t, a.boot("/user.slice"), b.boot("/user.slice"))
	assert.NotEqual(t, a.boot("/user.slice").ID, a.boot("/system.slice").ID)
	assert.NotEqual(t, a.boot("/x").ID, b.enter("/x").ID, "a boot and a cgroup context never share an id")
}
