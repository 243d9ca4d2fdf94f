package usage

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func fakeProc(t *testing.T, root string, pid int, comm string, utime, stime, start uint64, rssPages int) {
	dir := filepath.Join(root, strconv.Itoa(pid))
	require.NoError(t, os.MkdirAll(dir, 0o755))
	stat := strconv.Itoa(pid) + " (" + comm + ") R 1 1 1 0 -1 4194560 100 0 0 0 " +
		strconv.FormatUint(utime, 10) + " " + strconv.FormatUint(stime, 10) + " 0 0 20 0 4 0 " +
		strconv.FormatUint(start, 10) + " 123456 789 18446744073709551615\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "stat"), []byte(stat), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "statm"), []byte("1000 "+strconv.Itoa(rssPages)+" 50 1 0 80 0\n"), 0o644))
}

func TestSampleReadsStatAndForgetsTheGone(t *testing.T) {
	root := t.TempDir()
	fakeProc(t, root, 42, "x m) (iner", 250, 50, 1234, 10) // a comm with spaces and parentheses
	fakeProc(t, root, 43, "reused", 1, 1, 9999, 1)
	w := New[string](root, 8)
	require.True(t, w.Watch(42, 1234*1e7, "miner"))
	require.True(t, w.Watch(43, 1000*1e7, "old")) // pid 43 now names a process started later
	require.True(t, w.Watch(44, 0, "gone"))
	got := map[string]Sample{}
	w.Sample(func(_ uint32, v string, s Sample) { got[v] = s })
	require.Len(t, got, 1)
	assert.InDelta(t, 3.0, got["miner"].CPUSeconds, 1e-9)
	assert.Equal(t, int64(10*os.Getpagesize()), got["miner"].RSSBytes)
	assert.Equal(t, 1, w.Len(), "the reused pid and the gone one are forgotten")
}

func TestWatchIsBounded(t *testing.T) {
	w := New[int](t.TempDir(), 2)
	assert.True(t, w.Watch(1, 0, 1))
	assert.True(t, w.Watch(2, 0, 2))
	assert.True(t, w.Watch(1, 0, 3), "refreshing a watched pid is not a new entry")
	assert.False(t, w.Watch(3, 0, 4))
	assert.False(t, w.Watch(3, 0, 4), "a refused process that connects again")
	assert.False(t, w.Watch(4, 0, 5))
	assert.Equal(t, uint64(2), w.Dropped(), "each refused process counts once")
	assert.Equal(t, 2, w.Len())

	// Beyond maxRefused remembered pids every refusal counts: a flood of fresh pids is never hidden.
	for pid := uint32(10); pid < 10+maxRefused+5; pid++ {
		w.Watch(pid, 0, 0)
	}
	w.Watch(10+maxRefused+1, 0, 0)
	assert.Equal(t, uint64(2+maxRefused+5+1), w.Dropped())
	assert.Len(t, w.refused, maxRefused)

	// A watched process goes (no procfs entry here): the slot frees, and a refused process that
	// shows up again is watched.
	w.Sample(func(uint32, int, Sample) {})
	assert.Zero(t, w.Len())
	assert.Empty(t, w.refused)
	assert.True(t, w.Watch(3, 0, 4))
}

func TestSampleOwnProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no procfs")
	}
	w := New[int]("/proc", 1)
	require.True(t, w.Watch(uint32(os.Getpid()), 0, 7))
	n := 0
	w.Sample(func(_ uint32, v int, s Sample) {
		n++
		assert.Equal(t, 7, v)
		assert.Positive(t, s.RSSBytes)
		assert.GreaterOrEqual(t, s.CPUSeconds, 0.0)
	})
	assert.Equal(t, 1, n)
}
