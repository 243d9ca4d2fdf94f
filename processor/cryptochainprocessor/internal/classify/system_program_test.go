package classify

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/evidence"
)

// Rules meant for a specific installed program match its full path, not its name: a copy of tee
// renamed dpkg, systemd-update or podman in /tmp, /dev/shm or a hidden directory is whatever it does.
func TestRulesForInstalledProgramsNeedTheirPath(t *testing.T) {
	c := newC(t)
	write := func(exe, path string) []evidence.Evidence {
		return c.Classify(&evidence.Event{Name: contract.EventFileWrite, PID: 7, Exe: exe, Path: path, Op: "create",
			Content: "* * * * * root /var/tmp/.x/kthreadd\n"})
	}
	// The installed package manager and systemd write units and tables: no evidence.
	for _, exe := range []string{"/usr/bin/dpkg", "/usr/bin/apt-get", "/usr/lib/systemd/systemd", "/usr/bin/systemd-tmpfiles", "/lib/systemd/systemd-sysv-install"} {
		assert.Empty(t, write(exe, "/etc/cron.d/job"), exe)
	}
	// Renamed copies (and the same names in places anyone can write) write persistence.
	for _, exe := range []string{"/tmp/dpkg", "/dev/shm/systemd-update", "/var/tmp/.x/apt", "/usr/bin/.cache/dpkg", "/home/bob/bin/systemd", "/usr/bin/x/dpkg"} {
		got := write(exe, "/etc/cron.d/job")
		require.Equal(t, []string{"persistence/strong/cron"}, summary(got), exe)
		assert.False(t, got[0].Delegated, "%s acts for itself", exe)
	}
	// A deleted or memfd image is no installed program, whatever its path said.
	got := c.Classify(&evidence.Event{Name: contract.EventFileWrite, Exe: "/usr/bin/dpkg", ExeDeleted: true, Path: "/etc/cron.d/job", Op: "create"})
	assert.Equal(t, []string{"persistence/strong/cron"}, summary(got))

	// A container runtime's writes are delegated only when it is the installed runtime.
	ev := &evidence.Event{Name: contract.EventFileWrite, Exe: "/usr/bin/podman", ExeName: "podman", Path: "/var/spool/cron/crontabs/root", Op: "create"}
	got = c.Classify(ev)
	require.Len(t, got, 1)
	assert.True(t, got[0].Delegated)
	ev.Exe = "/tmp/podman" // the receiver's executable name still says podman
	got = c.Classify(ev)
	require.Len(t, got, 1)
	assert.False(t, got[0].Delegated, "a copy named podman is not the runtime")

	// A kill by the installed service manager is its job; by a copy named like it, a kill.
	kill := func(exe string) []string {
		return summary(c.Classify(&evidence.Event{Name: contract.EventKill, PID: 9, Exe: exe, KillSignal: 9, KillTargetPID: 1234, KillTargetName: "sshd"}))
	}
	assert.Empty(t, kill("/usr/lib/systemd/systemd"))
	assert.Equal(t, []string{"optimization/weak/kill"}, kill("/tmp/systemd"))
}
