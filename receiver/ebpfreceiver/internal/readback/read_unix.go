//go:build unix

package readback

import (
	"errors"
	"io"
	"os"
	"syscall"
)

// readRegularHead opens without blocking (a fifo planted at a watched path must not hang the
// reader) or following a final symlink, and reads at most n bytes of a regular file.
func readRegularHead(name string, n int) ([]byte, error) {
	f, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOFOLLOW|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	return io.ReadAll(io.LimitReader(f, int64(n)))
}
