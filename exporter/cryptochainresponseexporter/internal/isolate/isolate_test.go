package isolate

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDirRefuses(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "libpod_parent", "libpod-abc"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "file"), nil, 0o644))

	dir, err := Dir(root, "/libpod_parent/libpod-abc")
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(root, "libpod_parent", "libpod-abc"), dir)

	self, err := selfCgroup()
	require.NoError(t, err)
	for _, cg := range []string{"", "/", "libpod_parent/libpod-abc", "/libpod_parent/../libpod_parent/libpod-abc", "/libpod_parent/libpod-abc/", "/missing", "/file", self} {
		_, err := Dir(root, cg)
		assert.Error(t, err, "%q", cg)
	}
}

func TestFrozenReadsEvents(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "cgroup.events"), []byte("populated 1\nfrozen 1\n"), 0o644))
	f, err := Frozen(dir)
	require.NoError(t, err)
	assert.True(t, f)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "cgroup.events"), []byte("populated 1\n"), 0o644))
	_, err = Frozen(dir)
	assert.Error(t, err)
}
