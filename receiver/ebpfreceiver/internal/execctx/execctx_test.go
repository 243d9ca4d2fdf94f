package execctx

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRule(t *testing.T) {
	base := func() *Proc {
		return &Proc{PID: 100, ExeName: "bash", CgroupID: 10, LoginUID: 1000, SessionID: 3, SID: 90, TTY: "pts/0",
			Context: Context{ID: "login_session:aa", Kind: KindLoginSession}}
	}
	tests := []struct {
		name     string
		parent   func(*Proc)
		child    Proc
		workload bool
		want     string
	}{
		{"plain child inherits", nil, Proc{PID: 101, ExeName: "ls", CgroupID: 10, LoginUID: 1000, SessionID: 3, SID: 90, TTY: "pts/0"}, true, ""},
		{"ci runner", nil, Proc{PID: 101, ExeName: "make", CgroupID: 10, LoginUID: 1000, SessionID: 3, SID: 90, CI: true}, true, KindCIRunner},
		{"new container", func(p *Proc) { p.ExeName = "runc" }, Proc{PID: 101, ExeName: "sh", CgroupID: 11, LoginUID: 1000, SessionID: 3, SID: 90}, false, KindCgroup},
		{"runc exec into running container", func(p *Proc) { p.ExeName = "runc"; p.Comm = "runc:[2:INIT]" },
			Proc{PID: 101, ExeName: "sh", CgroupID: 11, LoginUID: 1000, SessionID: 3, SID: 90}, true, KindContainerExec},
		{"containerd shim exec", func(p *Proc) { p.ExeName = "containerd-shim-runc-v2" },
			Proc{PID: 101, ExeName: "bash", CgroupID: 11, LoginUID: 1000, SessionID: 3, SID: 90}, true, KindContainerExec},
		{"cron job", func(p *Proc) { p.ExeName = "cron"; p.TTY = "" }, Proc{PID: 101, ExeName: "sh", CgroupID: 10, LoginUID: 1000, SessionID: 3, SID: 90}, true, KindCron},
		{"cron job in a new pam session", func(p *Proc) { p.ExeName = "cron"; p.TTY = "" }, Proc{PID: 101, ExeName: "sh", CgroupID: 12, LoginUID: 0, SessionID: 9, SID: 101}, true, KindCron},
		{"atd job", func(p *Proc) { p.ExeName = "atd" }, Proc{PID: 101, ExeName: "sh", CgroupID: 10, LoginUID: 1000, SessionID: 3, SID: 90}, true, KindCron},
		{"systemd service", func(p *Proc) { p.PID = 1; p.ExeName = "systemd" }, Proc{PID: 101, ExeName: "xmrig", CgroupID: 12, LoginUID: 1000, SessionID: 3, SID: 101}, false, KindSystemd},
		{"user manager", func(p *Proc) { p.ExeName = "systemd" }, Proc{PID: 101, ExeName: "xmrig", CgroupID: 10, LoginUID: 1000, SessionID: 3}, true, KindSystemd},
		{"ssh login", func(p *Proc) { p.ExeName = "sshd"; p.LoginUID = 4294967295; p.SessionID = 4294967295 },
			Proc{PID: 101, ExeName: "bash", CgroupID: 10, LoginUID: 1000, SessionID: 7, SID: 101, TTY: "pts/1"}, true, KindLoginSession},
		{"new scope", func(p *Proc) { p.ExeName = "sudo" }, Proc{PID: 101, ExeName: "ls", CgroupID: 13, LoginUID: 1000, SessionID: 3, SID: 90}, true, KindCgroup},
		{"web shell", func(p *Proc) { p.ExeName = "php-fpm8.2"; p.TTY = "" }, Proc{PID: 101, ExeName: "dash", CgroupID: 10, LoginUID: 1000, SessionID: 3, SID: 90}, true, KindServiceShell},
		{"python service shell", func(p *Proc) { p.ExeName = "python3.11"; p.TTY = "" }, Proc{PID: 101, ExeName: "sh", CgroupID: 10, LoginUID: 1000, SessionID: 3, SID: 90}, true, KindServiceShell},
		{"database shell", func(p *Proc) { p.ExeName = "postgres"; p.TTY = "" }, Proc{PID: 101, ExeName: "bash", CgroupID: 10, LoginUID: 1000, SessionID: 3, SID: 90}, true, KindServiceShell},
		{"database child not shell", func(p *Proc) { p.ExeName = "postgres"; p.TTY = "" }, Proc{PID: 101, ExeName: "pg_dump", CgroupID: 10, LoginUID: 1000, SessionID: 3, SID: 90}, true, ""},
		{"interactive shell from terminal", func(p *Proc) { p.ExeName = "tmux: server" },
			Proc{PID: 101, ExeName: "bash", CgroupID: 10, LoginUID: 1000, SessionID: 3, SID: 101, TTY: "pts/2"}, true, KindInteractiveShell},
		{"sh -i without tty", func(p *Proc) { p.ExeName = "nc"; p.TTY = "" },
			Proc{PID: 101, ExeName: "sh", Args: []string{"sh", "-i"}, CgroupID: 10, LoginUID: 1000, SessionID: 3, SID: 90}, true, KindInteractiveShell},
		{"subshell stays", nil, Proc{PID: 101, ExeName: "bash", CgroupID: 10, LoginUID: 1000, SessionID: 3, SID: 90, TTY: "pts/0"}, true, ""},
		{"sh -c is not interactive", func(p *Proc) { p.ExeName = "make"; p.TTY = "" },
			Proc{PID: 101, ExeName: "sh", Args: []string{"sh", "-c", "echo -i"}, CgroupID: 10, LoginUID: 1000, SessionID: 3, SID: 90}, true, ""},
		{"nohup", nil, Proc{PID: 101, ExeName: "nohup", CgroupID: 10, LoginUID: 1000, SessionID: 3, SID: 90, TTY: "pts/0"}, true, KindDaemonized},
		{"container init is not daemonized", func(p *Proc) { p.ExeName = "/"; p.Args = []string{"/usr/bin/runc", "init"}; p.TTY = "" },
			Proc{PID: 101, ExeName: "busybox", Args: []string{"sleep"}, CgroupID: 10, LoginUID: 1000, SessionID: 3, SID: 101}, true, ""},
		{"setsid without tty", nil, Proc{PID: 101, ExeName: "kworkerds", CgroupID: 10, LoginUID: 1000, SessionID: 3, SID: 101}, true, KindDaemonized},
		{"busybox as sh under nginx", func(p *Proc) { p.ExeName = "nginx"; p.TTY = "" },
			Proc{PID: 101, ExeName: "busybox", Args: []string{"sh", "-c", "id"}, CgroupID: 10, LoginUID: 1000, SessionID: 3, SID: 90}, true, KindServiceShell},
		{"busybox wget under nginx", func(p *Proc) { p.ExeName = "nginx"; p.TTY = "" },
			Proc{PID: 101, ExeName: "busybox", Args: []string{"wget", "x"}, CgroupID: 10, LoginUID: 1000, SessionID: 3, SID: 90}, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent := base()
			if tt.parent != nil {
				tt.parent(parent)
			}
			child := tt.child
			assert.Equal(t, tt.want, Rule(parent, &child, tt.workload))
		})
	}
}

