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

// critical drives context key to Critical (miner pid 100) and returns the finding id.
func critical(t *testing.T, tr *Tracker, key string) string {
	t.Helper()
	miner := proc{pid: 100, ancestors: []int64{10, 1}}
	shell := proc{pid: 10, ancestors: []int64{1}}
	var id string
	for i, s := range []step{
		{contract.EventExec, miner, []ev.Evidence{minerStrong}},
		{contract.EventDNSQuery, miner, []ev.Evidence{poolStrong}},
		{contract.EventFileWrite, shell, []ev.Evidence{persist}},
		{contract.EventSysctlWrite, shell, []ev.Evidence{optim}},
	} {
		for _, f := range ingest(tr, key, "", event(s.name, s.p, time.Duration(i)*time.Second), s.evs...) {
			id = f.ID
			tr.Accepted(key, f.Level)
		}
	}
	require.Equal(t, Critical, tr.contexts[key].Level)
	return id
}

func cronAt(path string) ev.Evidence {
	e := persist
	e.Path, e.Indicator = path, path
	return e
}

func addedValues(f *Finding, k FactKind) []any {
	var out []any
	for _, a := range f.Added {
		if a.Kind == k {
			if k == FactMinerPID {
				out = append(out, a.PID)
			} else {
				out = append(out, a.Value)
			}
		}
	}
	return out
}

// After the top escalation, a second persistence file is reported at once (the last finding is
// older than the interval): same id, same severity, an update naming only the new path.
func TestUpdateSecondPersistenceAfterCritical(t *testing.T) {
	tr := newTracker()
	id := critical(t, tr, "ssh:1")
	shell := proc{pid: 10, ancestors: []int64{1}}
	fs := ingest(tr, "ssh:1", "", event(contract.EventFileWrite, shell, time.Minute), cronAt("/var/spool/cron/crontabs/root"))
	require.Len(t, fs, 1)
	f := fs[0]
	assert.Equal(t, id, f.ID)
	assert.Equal(t, Critical, f.Level)
	assert.True(t, f.Update)
	assert.Equal(t, []string{ReasonResponse}, f.Reasons)
	assert.Equal(t, []any{"/var/spool/cron/crontabs/root"}, addedValues(f, FactPersistencePath))
	assert.Len(t, f.Added, 1, "only what the last finding did not show: %v", f.Added)
	assert.Zero(t, f.Coalesced)
	tr.Accepted("ssh:1", f.Level)
	// The same path written again, and evidence that adds no response fact, report nothing.
	assert.Empty(t, ingest(tr, "ssh:1", "", event(contract.EventFileWrite, shell, 2*time.Minute), cronAt("/var/spool/cron/crontabs/root")))
	optim2 := optim
	optim2.Kind, optim2.Path = "msr", "/dev/cpu/0/msr"
	assert.Empty(t, ingest(tr, "ssh:1", "", event(contract.EventFileOpen, shell, 3*time.Minute), optim2))
}

// A flood of new miner pids within the interval gives no record per pid: one update once records
// show the interval has passed, listing every pid kept, with the evaluations it folded in counted.
func TestUpdateFloodCoalesced(t *testing.T) {
	tr := New(Config{Window: time.Hour, MaxContexts: 100, MaxEvidence: 256})
	id := critical(t, tr, "ssh:1")
	base := 10 * time.Minute
	// Each new miner shows its own pool (a process line must be complete to be in the finding).
	fs := ingest(tr, "ssh:1", "", event(contract.EventExec, proc{pid: 500, ancestors: []int64{10, 1}}, base), minerStrong, poolStrong)
	require.Len(t, fs, 1, "the first new pid after a quiet time is reported at once")
	tr.Accepted("ssh:1", fs[0].Level)
	for i := range 100 {
		p := proc{pid: int64(501 + i), ancestors: []int64{10, 1}}
		at := base + time.Duration(i+1)*10*time.Millisecond
		assert.Empty(t, ingest(tr, "ssh:1", "", event(contract.EventExec, p, at), minerStrong, poolStrong), "pid %d: held", p.pid)
	}
	require.True(t, tr.UpdatesHeld())
	assert.Empty(t, tr.DueUpdates(t0.Add(base).UnixNano()), "not due: neither record time nor the wall clock has passed the interval")
	// A record of another context at +5 s shows the interval has passed.
	ingest(tr, "other", "", event(contract.EventExec, proc{pid: 9, ancestors: []int64{1}}, base+DefaultUpdateInterval))
	fs = tr.DueUpdates(t0.Add(base).UnixNano())
	require.Len(t, fs, 1)
	f := fs[0]
	assert.Equal(t, id, f.ID)
	assert.True(t, f.Update)
	// Every pid the evidence budgets kept (the rest were dropped and counted there), in one record.
	kept := len(addedValues(f, FactMinerPID))
	assert.GreaterOrEqual(t, kept, 16)
	assert.Equal(t, int64(kept), f.Coalesced, "each record that added a pid was folded in")
	coalesced, _ := tr.TakeUpdateCounters()
	assert.Equal(t, int64(kept), coalesced)
	assert.Positive(t, tr.contexts["ssh:1"].Dropped)
	assert.False(t, tr.UpdatesHeld())
}

