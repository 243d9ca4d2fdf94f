package chain

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
	ev "github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/evidence"
)

func shellExec(p proc, at time.Duration, cmd string) *ev.Event {
	e := event(contract.EventExec, p, at)
	e.Exe, e.Filename, e.Args, e.CmdLine = "/bin/dash", "/bin/sh", []string{"/bin/sh", "-c", cmd}, "/bin/sh -c "+cmd
	return e
}

// The execs kept for late links are bounded, whatever an attacker runs.
func TestPendingBounded(t *testing.T) {
	tr := newTracker()
	for i := range 5000 {
		ingest(tr, fmt.Sprintf("cron:%d", i), "", shellExec(proc{pid: int64(100 + i), ppid: 1}, time.Duration(i)*time.Millisecond, "/tmp/x"))
	}
	assert.Len(t, tr.pending.ring, maxPending)
	assert.Positive(t, tr.pending.bytes)
	assert.LessOrEqual(t, tr.pending.bytes, tr.Bytes(), "counted in the state's bytes")
	assert.LessOrEqual(t, len(tr.pending.byKey), maxPending)
	assert.Zero(t, tr.Len(), "benign execs keep no context state")
	// An ordinary exec (no -c, not a child of pid 1, no evidence) is not kept.
	tr = newTracker()
	ingest(tr, "ssh:1", "", event(contract.EventExec, proc{pid: 5, ancestors: []int64{4, 1}}, 0))
	assert.Empty(t, tr.pending.ring)
}

// A persistence write that arrives after the re-spawn links it only within the order window.
func TestLateLinkWindow(t *testing.T) {
	for _, tc := range []struct {
		name string
		exec time.Duration // exec time relative to the write
		want Level
	}{
		{"ran 200ms after the write", 200 * time.Millisecond, High},
		{"ran 9s after the write", 9 * time.Second, High},
		{"ran a minute after the write", time.Minute, Medium},
		{"ran before the write", -5 * time.Second, Medium},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTracker()
			write := 10 * time.Minute
			miner := proc{pid: 301, ancestors: []int64{300, 1}}
			ingest(tr, "cron:7", "", shellExec(proc{pid: 300, ppid: 1, ancestors: []int64{1}}, write+tc.exec, persist.Command))
			ingest(tr, "cron:7", "", event(contract.EventExec, miner, write+tc.exec+time.Millisecond), minerStrong)
			fs := ingest(tr, "cron:7", "", event(contract.EventDNSQuery, miner, write+tc.exec+2*time.Millisecond), poolStrong)
			require.Len(t, fs, 1)
			id := fs[0].ID
			fs = ingest(tr, "ssh:1", "", event(contract.EventFileWrite, proc{pid: 50, ancestors: []int64{1}}, write), persist)
			c := tr.contexts["cron:7"]
			assert.Equal(t, tc.want, max(c.Level, c.Sent))
			if tc.want == High {
				require.Len(t, fs, 1)
				assert.Equal(t, id, fs[0].ID, "the escalation keeps the finding id")
			}
		})
	}
}

// An unprivileged flood of bare "sh -c" execs (5000 from one session, then one each from 2000
// contexts that session opens, then 200 cron jobs of another writer) cannot push out the re-spawn
// that cron ran before its table's content arrived: the late write still links it. What the budgets
// dropped is counted.
func TestPendingFloodCannotFlushRespawn(t *testing.T) {
	tr := newTracker()
	write := 10 * time.Minute
	miner := proc{pid: 301, ancestors: []int64{300, 1}}
	ingest(tr, "cron:7", "systemd:cron", shellExec(proc{pid: 300, ppid: 1, ancestors: []int64{1}}, write+200*time.Millisecond, persist.Command))
	ingest(tr, "cron:7", "systemd:cron", event(contract.EventExec, miner, write+201*time.Millisecond), minerStrong)
	fs := ingest(tr, "cron:7", "systemd:cron", event(contract.EventDNSQuery, miner, write+202*time.Millisecond), poolStrong)
	require.Len(t, fs, 1)
	id := fs[0].ID

	at := write + 300*time.Millisecond
	flood := func(key, parent string, pid int64) {
		ingest(tr, key, parent, shellExec(proc{pid: pid, ancestors: []int64{900, 1}}, at, fmt.Sprintf("true %d", pid)))
	}
	for i := range 5000 {
		flood("ssh:1", "", int64(10000+i))
	}
	for i := range 2000 {
		flood(fmt.Sprintf("daemonized:%d", i), "ssh:1", int64(20000+i))
	}
	for i := range 200 {
		flood(fmt.Sprintf("cron:%d", 100+i), "systemd:cron", int64(30000+i))
	}
	assert.LessOrEqual(t, len(tr.pending.ring), maxPending)
	assert.LessOrEqual(t, len(tr.pending.byKey["ssh:1"]), maxPendingPerKey)
	for k, idx := range tr.pending.byKey {
		for _, i := range idx {
			require.Equal(t, k, tr.pending.ring[i].key, "positions stay right through removals")
		}
	}
	_, dropped := tr.TakeUpdateCounters()
	assert.Greater(t, dropped, int64(5000), "the flood's own candidates went, counted")

	fs = ingest(tr, "ssh:9", "", event(contract.EventFileWrite, proc{pid: 50, ancestors: []int64{1}}, write), persist)
	c := tr.contexts["cron:7"]
	assert.Equal(t, High, max(c.Level, c.Sent), "the re-spawn is still linked to its writer")
	require.Len(t, fs, 1)
	assert.Equal(t, id, fs[0].ID)
}

// Within one group, a bare shell never pushes out an exec that gave evidence (the re-spawned miner
// itself), and a newcomer that is worth less than everything in scope is refused, counted.
func TestPendingPrefersEvidenced(t *testing.T) {
	pe := newPendingExecs()
	none := map[string]*Context{}
	e := shellExec(proc{pid: 1, ppid: 1}, 0, "x")
	for i := range maxPendingPerKey {
		e.PID = int64(i + 1)
		pe.remember([]byte("cron:1"), 7, true, e, 0, none)
	}
	pe.remember([]byte("cron:1"), 7, false, e, 0, none)
	assert.Equal(t, int64(1), pe.dropped, "the bare shell is refused")
	for i := range maxPendingPerKey {
		assert.True(t, pe.ring[i].evidenced)
	}
	pe.remember([]byte("cron:1"), 7, true, e, 0, none)
	assert.Equal(t, int64(2), pe.dropped, "an evidenced newcomer pushes out the oldest evidenced one")
	assert.Len(t, pe.ring, maxPendingPerKey)
}
