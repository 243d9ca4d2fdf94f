//go:build linux

package readback

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cryptochain-otel/cryptochain/internal/testutil"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/event"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/process"
)

// A real chrooted writer: its persistence directories are swapped for links to the host paths of
// files outside its root (absolute links, relative links climbing out, a fifo). Reading through
// /proc/<pid>/root/<path> would follow them out to the host files; the read-back resolves them
// inside the root, reads nothing outside it and never blocks. Through the whole flow (Hold, queue,
// worker) and after the writer exited.
func TestChrootedWriterCannotLeadReadBackOut(t *testing.T) {
	testutil.RequirePrivileged(t)
	bb, err := exec.LookPath("busybox")
	if err != nil {
		t.Skip("busybox (static) is needed inside the chroot")
	}
	base := t.TempDir()
	root := filepath.Join(base, "jail")
	secret := filepath.Join(base, "host-secret")
	writeFile(t, filepath.Join(secret, "miner"), "HOST SECRET: outside the writer's root\n")
	writeFile(t, filepath.Join(root, "etc/cron.d/own"), "* * * * * root /inside\n")
	require.NoError(t, os.MkdirAll(filepath.Join(root, "bin"), 0o755))
	b, err := os.ReadFile(bb)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(root, "bin/busybox"), b, 0o755))
	// Directories at persistence paths swapped for links that point out of the root.
	require.NoError(t, os.MkdirAll(filepath.Join(root, "etc/systemd"), 0o755))
	require.NoError(t, os.Symlink(secret, filepath.Join(root, "etc/systemd/system")))
	require.NoError(t, os.MkdirAll(filepath.Join(root, "var/spool/cron"), 0o755))
	require.NoError(t, os.Symlink(strings.Repeat("../", 8)+strings.TrimPrefix(secret, "/"), filepath.Join(root, "var/spool/cron/crontabs")))
	require.NoError(t, syscall.Mkfifo(filepath.Join(root, "etc/cron.d/fifo"), 0o644))

	cmd := exec.Command("chroot", root, "/bin/busybox", "sleep", "30")
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	pid := uint32(cmd.Process.Pid)
	var procRoot string
	require.Eventually(t, func() bool {
		l, err := os.Readlink(filepath.Join("/proc", itoa(pid), "root"))
		procRoot = l
		return err == nil && l == root
	}, 5*time.Second, 10*time.Millisecond, "the writer is chrooted")
	t.Logf("writer %d runs in %s", pid, procRoot)

	// The old way escapes: the kernel follows the absolute link from the reader's own root.
	escaped, err := os.ReadFile(filepath.Join("/proc", itoa(pid), "root", "etc/systemd/system/miner"))
	require.NoError(t, err, "the test must be able to fail: /proc/<pid>/root/<path> follows the link out")
	require.Contains(t, string(escaped), "HOST SECRET")

	var c collected
	w := NewWorker()
	p := NewPersistence("/proc", "/", 4096, w, c.emit)
	actor := process.Actor{Context: process.Context{ID: "chroot:1"}}
	for _, path := range []string{"/etc/cron.d/own", "/etc/systemd/system/miner", "/var/spool/cron/crontabs/miner", "/etc/cron.d/fifo"} {
		ev := &event.Event{Kind: event.KindFile, Proc: event.Process{PID: pid, Comm: "busybox"},
			File: &event.File{Op: event.FileCreate, Path: path}}
		held, _ := p.Hold(ev, &actor, time.Now())
		require.True(t, held)
	}
	// The writer exits before its files are read: its root is still held.
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	runWorker(t, w)
	require.Eventually(t, func() bool { return c.len() == 4 }, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, Result{Content: []byte("* * * * * root /inside\n"), Status: StatusOK, Root: RootWriter}, c.of("/etc/cron.d/own"))
	assert.Equal(t, Result{Status: StatusMissing, Root: RootWriter}, c.of("/etc/systemd/system/miner"))
	assert.Equal(t, Result{Status: StatusMissing, Root: RootWriter}, c.of("/var/spool/cron/crontabs/miner"))
	assert.Equal(t, Result{Status: StatusNotRegular, Root: RootWriter}, c.of("/etc/cron.d/fifo"))
	for path, res := range c.got {
		assert.NotContains(t, string(res.Content), "HOST SECRET", path)
	}
}

func itoa(n uint32) string { return strconv.FormatUint(uint64(n), 10) }
