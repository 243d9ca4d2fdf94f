package netns

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
)

// Identify returns the name of the named namespace (under /run/netns) the
// calling thread is in, like `ip netns identify`, or "" when none matches.
func Identify() (string, error) {
	var self syscall.Stat_t
	if err := syscall.Stat("/proc/thread-self/ns/net", &self); err != nil {
		return "", err
	}
	entries, err := os.ReadDir("/run/netns")
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	for _, e := range entries {
		var st syscall.Stat_t
		if syscall.Stat(filepath.Join("/run/netns", e.Name()), &st) == nil && st.Dev == self.Dev && st.Ino == self.Ino {
			return e.Name(), nil
		}
	}
	return "", nil
}
