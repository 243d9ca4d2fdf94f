//go:build unix

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

// A fifo or a symlink planted at a watched path neither blocks nor redirects the read.
func TestReadHeadRefusesFifoAndSymlink(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	secret := filepath.Join(dir, "secret")
	writeFile(t, secret, "s3cret")
	link := filepath.Join(dir, "link")
	require.NoError(t, os.Symlink(secret, link))
	done := make(chan struct{})
	go func() {
		defer close(done)
		assert.Nil(t, readHead(fifo, 16))
		assert.Nil(t, readHead(link, 16))
		assert.Equal(t, []byte("s3cret"), readHead(secret, 16))
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("reading a fifo blocked")
	}
}