// With no records after the held one, the wall clock sends it once the time left has passed.
func TestUpdateSentByWallClock(t *testing.T) {
	tr := newTracker()
	critical(t, tr, "ssh:1")
	shell := proc{pid: 10, ancestors: []int64{1}}
	at := 4*time.Second + time.Second // 2 s after the Critical finding
	assert.Empty(t, ingest(tr, "ssh:1", "", event(contract.EventFileWrite, shell, at), cronAt("/etc/cron.d/second")))
	wall := time.Now().UnixNano()
	assert.Empty(t, tr.DueUpdates(wall), "first seen: deadline set to the time left (3 s)")
	assert.Empty(t, tr.DueUpdates(wall+int64(2*time.Second)))
	fs := tr.DueUpdates(wall + int64(3*time.Second))
	require.Len(t, fs, 1)
	assert.Equal(t, []any{"/etc/cron.d/second"}, addedValues(fs[0], FactPersistencePath))
}

// A refused update is offered again with the same additions.
func TestUpdateRefusedOfferedAgain(t *testing.T) {
	tr := newTracker()
	critical(t, tr, "ssh:1")
	shell := proc{pid: 10, ancestors: []int64{1}}
	fs := ingest(tr, "ssh:1", "", event(contract.EventFileWrite, shell, time.Minute), cronAt("/etc/cron.d/second"))
	require.Len(t, fs, 1)
	now := time.Now().UnixNano()
	require.True(t, tr.Refused("ssh:1", fs[0].Level, now))
	fs = tr.Retry(now + int64(time.Minute))
	require.Len(t, fs, 1)
	assert.True(t, fs[0].Update)
	assert.Equal(t, []any{"/etc/cron.d/second"}, addedValues(fs[0], FactPersistencePath))
	tr.Accepted("ssh:1", fs[0].Level)
	assert.Empty(t, tr.Retry(now+int64(time.Hour)), "accepted: nothing left to offer")
}

// A context evicted after reporting comes back from its tombstone knowing what it reported: its
// old facts are no update, a new one is.
func TestUpdateAfterTombstoneRevival(t *testing.T) {
	tr := New(Config{Window: time.Hour, MaxContexts: 1, MaxEvidence: 16, MaxTombstones: 10})
	critical(t, tr, "ssh:1")
	for i := range 3 { // evict ssh:1
		ingest(tr, fmt.Sprintf("x:%d", i), "", event(contract.EventExec, proc{pid: int64(50 + i), ancestors: []int64{1}}, time.Minute), minerName)
	}
	require.Nil(t, tr.contexts["ssh:1"])
	shell := proc{pid: 10, ancestors: []int64{1}}
	assert.Empty(t, ingest(tr, "ssh:1", "", event(contract.EventFileWrite, shell, 2*time.Minute), persist), "revived: the same cron file is no news")
	fs := ingest(tr, "ssh:1", "", event(contract.EventFileWrite, shell, 3*time.Minute), cronAt("/etc/cron.d/second"))
	require.Len(t, fs, 1)
	assert.Equal(t, []any{"/etc/cron.d/second"}, addedValues(fs[0], FactPersistencePath))
}

// The response facts follow what the finding renders: failed persistence and shells are not listed.
func TestResponseFacts(t *testing.T) {
	c := &Context{Procs: []Proc{{PID: 100, Exe: "/tmp/xmrig", ExeHash: "h1"}, {PID: 10, Exe: "/bin/bash", ExeHash: "h2"}}}
	pool := poolStrong
	pool.Indicator, pool.Endpoint, pool.Kind = "198.51.100.7", "pool.example:3333", "pool_address"
	w := minerStrong
	w.Wallet = "4WALLET"
	items := []Item{
		{Evidence: w, Origin: &Origin{PID: 100}},
		{Evidence: pool, Origin: &Origin{PID: 100}},
		{Evidence: persistFail, Origin: &Origin{PID: 10}},
		{Evidence: minerStrong, Origin: &Origin{PID: 10}},
	}
	facts := responseFacts(c, items, []int{0, 1, 2, 3}, nil)
	assert.ElementsMatch(t, []Fact{
		{Kind: FactMinerPID, PID: 100}, {Kind: FactMinerPID, PID: 10},
		{Kind: FactPoolEndpoint, Value: "pool.example:3333"}, {Kind: FactPoolEndpoint, Value: "198.51.100.7:3333"},
		{Kind: FactWallet, Value: "4WALLET"}, {Kind: FactMinerSHA256, Value: "h1"},
	}, facts)
}
