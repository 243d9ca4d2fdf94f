//go:build unix

package process

import (
	"io/fs"
	"syscall"
)

// inode is the inode number of a walked directory: a cgroup's id.
func inode(info fs.FileInfo) (uint64, bool) {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return st.Ino, true
}

// statInode is the inode number of a path, 0 when it cannot be stat'ed.
func statInode(name string) uint64 {
	var st syscall.Stat_t
	if syscall.Stat(name, &st) != nil {
		return 0
	}
	return st.Ino
}
