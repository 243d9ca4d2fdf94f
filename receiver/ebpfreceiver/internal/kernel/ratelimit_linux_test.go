//go:build linux && amd64

package kernel

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/event"
)

// asNobody runs an sh script as an unprivileged user and returns its pid once it has exited.
func asNobody(t *testing.T, script string) uint32 {
	t.Helper()
	cmd := exec.Command("/bin/sh", "-c", script)
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534, Groups: []uint32{}}}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	return uint32(cmd.Process.Pid)
}

// tally counts, for one process, the file records sent in full and the records the summaries say
// were held back.
func tally(evs []event.Event, pid uint32, dir string) (full, held int, summaries []event.Suppressed) {
	for _, e := range evs {
		if e.Proc.PID != pid {
			continue
		}
		switch {
		case e.File != nil && strings.HasPrefix(e.File.Path, dir):
			full++
		case e.Suppressed != nil && e.Suppressed.Of == event.KindFile:
			held += int(e.Suppressed.Count)
			summaries = append(summaries, *e.Suppressed)
		}
	}
	return full, held, summaries
}

// TestRepeatedFailuresSummarised: an unprivileged loop fails to open the same watched path for
// write 20,000 times. The first failure of each window arrives in full, every other one is counted
// in a summary, and nothing is lost or counted twice.
func TestRepeatedFailuresSummarised(t *testing.T) {
	dir := "/etc/cron.d/"
	s, rec := startSource(t, event.Options{Files: true, WatchedPrefixes: []string{dir}})
	path := filepath.Join(dir, fmt.Sprintf("cryptochain-rl-%d", time.Now().UnixNano()))
	const n = 20000
	start := time.Now()
	pid := asNobody(t, fmt.Sprintf(`i=0; while [ $i -lt %d ]; do true > %s 2>/dev/null; i=$((i+1)); done`, n, path))
	took := time.Since(start)

	var full, held int
	var sums []event.Suppressed
	require.Eventually(t, func() bool {
		full, held, sums = tally(rec.all(), pid, dir)
		return full+held >= n
	}, 6*time.Second, 50*time.Millisecond, "full %d + held back %d of %d failing opens", func() int { return full }(), held, n)
	time.Sleep(2500 * time.Millisecond) // nothing may arrive twice
	full, held, sums = tally(rec.all(), pid, dir)
	assert.Equal(t, n, full+held, "every failing open is either sent or counted, once")
	windows := int(took/time.Second) + 1
	assert.LessOrEqual(t, full, windows+1, "one full record per window (%s of flood)", took)
	assert.GreaterOrEqual(t, full, 1, "the first failure is sent in full")
	for _, x := range sums {
		assert.Equal(t, path, x.Path)
		assert.Equal(t, int32(syscall.EACCES), x.Errno)
		assert.Equal(t, event.FileTruncate, x.Op) // sh opens with O_CREAT|O_TRUNC
	}
	st := s.Stats()
	assert.EqualValues(t, held, st.Suppressed[event.KindFile])
	assert.Eventually(t, func() bool { return rlEntries(s) == 0 }, 4*time.Second, 100*time.Millisecond,
		"idle entries are deleted, so the table keeps room")
	t.Logf("%d failing opens in %s: %d sent, %d held back in %d summaries", n, took.Round(time.Millisecond), full, held, len(sums))
}

// TestDistinctFailuresBudget: a new path each time still cannot flood: beyond the per-window budget
// of distinct contents, failures are counted together in one summary without a path.
func TestDistinctFailuresBudget(t *testing.T) {
	dir := "/etc/cron.d/"
	_, rec := startSource(t, event.Options{Files: true, WatchedPrefixes: []string{dir}})
	const n = 3000
	prefix := filepath.Join(dir, fmt.Sprintf("cryptochain-rl-%d-", time.Now().UnixNano()))
	start := time.Now()
	pid := asNobody(t, fmt.Sprintf(`i=0; while [ $i -lt %d ]; do true > %s$i 2>/dev/null; i=$((i+1)); done`, n, prefix))
	took := time.Since(start)

	var full, held int
	require.Eventually(t, func() bool {
		full, held, _ = tally(rec.all(), pid, dir)
		return full+held >= n
	}, 6*time.Second, 50*time.Millisecond)
	time.Sleep(2500 * time.Millisecond)
	full, held, sums := tally(rec.all(), pid, dir)
	assert.Equal(t, n, full+held)
	windows := int(took/time.Second) + 1
	assert.LessOrEqual(t, full, windows*int(probesRecordBoundRL_FIRSTS)+windows, "at most the budget per window in full")
	assert.GreaterOrEqual(t, full, int(probesRecordBoundRL_FIRSTS), "the budget's worth of first failures is sent in full")
	merged := 0
	for _, x := range sums {
		if x.Path == "" {
			merged++
		}
	}
	assert.Positive(t, merged, "the rest is merged into a summary without a path")
	t.Logf("%d failing opens of distinct paths in %s: %d sent, %d held back in %d summaries", n, took.Round(time.Millisecond), full, held, len(sums))
}

// rlEntries counts the rate limiter's table entries.
func rlEntries(s *Source) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var k, v []byte
	n := 0
	it := s.coll.Maps["ratelimit"].Iterate()
	for it.Next(&k, &v) {
		n++
	}
	return n
}
