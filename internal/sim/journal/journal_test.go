package journal

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cryptochain-otel/cryptochain/internal/testutil"
)

func TestFileRestore(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "existing")
	require.NoError(t, os.WriteFile(existing, []byte("old"), 0o640))
	created := filepath.Join(dir, "created")
	tree := filepath.Join(dir, "tree")

	j, err := Open(filepath.Join(dir, "j", "journal.json"))
	require.NoError(t, err)
	require.NoError(t, j.WriteFile(existing, []byte("new"), 0o600))
	require.NoError(t, j.WriteFile(created, []byte("x"), 0o600))
	require.NoError(t, j.Created(tree))
	require.NoError(t, os.MkdirAll(filepath.Join(tree, "a", "b"), 0o755))

	// A second run refuses while this journal is pending.
	_, err = Open(filepath.Join(dir, "j", "journal.json"))
	assert.ErrorContains(t, err, "chainsim restore")

	// A run that died is restored from the file it left.
	loaded, err := Load(filepath.Join(dir, "j", "journal.json"))
	require.NoError(t, err)
	assert.Len(t, loaded.Entries(), 3)
	require.NoError(t, loaded.Restore())

	b, err := os.ReadFile(existing)
	require.NoError(t, err)
	assert.Equal(t, "old", string(b))
	st, err := os.Stat(existing)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o640), st.Mode().Perm())
	assert.NoFileExists(t, created)
	assert.NoDirExists(t, tree)
	assert.NoFileExists(t, filepath.Join(dir, "j", "journal.json"))
}

func TestRestoreKeepsGoingAndKeepsFailures(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "f")
	j, err := Open(filepath.Join(dir, "journal.json"))
	require.NoError(t, err)
	require.NoError(t, j.WriteFile(f, []byte("x"), 0o600))
	require.NoError(t, j.Undo("false"))
	err = j.Restore()
	assert.ErrorContains(t, err, "false")
	// The file was still removed, and the failed entry stays on disk for a retry.
	assert.NoFileExists(t, f)
	left, err := Load(filepath.Join(dir, "journal.json"))
	require.NoError(t, err)
	assert.Equal(t, []Entry{{Kind: KindCommand, Argv: []string{"false"}}}, left.Entries())
}

// TestProcAndCrontabRestore changes real host settings and puts them back.
func TestProcAndCrontabRestore(t *testing.T) {
	testutil.RequirePrivileged(t)
	if _, err := exec.LookPath("crontab"); err != nil {
		t.Fatalf("the cron package is needed: %v", err)
	}
	const hp = "/proc/sys/vm/nr_hugepages"
	before, err := os.ReadFile(hp)
	require.NoError(t, err)
	cronBefore, cronErr := exec.Command("crontab", "-l").Output()

	j, err := Open(filepath.Join(t.TempDir(), "journal.json"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = j.Restore() })
	require.NoError(t, j.WriteProc(hp, "3"))
	require.NoError(t, j.CrontabSave("root"))
	cmd := exec.Command("crontab", "-")
	cmd.Stdin = stringsReader(string(cronBefore) + "0 0 31 2 * /bin/true # journal test\n")
	require.NoError(t, cmd.Run())

	now, _ := exec.Command("crontab", "-l").Output()
	assert.Contains(t, string(now), "journal test")

	require.NoError(t, j.Restore())
	after, err := os.ReadFile(hp)
	require.NoError(t, err)
	assert.Equal(t, string(before), string(after))
	cronAfter, cronErrAfter := exec.Command("crontab", "-l").Output()
	assert.Equal(t, string(cronBefore), string(cronAfter))
	assert.Equal(t, cronErr == nil, cronErrAfter == nil)
}
