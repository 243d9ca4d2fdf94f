//go:build linux

package readback

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func holdTestRoot(t *testing.T, dir string) *Root {
	t.Helper()
	r := holdDir(dir, RootWriter)
	require.NotNil(t, r)
	t.Cleanup(r.Close)
	return r
}

// A fifo, a device and a symlink at a watched path are refused without being opened (a fifo open
// would block, a device open has effects), a directory swapped for a link (absolute or relative)
// resolves inside the root and never reaches a file outside it, and a regular file is read bounded.
func TestReadInStaysInsideTheRoot(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "root")
	outside := filepath.Join(base, "outside")
	writeFile(t, filepath.Join(outside, "etc/cron.d/x"), "OUTSIDE")
	writeFile(t, filepath.Join(root, "etc/cron.d/plain"), "inside content")
	require.NoError(t, syscall.Mkfifo(filepath.Join(root, "etc/cron.d/fifo"), 0o600))
	require.NoError(t, os.Symlink(filepath.Join(outside, "etc/cron.d/x"), filepath.Join(root, "etc/cron.d/link")))
	// Directories swapped for links: absolute (to the outside path as the reader sees it) and relative.
	require.NoError(t, os.MkdirAll(filepath.Join(root, "var/spool/cron"), 0o755))
	require.NoError(t, os.Symlink(filepath.Join(outside, "etc/cron.d"), filepath.Join(root, "var/spool/cron/crontabs")))
	require.NoError(t, os.MkdirAll(filepath.Join(root, "etc/systemd"), 0o755))
	require.NoError(t, os.Symlink("../../../outside/etc/cron.d", filepath.Join(root, "etc/systemd/system")))
	require.NoError(t, os.Symlink("/proc/self/root"+outside, filepath.Join(root, "etc/profile.d")))

	r := holdTestRoot(t, root)
	rd := reader{timeout: 2 * time.Second, readFn: readIn}
	for _, tt := range []struct {
		path   string
		status string
		want   string
	}{
		{"/etc/cron.d/plain", StatusOK, "inside c"},
		{"etc/cron.d/../cron.d/plain", StatusOK, "inside c"},
		{"/etc/cron.d/fifo", StatusNotRegular, ""},
		{"/etc/cron.d", StatusNotRegular, ""},
		{"/etc/cron.d/link", StatusSymlink, ""},
		{"/var/spool/cron/crontabs/x", StatusMissing, ""},
		{"/etc/systemd/system/x", StatusMissing, ""},
		{"/../../outside/etc/cron.d/x", StatusMissing, ""},
		{"/etc/profile.d/etc/cron.d/x", StatusMissing, ""}, // /proc/self/root... is looked up inside the root too
	} {
		t.Run(tt.path, func(t *testing.T) {
			done := make(chan Result, 1)
			go func() { done <- rd.read(r, tt.path, 8, AnyOwner) }()
			select {
			case res := <-done:
				assert.Equal(t, tt.status, res.Status)
				assert.Equal(t, tt.want, string(res.Content))
				assert.NotContains(t, string(res.Content), "OUTSIDE")
			case <-time.After(5 * time.Second):
				t.Fatal("read-back blocked")
			}
		})
	}
	if os.Geteuid() == 0 {
		// /dev/null inside a root made with mknod: a device is refused, not opened.
		require.NoError(t, syscall.Mknod(filepath.Join(root, "etc/cron.d/dev"), syscall.S_IFCHR|0o600, 1<<8|3))
		assert.Equal(t, StatusNotRegular, rd.read(r, "/etc/cron.d/dev", 8, AnyOwner).Status)
	}
}

// An unprivileged writer's file is read only when it owns it: a directory it swapped for a link to
// someone else's file inside the same root is not read.
func TestReadInOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to own files as another user")
	}
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "home/u/.config/systemd/user/own.service"), "[Service]")
	require.NoError(t, os.Chown(filepath.Join(root, "home/u/.config/systemd/user/own.service"), 1000, 1000))
	writeFile(t, filepath.Join(root, "etc/shadow"), "root:secret")
	r := holdTestRoot(t, root)
	rd := reader{timeout: 2 * time.Second, readFn: readIn}
	assert.Equal(t, StatusOK, rd.read(r, "/home/u/.config/systemd/user/own.service", 64, 1000).Status)
	assert.Equal(t, StatusOwner, rd.read(r, "/etc/shadow", 64, 1000).Status)
	assert.Equal(t, "root:secret", string(rd.read(r, "/etc/shadow", 64, AnyOwner).Content), "a root writer may")
}

// A read that hangs (a stalled FUSE or network file system) is given up after the timeout, and
// once maxHung reads hang every read gives up at once, until they return.
func TestReaderTimeout(t *testing.T) {
	release := make(chan struct{})
	rd := reader{timeout: 20 * time.Millisecond, readFn: func(int, string, int, int64) ([]byte, string) {
		<-release
		return []byte("late"), StatusOK
	}}
	r := holdTestRoot(t, t.TempDir())
	for range maxHung {
		assert.Equal(t, StatusTimeout, rd.read(r, "/x", 8, AnyOwner).Status)
	}
	start := time.Now()
	assert.Equal(t, StatusTimeout, rd.read(r, "/x", 8, AnyOwner).Status)
	assert.Less(t, time.Since(start), 10*time.Millisecond, "no wait while too many hang")
	assert.Equal(t, uint64(maxHung+1), rd.timeouts.Load())
	close(release)
	require.Eventually(t, func() bool { return rd.hung.Load() == 0 }, time.Second, time.Millisecond)
	rd.readFn = func(int, string, int, int64) ([]byte, string) { return []byte("ok"), StatusOK }
	assert.Equal(t, "ok", string(rd.read(r, "/x", 8, AnyOwner).Content))
}
