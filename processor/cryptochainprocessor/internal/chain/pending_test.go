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
