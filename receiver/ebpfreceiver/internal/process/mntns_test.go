//go:build linux

package process

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHostMountNamespace(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "1/ns"), 0o755))
	p := filepath.Join(root, "1/ns/mnt")
	require.NoError(t, os.WriteFile(p, nil, 0o644))
	var st syscall.Stat_t
	require.NoError(t, syscall.Stat(p, &st))
	assert.Equal(t, uint32(st.Ino), HostMountNamespace(root), "pid 1's namespace under the procfs root")

	require.NoError(t, syscall.Stat("/proc/self/ns/mnt", &st))
	assert.Equal(t, uint32(st.Ino), HostMountNamespace(t.TempDir()), "pid 1 unreadable: the receiver's own")
}