func TestTracker(t *testing.T) {
	tr := NewTracker(16, "test-boot")
	boot := tr.Boot("/system.slice/x.service")
	assert.Equal(t, KindBoot, boot.Kind)
	assert.Equal(t, boot, tr.Boot("/system.slice/x.service"), "one boot context per cgroup")
	assert.NotEqual(t, boot.ID, tr.Boot("/other").ID)
	entered := tr.Enter("/libpod_parent/libpod-x")
	assert.Equal(t, KindCgroup, entered.Kind)
	assert.Equal(t, entered, tr.Enter("/libpod_parent/libpod-x"))
	assert.Equal(t, boot, tr.Enter("/system.slice/x.service"), "a cgroup seen at start keeps its boot context")

	assert.Equal(t, boot, tr.Decide(nil, &Proc{PID: 5, CgroupID: 3}, "/system.slice/x.service", true))

	parent := &Proc{PID: 4, ExeName: "cron", CgroupID: 3, Context: boot}
	got := tr.Decide(parent, &Proc{PID: 5, ExeName: "sh", CgroupID: 3}, "/system.slice/x.service", false)
	assert.Equal(t, KindCron, got.Kind)
	assert.Equal(t, boot.ID, got.ParentID)
	assert.True(t, strings.HasPrefix(got.ID, "cron:"))
	parent = &Proc{PID: 5, ExeName: "sh", CgroupID: 3, Context: got}
	assert.Equal(t, got, tr.Decide(parent, &Proc{PID: 6, ExeName: "curl", CgroupID: 3}, "/system.slice/x.service", false), "children inherit")

	assert.True(t, HasCIMarker("GITHUB_ACTIONS=true"))
	assert.False(t, HasCIMarker("GITHUB_TOKEN=x"))
}

