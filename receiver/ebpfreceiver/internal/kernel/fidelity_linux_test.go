//go:build linux && amd64

package kernel

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/event"
)

// Every spelling of a watched file gives the path the kernel opened, and the watched-prefix filter
// matches on it: a respelled write is reported, an unwatched file reached through a watched-looking
// string is not.
func TestFileCanonicalPathEverySpelling(t *testing.T) {
	dir := t.TempDir()
	dir, err := filepath.EvalSymlinks(dir)
	require.NoError(t, err)
	cron := filepath.Join(dir, "cron.d")
	require.NoError(t, os.Mkdir(cron, 0o755))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "x"), 0o755))
	require.NoError(t, os.Symlink(cron, filepath.Join(dir, "link")))
	opts := allFamilies()
	opts.WatchedPrefixes = []string{cron + "/"}
	_, rec := startSource(t, opts)

	// a process whose cwd is the watched directory, for /proc/<pid>/cwd
	sleeper := exec.Command("sleep", "30")
	sleeper.Dir = cron
	require.NoError(t, sleeper.Start())
	t.Cleanup(func() { sleeper.Process.Kill(); sleeper.Wait() })

	spellings := map[string]string{
		"double-slash":    strings.Replace(dir, "/", "//", 1) + "//cron.d//a",
		"dot":             cron + "/./b",
		"dotdot":          dir + "/x/../cron.d/c",
		"symlinked-dir":   dir + "/link/d",
		"proc-self-root":  "/proc/self/root" + cron + "/e",
		"proc-pid-cwd":    fmt.Sprintf("/proc/%d/cwd/f", sleeper.Process.Pid),
		"creat-dotdot":    dir + "/link/../cron.d/g", // the symlink's parent is dir: ".." after a symlinked dir
		"trailing-dotdot": cron + "/../cron.d/h",
	}
	want := map[string]string{
		"double-slash": cron + "/a", "dot": cron + "/b", "dotdot": cron + "/c", "symlinked-dir": cron + "/d",
		"proc-self-root": cron + "/e", "proc-pid-cwd": cron + "/f", "creat-dotdot": cron + "/g", "trailing-dotdot": cron + "/h",
	}
	for name, p := range spellings {
		require.NoError(t, os.WriteFile(p, []byte("* * * * * root /bin/true\n"), 0o644), name)
	}
	// dirfd-relative: a descriptor of the symlinked directory, then "../cron.d/i" from it
	dfd, err := unix.Open(dir+"/link", unix.O_RDONLY|unix.O_DIRECTORY, 0)
	require.NoError(t, err)
	fd, err := unix.Openat(dfd, "../cron.d/i", unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC, 0o644)
	require.NoError(t, err)
	unix.Close(fd)
	unix.Close(dfd)
	want["dirfd-relative"] = cron + "/i"
	// an unwatched file reached through a string that only looks watched is not reported
	require.NoError(t, os.WriteFile(cron+"/../x/unwatched", nil, 0o644))
	// a failed open is reported by its name, canonicalised (nothing was opened to rebuild it from)
	_, err = os.OpenFile(cron+"/./nodir/j", os.O_WRONLY|os.O_CREATE, 0o644)
	require.Error(t, err)

	me := uint32(os.Getpid())
	for name, path := range want {
		ev := rec.wait(t, name, func(e *event.Event) bool {
			return e.Kind == event.KindFile && e.Proc.PID == me && e.File.Path == path
		})
		require.True(t, ev.File.Resolved, name)
		require.False(t, ev.File.Chroot, name)
		require.Zero(t, ev.File.Errno, name)
	}
	failed := rec.wait(t, "failed open", func(e *event.Event) bool {
		return e.Kind == event.KindFile && e.Proc.PID == me && e.File.Path == cron+"/nodir/j"
	})
	require.True(t, failed.File.Resolved)
	require.Equal(t, int32(unix.ENOENT), failed.File.Errno)
	for _, e := range rec.all() {
		if e.Kind == event.KindFile && e.Proc.PID == me {
			require.NotContains(t, e.File.Path, "unwatched")
			require.False(t, strings.Contains(e.File.Path, "//") || strings.Contains(e.File.Path, "/./") ||
				strings.Contains(e.File.Path, "/../"), "non-canonical path reported: %s", e.File.Path)
		}
	}
}

