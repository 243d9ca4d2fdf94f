//go:build linux && amd64

package kernel

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/event"
)

// canonDirs makes dir/cron.d (watched), dir/x (not watched) and returns them with the source.
func canonDirs(t *testing.T) (dir, cron string, src *Source, rec *recorder) {
	t.Helper()
	dir, err := filepath.EvalSymlinks(t.TempDir())
	require.NoError(t, err)
	cron = filepath.Join(dir, "cron.d")
	require.NoError(t, os.Mkdir(cron, 0o755))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "x"), 0o755))
	opts := allFamilies()
	opts.WatchedPrefixes = []string{cron + "/"}
	src, rec = startSource(t, opts)
	return dir, cron, src, rec
}

// unwatchedFile makes a file outside the watched directory to rename, link or chmod into it.
func unwatchedFile(t *testing.T, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, "x", name)
	require.NoError(t, os.WriteFile(p, []byte("* * * * * root /bin/true\n"), 0o644))
	return p
}

// Every spelling of a rename, link, symlink or chmod destination in a watched directory is matched
// and reported by its canonical path: the directory from kernel objects (cwd, dirfd, root,
// /proc/self/fd/N), the rest folded. The unwatched control proves the filter still filters.
func TestFileNameOpsCanonicalEverySpelling(t *testing.T) {
	dir, cron, _, rec := canonDirs(t)
	me := os.Getpid()
	pid := strconv.Itoa(me)
	wd, err := os.Getwd()
	require.NoError(t, err)
	t.Cleanup(func() { os.Chdir(wd) })

	spellings := map[string]string{
		"double-slash":    strings.Replace(dir, "/", "//", 1) + "//cron.d//r1",
		"dot":             cron + "/./r2",
		"dotdot":          dir + "/x/../cron.d/r3",
		"dotdot-deep":     dir + "/x/../../" + filepath.Base(dir) + "/cron.d/r4",
		"proc-self-root":  "/proc/self/root" + cron + "/r5",
		"proc-tself-root": "/proc/thread-self/root/" + cron + "/r6",
		"proc-pid-root":   "/proc/" + pid + "/root" + cron + "/r7",
		"trailing-dot":    cron + "/../cron.d/./r8",
		"proc-respelled":  "/proc//self/./root" + cron + "/r9",
		// padding that would push the watched directory past the first 256 bytes of the name
		"padded": dir + strings.Repeat("/.", 150) + "/cron.d/r10",
	}
	want := map[string]string{}
	for name, p := range spellings {
		require.NoError(t, unix.Rename(unwatchedFile(t, dir, name), p), name)
		want["rename "+name] = cron + "/" + filepath.Base(p)
	}
	// relative to the cwd, and through the cwd's /proc entry
	require.NoError(t, os.Chdir(cron))
	require.NoError(t, unix.Rename(unwatchedFile(t, dir, "rel"), "rel1"))
	want["rename relative"] = cron + "/rel1"
	require.NoError(t, unix.Rename(unwatchedFile(t, dir, "rel2"), "../cron.d/./rel2"))
	want["rename relative dotdot"] = cron + "/rel2"
	require.NoError(t, unix.Rename(unwatchedFile(t, dir, "cwd"), "/proc/self/cwd/c1"))
	want["rename proc-self-cwd"] = cron + "/c1"
	require.NoError(t, unix.Rename(unwatchedFile(t, dir, "cwd2"), "/proc/"+pid+"/cwd/c2"))
	want["rename proc-pid-cwd"] = cron + "/c2"
	require.NoError(t, os.Chdir(wd))
	// a descriptor of the watched directory with a bare name, and through /proc/self/fd/N
	dfd, err := unix.Open(cron, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	require.NoError(t, err)
	defer unix.Close(dfd)
	require.NoError(t, unix.Renameat(unix.AT_FDCWD, unwatchedFile(t, dir, "dfd"), dfd, "d1"))
	want["renameat dirfd"] = cron + "/d1"
	require.NoError(t, unix.Renameat2(unix.AT_FDCWD, unwatchedFile(t, dir, "dfd2"), dfd, "d2", unix.RENAME_NOREPLACE))
	want["renameat2 dirfd"] = cron + "/d2"
	require.NoError(t, unix.Rename(unwatchedFile(t, dir, "fd"), "/proc/self/fd/"+strconv.Itoa(dfd)+"/d3"))
	want["rename proc-self-fd"] = cron + "/d3"
	// link, symlink and chmod by respelled names
	require.NoError(t, unix.Link(unwatchedFile(t, dir, "l"), cron+"/../cron.d//l1"))
	want["link"] = cron + "/l1"
	require.NoError(t, unix.Linkat(unix.AT_FDCWD, unwatchedFile(t, dir, "l2"), dfd, "l2", 0))
	want["linkat dirfd"] = cron + "/l2"
	require.NoError(t, unix.Symlink("/bin/true", "/proc/self/root/"+cron+"/s1"))
	want["symlink"] = cron + "/s1"
	require.NoError(t, unix.Symlinkat("/bin/true", dfd, "s2"))
	want["symlinkat dirfd"] = cron + "/s2"
	require.NoError(t, unix.Chmod(dir+"/x/./../cron.d//r1", 0o755))
	want["chmod"] = cron + "/r1"
	require.NoError(t, unix.Fchmodat(dfd, "r2", 0o700, 0))
	want["fchmodat dirfd"] = cron + "/r2"
	// controls: an unwatched destination that only looks watched is not reported
	require.NoError(t, unix.Rename(unwatchedFile(t, dir, "ctl"), cron+"/../x/unwatched-ctl"))
	require.NoError(t, unix.Chmod(cron+"/../x/unwatched-ctl", 0o700))

	for name, path := range want {
		op := strings.TrimSuffix(strings.TrimSuffix(strings.Fields(name)[0], "2"), "at")
		op = strings.TrimPrefix(op, "f")
		ev := rec.wait(t, name, func(e *event.Event) bool {
			return e.Kind == event.KindFile && e.Proc.PID == uint32(me) && e.File.Path == path && e.File.Op == op
		})
		require.True(t, ev.File.Resolved, name)
		require.Zero(t, ev.File.Errno, name)
	}
	for _, e := range rec.all() {
		if e.Kind == event.KindFile && e.Proc.PID == uint32(me) {
			require.NotContains(t, e.File.Path, "unwatched-ctl")
			require.False(t, strings.Contains(e.File.Path, "//") || strings.Contains(e.File.Path, "/./") ||
				strings.Contains(e.File.Path, "/../") || strings.HasPrefix(e.File.Path, "/proc/"),
				"non-canonical path reported: %s", e.File.Path)
		}
	}
}

// A symlinked directory cannot be followed by name in BPF: a symlink made during the run that
// leads to a watched directory is reported, and from then on renames, links and chmods through it
// are reported by where they land. The kernel watches a link to a watched directory at once (a
// rename right after it is seen); a link to a directory above one is watched by user space.
func TestFileSymlinkedDirectoryRoute(t *testing.T) {
	dir, cron, _, rec := canonDirs(t)
	me := uint32(os.Getpid())
	link := filepath.Join(dir, "x", "l")
	require.NoError(t, os.Symlink(cron, link))
	// at once, no pause: the kernel already watches the link
	require.NoError(t, unix.Rename(unwatchedFile(t, dir, "a"), link+"/a1"))
	require.NoError(t, unix.Chmod(link+"//a1", 0o755))
	// a link to the directory above (user space adds <link>/cron.d/ when it reads the symlink)
	up := filepath.Join(dir, "x", "up")
	require.NoError(t, os.Symlink("../", up)) // relative: dir/x/up -> dir
	rec.wait(t, "symlink above", func(e *event.Event) bool {
		return e.Kind == event.KindFile && e.File.Op == event.FileSymlink && e.File.Path == up
	})
	time.Sleep(50 * time.Millisecond)
	require.NoError(t, unix.Rename(unwatchedFile(t, dir, "b"), up+"/cron.d/b1"))
	// control: a link to an unwatched directory is not followed, renames through it are not reported
	other := filepath.Join(dir, "x", "other")
	require.NoError(t, os.Symlink(filepath.Join(dir, "x"), other))
	require.NoError(t, unix.Rename(unwatchedFile(t, dir, "c"), other+"/unwatched-ctl"))

	ev := rec.wait(t, "symlink to the watched directory", func(e *event.Event) bool {
		return e.Kind == event.KindFile && e.File.Op == event.FileSymlink && e.File.Path == link
	})
	require.Equal(t, cron, ev.File.SourcePath, "the target as written")

	for name, want := range map[string]string{"rename": cron + "/a1", "chmod": cron + "/a1"} {
		rec.wait(t, name+" through the link", func(e *event.Event) bool {
			return e.Kind == event.KindFile && e.Proc.PID == me && e.File.Op == name && e.File.Path == want
		})
	}
	rec.wait(t, "rename through the link above", func(e *event.Event) bool {
		return e.Kind == event.KindFile && e.Proc.PID == me && e.File.Op == event.FileRename && e.File.Path == cron+"/b1"
	})
	for _, e := range rec.all() {
		if e.Kind == event.KindFile {
			require.NotContains(t, e.File.Path, "unwatched-ctl")
			require.NotEqual(t, other, e.File.Path)
		}
	}
}