// A podman run: runc init (re-executed from a memfd) enters the new cgroup, then conmon's child
// execs the workload there; both join one `cgroup` context. A later `podman exec` opens
// container_exec.
func TestTrackerContainerLifecycle(t *testing.T) {
	tr := NewTracker(16, "test-boot")
	host := Context{ID: "boot:1", Kind: KindBoot}
	const cg = "/libpod_parent/libpod-abc"
	runcInit := &Proc{PID: 10, ExeName: "runc", Args: []string{"/usr/bin/runc", "init"}, CgroupID: 1, Context: host}
	initInCg := &Proc{PID: 10, ExeName: "/", Args: []string{"/usr/bin/runc", "init"}, CgroupID: 2}
	c1 := tr.Decide(runcInit, initInCg, cg, false)
	assert.Equal(t, KindCgroup, c1.Kind)
	assert.Equal(t, host.ID, c1.ParentID)

	conmon := &Proc{PID: 9, ExeName: "conmon", CgroupID: 1, Context: host}
	workload := &Proc{PID: 11, ExeName: "busybox", Args: []string{"sh"}, CgroupID: 2}
	assert.Equal(t, c1, tr.Decide(conmon, workload, cg, false), "one context per container start")

	execInit := &Proc{PID: 20, ExeName: "runc", Args: []string{"runc", "init"}, CgroupID: 1, Context: host}
	shell := &Proc{PID: 20, ExeName: "busybox", Args: []string{"sh"}, CgroupID: 2}
	c2 := tr.Decide(execInit, shell, cg, false)
	assert.Equal(t, KindContainerExec, c2.Kind)
	assert.NotEqual(t, c1.ID, c2.ID)
}

func TestIDsAreDeterministic(t *testing.T) {
	// The kernel gives start times in ns, procfs in 10 ms ticks: both name the same entry point.
	kernel := EntryID("boot-a", KindDaemonized, 950, 60_012_345_678)
	procfs := EntryID("boot-a", KindDaemonized, 950, 6001*10_000_000)
	assert.Equal(t, kernel, procfs)
	assert.Regexp(t, `^daemonized:[0-9a-f]{16}$`, kernel)
	assert.NotEqual(t, kernel, EntryID("boot-b", KindDaemonized, 950, 60_012_345_678), "another boot")
	assert.NotEqual(t, kernel, EntryID("boot-a", KindDaemonized, 951, 60_012_345_678), "another process")
	assert.NotEqual(t, kernel, EntryID("boot-a", KindDaemonized, 950, 60_022_345_678), "a reused pid")
	assert.NotEqual(t, kernel, EntryID("boot-a", KindCron, 950, 60_012_345_678), "another kind")

	a, b := NewTracker(4, "boot-a"), NewTracker(4, "boot-a")
	assert.Equal(t, a.Boot("/user.slice"), b.Boot("/user.slice"))
	assert.NotEqual(t, a.Boot("/user.slice").ID, a.Boot("/system.slice").ID)
	assert.NotEqual(t, a.Boot("/x").ID, b.Enter("/x").ID, "a boot and a cgroup context never share an id")
}
