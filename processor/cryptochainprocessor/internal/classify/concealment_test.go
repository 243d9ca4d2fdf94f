package classify

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/evidence"
)

func TestConcealment(t *testing.T) {
	c := newC(t)
	for _, tc := range []struct {
		name string
		ev   *evidence.Event
		want []string
	}{
		{"preload is concealment, not persistence", &evidence.Event{Name: contract.EventFileWrite, Path: "/etc/ld.so.preload", Op: "open", Content: "/usr/local/lib/libprocesshider.so\n"},
			[]string{"concealment/strong/preload"}},
		{"chattr +i on a cron table", exec("/usr/bin/chattr", "+i", "/etc/cron.d/0systemd"), []string{"concealment/strong/immutable"}},
		{"chattr -i is not hiding", exec("/usr/bin/chattr", "-i", "/etc/cron.d/0systemd"), nil},
		{"insmod of a rootkit", exec("/usr/sbin/insmod", "/tmp/.x/diamorphine.ko"), []string{"concealment/strong/kernel_module"}},
		{"modprobe of a module file", exec("/usr/sbin/modprobe", "/tmp/.x/hide.ko"), []string{"concealment/strong/kernel_module"}},
		{"modprobe msr stays optimization", exec("/usr/sbin/modprobe", "msr"), []string{"optimization/weak/msr"}},
		{"modprobe of a named module is an admin's", exec("/usr/sbin/modprobe", "br_netfilter"), nil},
		{"history wiped in a script", exec("/bin/bash", "-c", "history -c; rm -f /root/.bash_history; unset HISTFILE"), []string{"concealment/strong/log_wipe", "concealment/strong/log_wipe", "concealment/strong/log_wipe"}},
		{"history linked to /dev/null", exec("/bin/ln", "-sf", "/dev/null", "/root/.bash_history"), []string{"concealment/strong/log_wipe"}},
		{"logs shredded", exec("/usr/bin/shred", "-u", "/var/log/auth.log"), []string{"concealment/strong/log_wipe"}},
		{"journal vacuumed", exec("/usr/bin/journalctl", "--vacuum-time=1s"), []string{"concealment/strong/log_wipe"}},
		{"journal read", exec("/usr/bin/journalctl", "-u", "cron"), nil},
		{"rm of other files", exec("/bin/rm", "-rf", "/tmp/build"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, summary(c.Classify(tc.ev)))
		})
	}
}

func TestLDPreloadEnv(t *testing.T) {
	c := newC(t)
	ev := exec("/usr/bin/top")
	ev.EnvVars = []evidence.EnvVar{{Name: "LD_PRELOAD", Value: "/usr/lib/x86_64-linux-gnu/libprofiler.so"}}
	assert.Empty(t, summary(c.Classify(ev)), "an admin's profiler under /usr/lib")
	ev.EnvVars = []evidence.EnvVar{{Name: "LD_PRELOAD", Value: "/dev/shm/.lib/libhide.so"}}
	assert.Equal(t, []string{"concealment/strong/ld_preload"}, summary(c.Classify(ev)))
}

func TestShellStartupPersistence(t *testing.T) {
	c := newC(t)
	got := c.Classify(&evidence.Event{Name: contract.EventFileWrite, Path: "/etc/profile.d/update.sh", Op: "create",
		Content: "#!/bin/sh\nnohup /var/tmp/.x/kswapd0 -o pool.example.net:3333 >/dev/null 2>&1 &\n"})
	require.Equal(t, []string{"persistence/strong/shell"}, summary(got))
	assert.Equal(t, "nohup /var/tmp/.x/kswapd0 -o pool.example.net:3333 >/dev/null 2>&1 &", got[0].Command)
	assert.Equal(t, []string{"persistence/strong/shell"}, summary(c.Classify(&evidence.Event{Name: contract.EventFileWrite, Path: "/home/bob/.bashrc", Op: "open"})))
}

// A container runtime unpacking an image in a chroot writes the image's cron tables: the receiver
// marks the path as relative to that root, and it is no host persistence.
func TestChrootWriteIsNotPersistence(t *testing.T) {
	c := newC(t)
	ev := &evidence.Event{Name: contract.EventFileWrite, Exe: "/usr/bin/podman", Path: "/var/spool/cron/crontabs/root", Op: "create",
		Content: "* * * * * /usr/local/bin/job\n", FileRoot: "chroot"}
	assert.Empty(t, c.Classify(ev))
	ev.Path, ev.Content = "/etc/ld.so.preload", "/usr/lib/libx.so\n"
	assert.Empty(t, c.Classify(ev))
	// Unmarked (an older receiver): persistence of the runtime's own context, marked delegated so the
	// contexts opened from it do not inherit it.
	ev = &evidence.Event{Name: contract.EventFileWrite, Exe: "/usr/bin/podman", Path: "/var/spool/cron/crontabs/root", Op: "create"}
	got := c.Classify(ev)
	require.Equal(t, []string{"persistence/strong/cron"}, summary(got))
	assert.True(t, got[0].Delegated)
	ev.Exe = "/usr/bin/tee"
	got = c.Classify(ev)
	require.Len(t, got, 1)
	assert.False(t, got[0].Delegated)
}
