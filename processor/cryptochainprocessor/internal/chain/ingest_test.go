package chain

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"

	ev "github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/evidence"
)

func resource(id, parent string) pcommon.Resource {
	res := pcommon.NewResource()
	res.Attributes().PutStr("cryptochain.context.id", id)
	if parent != "" {
		res.Attributes().PutStr("cryptochain.context.parent_id", parent)
	}
	return res
}

// ingest feeds one record through the door, as the processor does for a resource of one record.
func ingest(tr *Tracker, id, parent string, e *ev.Event, evs ...ev.Evidence) []*Finding {
	ref := tr.Resolve([]byte(id), resource(id, parent))
	return tr.Ingest(&ref, e, evs)
}

// TestIngestKeepsBenignRecordsStateless: records without evidence create no context, and a benign
// exec of another context is not linked.
func TestIngestKeepsBenignRecordsStateless(t *testing.T) {
	tr := newTracker()
	ref := tr.Resolve([]byte("a"), resource("a", ""))
	assert.False(t, ref.Active())
	assert.Empty(t, tr.Ingest(&ref, event("cryptochain.process.exec", proc{pid: 5, ppid: 1}, 0), nil))
	assert.False(t, ref.Active())
	assert.Equal(t, 0, tr.Len())
	ch := tr.TakeChanges()
	assert.Empty(t, ch.Contexts)
	_, changed := ch.Links()
	assert.False(t, changed)
}

// TestIngestReportsAndQueuesChanges: evidence creates the context, the completing record returns the
// finding, and TakeChanges hands out each changed context once, then nothing.
func TestIngestReportsAndQueuesChanges(t *testing.T) {
	tr := newTracker()
	miner := proc{pid: 100, ancestors: []int64{1}}
	ref := tr.Resolve([]byte("a"), resource("a", ""))
	assert.Empty(t, tr.Ingest(&ref, event("cryptochain.process.exec", miner, 0), []ev.Evidence{minerStrong}))
	require.True(t, ref.Active())
	fs := tr.Ingest(&ref, event("cryptochain.dns.query", miner, time.Second), []ev.Evidence{poolStrong})
	require.Len(t, fs, 1)
	assert.Equal(t, Medium, fs[0].Level)
	ch := tr.TakeChanges()
	require.Len(t, ch.Contexts, 1)
	assert.Equal(t, "a", ch.Contexts[0].Key)
	assert.Empty(t, tr.TakeChanges().Contexts)
	// An exit is observed (no evidence) and changes the context again.
	assert.Empty(t, tr.Ingest(&ref, event("cryptochain.process.exit", miner, 2*time.Second), nil))
	assert.Len(t, tr.TakeChanges().Contexts, 1)
}

// TestIngestEscalatesDescendants: persistence written in a parent context after the child already
// reported raises the child's chain in the same call, and the child is among the changes.
func TestIngestEscalatesDescendants(t *testing.T) {
	tr := newTracker()
	miner := proc{pid: 100, ancestors: []int64{1}}
	assert.Empty(t, ingest(tr, "login:1", "", event("cryptochain.process.exec", proc{pid: 40, ancestors: []int64{1}}, 0), minerName))
	ingest(tr, "daemonized:2", "login:1", event("cryptochain.process.exec", miner, time.Second), minerStrong)
	fs := ingest(tr, "daemonized:2", "login:1", event("cryptochain.dns.query", miner, 2*time.Second), poolStrong)
	require.Len(t, fs, 1)
	tr.TakeChanges()
	fs = ingest(tr, "login:1", "", event("cryptochain.file.write", proc{pid: 40, ancestors: []int64{1}}, 3*time.Second), persist)
	require.Len(t, fs, 1)
	assert.Equal(t, "daemonized:2", fs[0].Context.Key)
	assert.Equal(t, High, fs[0].Level)
	keys := []string{}
	for _, c := range tr.TakeChanges().Contexts {
		keys = append(keys, c.Key)
	}
	assert.ElementsMatch(t, []string{"login:1", "daemonized:2"}, keys)
}

// TestIngestLinksRespawn: a benign exec of a command another context wrote into cron gets that
// context's persistence, and the written command is among the changes once.
func TestIngestLinksRespawn(t *testing.T) {
	tr := newTracker()
	ingest(tr, "writer", "", event("cryptochain.file.write", proc{pid: 50, ancestors: []int64{1}}, 0), persist)
	links, changed := tr.TakeChanges().Links()
	require.True(t, changed)
	require.Len(t, links, 1)
	_, changed = tr.TakeChanges().Links()
	assert.False(t, changed)
	respawn := &ev.Event{Name: "cryptochain.process.exec", Time: t0.Add(time.Minute), PID: 300, Ancestors: []int64{299, 1},
		Exe: "/tmp/.x/kworker", Args: []string{"/tmp/.x/kworker", "--config", "/tmp/.x/c.json"}}
	ref := tr.Resolve([]byte("cron1"), resource("cron1", ""))
	tr.Ingest(&ref, respawn, nil)
	require.True(t, ref.Active(), "the linked exec created state")
	require.Len(t, tr.lookup([]byte("cron1")).Items, 1)
	assert.Equal(t, "writer", tr.lookup([]byte("cron1")).Items[0].LinkedFrom)
}

// TestSweepQueuesChanges: dropped contexts are among the removed keys of the next changes, and
// contexts that lost expired evidence among the changed ones.
func TestSweepQueuesChanges(t *testing.T) {
	tr := newTracker()
	ingest(tr, "a", "", event("cryptochain.process.exec", proc{pid: 5}, 0), minerStrong)
	ingest(tr, "a", "", event("cryptochain.process.exit", proc{pid: 5}, time.Second))
	ingest(tr, "c", "", event("cryptochain.process.exec", proc{pid: 7}, 0), minerStrong)
	ingest(tr, "c", "", event("cryptochain.process.exit", proc{pid: 7}, time.Second))
	ingest(tr, "c", "", event("cryptochain.process.exec", proc{pid: 8}, time.Hour), minerStrong)
	ingest(tr, "b", "", event("cryptochain.process.exec", proc{pid: 6}, 3*time.Hour), minerStrong)
	tr.Saved(tr.TakeChanges())
	assert.Equal(t, 1, tr.Sweep())
	ch := tr.TakeChanges()
	assert.Equal(t, []string{"a"}, ch.Removed)
	require.Len(t, ch.Contexts, 1)
	assert.Equal(t, "c", ch.Contexts[0].Key)
}
