package quarantine

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestQuarantineRestoreRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cron.d", "job")
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	content := []byte("*/30 * * * * root /tmp/.x/xmrig -o pool:3333 >/dev/null 2>&1\n\x00binary\xff tail")
	require.NoError(t, os.WriteFile(path, content, 0o640))
	mtime := time.Date(2026, 11, 1, 2, 3, 4, 0, time.UTC)
	require.NoError(t, os.Chtimes(path, mtime, mtime))

	s := Store{Dir: filepath.Join(dir, "q")}
	it, err := s.Quarantine(path, "finding-1")
	require.NoError(t, err)
	assert.NoFileExists(t, path)
	assert.Equal(t, "finding-1", it.FindingID)
	assert.Equal(t, uint32(0o640), it.Mode)
	assert.Equal(t, os.Getuid(), it.UID)
	assert.Len(t, it.SHA256, 64)

	list, err := s.List()
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, it.ID, list[0].ID)
	assert.Nil(t, list[0].RestoredAt)

	// Restoring over a file that reappeared needs force.
	require.NoError(t, os.WriteFile(path, []byte("new"), 0o644))
	_, err = s.Restore(it.ID, false)
	require.ErrorContains(t, err, "exists")
	require.NoError(t, os.Remove(path))

	got, err := s.Restore(it.ID, false)
	require.NoError(t, err)
	require.NotNil(t, got.RestoredAt)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, content, b, "byte for byte")
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o640), fi.Mode().Perm())
	assert.True(t, fi.ModTime().Equal(mtime), "mtime %s", fi.ModTime())
	list, err = s.List()
	require.NoError(t, err)
	assert.NotNil(t, list[0].RestoredAt, "the manifest records the restore")
}

func TestQuarantineRefuses(t *testing.T) {
	dir := t.TempDir()
	s := Store{Dir: filepath.Join(dir, "q")}
	target := filepath.Join(dir, "target")
	require.NoError(t, os.WriteFile(target, []byte("x"), 0o644))
	link := filepath.Join(dir, "link")
	require.NoError(t, os.Symlink(target, link))
	linkedDir := filepath.Join(dir, "linkeddir")
	require.NoError(t, os.Symlink(dir, linkedDir))

	for name, path := range map[string]string{
		"symlink":              link,
		"symlink in the path":  filepath.Join(linkedDir, "target"),
		"directory":            dir,
		"relative":             "target",
		"unclean":              dir + "/../" + filepath.Base(dir) + "/target",
		"missing":              filepath.Join(dir, "missing"),
		"device (not regular)": "/dev/null",
	} {
		_, err := s.Quarantine(path, "f")
		assert.Error(t, err, name)
	}
	assert.FileExists(t, target, "nothing was moved")
	list, err := s.List()
	require.NoError(t, err)
	assert.Empty(t, list)
	_, err = s.Restore("../etc/passwd", false)
	assert.Error(t, err)
}
