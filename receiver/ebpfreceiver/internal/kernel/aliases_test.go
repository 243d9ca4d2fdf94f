package kernel

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/event"
)

func TestSymlinkTarget(t *testing.T) {
	require.Equal(t, "/etc/cron.d", symlinkTarget("/tmp/l", "/etc//cron.d/"))
	require.Equal(t, "/etc/cron.d", symlinkTarget("/tmp/l", "../etc/./cron.d"))
	require.Equal(t, "/etc/cron.d", symlinkTarget("/tmp/a/l", "../../etc/cron.d"))
	require.Equal(t, "/etc", symlinkTarget("/tmp/l", "/proc/self/root/etc"))
	require.Equal(t, "/", symlinkTarget("/tmp/l", "/proc/thread-self/root"))
}

func TestAliasPrefixes(t *testing.T) {
	table := map[string]uint32{"/etc/cron.d/": pfxWatched, "/etc/crontab": pfxWatched, "/var/spool/cron/": pfxWatched}
	require.Equal(t, map[string]uint32{"/tmp/l/": pfxWatched}, aliasPrefixes(table, "/tmp/l", "/etc/cron.d"))
	require.Equal(t, map[string]uint32{"/tmp/l/": pfxWatched}, aliasPrefixes(table, "/tmp/l", "/var/spool/cron/crontabs"))
	require.Equal(t, map[string]uint32{"/tmp/e/cron.d/": pfxWatched, "/tmp/e/crontab": pfxWatched},
		aliasPrefixes(table, "/tmp/e", "/etc"))
	require.Equal(t, map[string]uint32{"/tmp/c": pfxWatched, "/tmp/c/": pfxWatched}, aliasPrefixes(table, "/tmp/c", "/etc/crontab"))
	// string prefixes, as the default table has them ("/etc/cron" covers "/etc/cron.d/")
	str := map[string]uint32{"/etc/cron": pfxWatched, "/etc/rc": pfxWatched}
	require.Equal(t, map[string]uint32{"/tmp/l/": pfxWatched}, aliasPrefixes(str, "/tmp/l", "/etc/cron.d"))
	require.Equal(t, map[string]uint32{"/tmp/e/cron": pfxWatched, "/tmp/e/rc": pfxWatched}, aliasPrefixes(str, "/tmp/e", "/etc"))
	require.Len(t, aliasPrefixes(table, "/tmp/r", "/"), 3)
	require.Nil(t, aliasPrefixes(table, "/tmp/u", "/usr/lib"), "a link to an unwatched place adds nothing")
	require.Nil(t, aliasPrefixes(table, "/tmp/u", "/etc/cron"), "a name that only begins like a watched one")
}

func TestPrefixAncestors(t *testing.T) {
	got := prefixAncestors(map[string]uint32{"/etc/cron.d/": pfxWatched, "/etc/crontab": pfxWatched, "/dev/cpu/": pfxAlways})
	require.Equal(t, map[string]uint8{"/": ancAbove, "/etc": ancAbove, "/etc/cron.d": ancWatchedDir}, got)
}

// A link reported by the kernel adds its prefixes within the budget, paths through it are
// rewritten to where it leads, and what does not fit is counted.
func TestAliasWatch(t *testing.T) {
	put := map[string]uint32{}
	dirs := map[string]uint8{}
	a := newAliasWatch(map[string]uint32{"/etc/cron.d/": pfxWatched, "/etc/crontab": pfxWatched}, 3,
		func(p string, f uint32) error { put[p] = f; return nil },
		func(d string, k uint8) error { dirs[d] = k; return nil })
	rename := &event.File{Op: event.FileRename, Path: "/tmp/l/x", SourcePath: "/tmp/y"}
	a.note(rename)
	require.Equal(t, "/tmp/l/x", rename.Path, "no link yet")

	a.note(&event.File{Op: event.FileSymlink, Path: "/tmp/l", SourcePath: "/etc/cron.d"})
	require.Equal(t, map[string]uint32{"/tmp/l/": pfxWatched}, put)
	require.Equal(t, uint8(ancWatchedDir), dirs["/tmp/l"], "a link to the link is an alias too")
	a.note(rename)
	require.Equal(t, "/etc/cron.d/x", rename.Path)

	a.note(&event.File{Op: event.FileSymlink, Path: "/tmp/m", SourcePath: "/tmp/l"})
	require.Equal(t, pfxWatched, int(put["/tmp/m/"]))
	chmod := &event.File{Op: event.FileChmod, Path: "/tmp/m/z"}
	a.note(chmod)
	require.Equal(t, "/etc/cron.d/z", chmod.Path, "a link to a link")

	a.note(&event.File{Op: event.FileSymlink, Path: "/tmp/e", SourcePath: "/etc"})
	require.Equal(t, uint64(3), a.added.Load())
	require.Equal(t, uint64(1), a.dropped.Load(), "the budget of 3 is spent")

	failed := &event.File{Op: event.FileSymlink, Path: "/tmp/f", SourcePath: "/etc/cron.d", Errno: 17}
	a.note(failed)
	require.Equal(t, uint64(3), a.added.Load(), "a failed symlink adds nothing")
	contained := &event.File{Op: event.FileSymlink, Path: "/tmp/g", SourcePath: "/etc/cron.d", OtherMountNS: true}
	a.note(contained)
	require.NotContains(t, put, "/tmp/g/", "another mount namespace's paths mean something else here")
}
