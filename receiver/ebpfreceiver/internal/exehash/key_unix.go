//go:build unix

package exehash

import (
	"os"
	"syscall"
)

// keyOf is the identity of an open file, from fstat.
func keyOf(f *os.File) (Key, bool) {
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return Key{}, false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return Key{}, false
	}
	return Key{Dev: uint64(st.Dev), Ino: st.Ino, MtimeNS: fi.ModTime().UnixNano(), Size: fi.Size()}, true
}