// A chrooted writer gets its path relative to its root and the chroot mark; a writer in a mount
// namespace of its own (as a runtime's pivot_root while unpacking an image) gets the namespace mark.
func TestFileChrootAndPrivateMountNamespace(t *testing.T) {
	for _, tool := range []string{"chroot", "unshare"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	root := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "bin"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(root, "etc/chainsim-cron.d"), 0o755))
	busybox, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Skip("busybox-static not installed")
	}
	require.NoError(t, os.WriteFile(filepath.Join(root, "bin/busybox"), busybox, 0o755))
	opts := allFamilies()
	opts.WatchedPrefixes = []string{"/etc/chainsim-cron.d/", root + "/ns/"}
	var st syscall.Stat_t
	require.NoError(t, syscall.Stat("/proc/self/ns/mnt", &st))
	opts.HostMountNS = uint32(st.Ino)
	_, rec := startSource(t, opts)

	chroot := exec.Command("chroot", root, "/bin/busybox", "sh", "-c", "echo '* * * * * root /x' > /etc/chainsim-cron.d/job")
	out, err := chroot.CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.NoError(t, os.MkdirAll(filepath.Join(root, "ns"), 0o755))
	unshare := exec.Command("unshare", "-m", "/bin/sh", "-c", "echo x > "+root+"/ns/job")
	out, err = unshare.CombinedOutput()
	require.NoError(t, err, "%s", out)

	ev := rec.wait(t, "chrooted write", func(e *event.Event) bool {
		return e.Kind == event.KindFile && e.File.Path == "/etc/chainsim-cron.d/job"
	})
	require.True(t, ev.File.Chroot)
	require.True(t, ev.File.Resolved)
	require.False(t, ev.File.OtherMountNS)
	ev = rec.wait(t, "write in a private mount namespace", func(e *event.Event) bool {
		return e.Kind == event.KindFile && e.File.Path == root+"/ns/job"
	})
	require.True(t, ev.File.OtherMountNS)
	require.False(t, ev.File.Chroot)
	// the host's own writes carry neither mark
	require.NoError(t, os.WriteFile(filepath.Join(root, "ns/host"), nil, 0o644))
	ev = rec.wait(t, "host write", func(e *event.Event) bool {
		return e.Kind == event.KindFile && e.File.Path == root+"/ns/host"
	})
	require.False(t, ev.File.OtherMountNS || ev.File.Chroot)
}

// A double fork whose middle process exits before the grandchild execs: the exec names the
// process that started the chain (the last one that exec'd), whatever its parent is by then.
func TestExecCreatorSurvivesReparenting(t *testing.T) {
	_, rec := startSource(t, allFamilies())
	// sh (exec'd) forks a subshell that forks a background subshell and exits at once; the background
	// subshell waits until it is an orphan, then execs.
	cmd := exec.Command("/bin/sh", "-c", `( ( sleep 0.3; exec /bin/true creator-orphan-marker ) & ); exit 0`)
	require.NoError(t, cmd.Run())
	shell := uint32(cmd.Process.Pid)
	ev := rec.wait(t, "orphan exec", func(e *event.Event) bool {
		return e.Kind == event.KindExec && len(e.Exec.Args) == 2 && string(e.Exec.Args[1]) == "creator-orphan-marker"
	})
	require.Equal(t, shell, ev.Exec.CreatorPID, "creator is the shell that started the chain")
	require.NotEqual(t, shell, ev.Proc.PPID, "the orphan was reparented")
	sh := rec.wait(t, "shell exec", func(e *event.Event) bool { return e.Kind == event.KindExec && e.Proc.PID == shell })
	require.Equal(t, sh.Proc.StartBootNS, ev.Exec.CreatorStart)
	// an ordinary fork+exec names its parent
	child := exec.Command("/bin/true", "creator-child-marker")
	require.NoError(t, child.Run())
	ev = rec.wait(t, "child exec", func(e *event.Event) bool {
		return e.Kind == event.KindExec && len(e.Exec.Args) == 2 && string(e.Exec.Args[1]) == "creator-child-marker"
	})
	require.Equal(t, uint32(os.Getpid()), ev.Exec.CreatorPID)
	require.Equal(t, ev.Proc.PPID, ev.Exec.CreatorPID)
}

// Flags placed after thousands of filler arguments are still captured: the end of argv is kept.
func TestExecPaddedArgvKeepsItsEnd(t *testing.T) {
	_, rec := startSource(t, allFamilies())
	args := make([]string, 0, 3010)
	for i := 0; i < 3000; i++ {
		args = append(args, fmt.Sprintf("--filler-%d", i))
	}
	args = append(args, "padded-argv-marker", "-o", "pool.example.test:443", "-u", "WALLET-AT-THE-END")
	require.NoError(t, exec.Command("/bin/true", args...).Run())
	ev := rec.wait(t, "padded exec", func(e *event.Event) bool {
		return e.Kind == event.KindExec && e.Exec.Argc == 3006 && string(e.Exec.Args[0]) == "/bin/true"
	})
	x := ev.Exec
	require.True(t, x.ArgsTruncated)
	require.Positive(t, x.ArgsTailAt)
	require.Positive(t, x.ArgsSkipped)
	n := len(x.Args)
	require.Equal(t, []string{"-o", "pool.example.test:443", "-u", "WALLET-AT-THE-END"},
		[]string{string(x.Args[n-4]), string(x.Args[n-3]), string(x.Args[n-2]), string(x.Args[n-1])})
	require.Equal(t, "--filler-0", string(x.Args[1]))
	// bytes: the whole argv is the head, the end and what was skipped
	total := len("/bin/true") + 1
	for _, a := range args {
		total += len(a) + 1
	}
	require.Equal(t, total, DefaultArgvMaxBytes+2048+x.ArgsSkipped)
}
