package chain

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"

	ev "github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/evidence"
)

// largeContext feeds context i the largest legal state: a resource with a 1 MiB attribute and long
// kept values, and max_evidence items from records with 4 KiB command lines and 4 KiB indicators,
// all distinct (nothing shared by interning).
func largeContext(tr *Tracker, i, items int) {
	res := pcommon.NewResource()
	res.Attributes().PutStr("cryptochain.context.id", fmt.Sprintf("ctx-%d", i))
	res.Attributes().PutStr("host.name", strings.Repeat("h", 4096))
	res.Attributes().PutStr("k8s.pod.annotation.huge", strings.Repeat("a", 1<<20))
	key := []byte(fmt.Sprintf("host\x00ctx-%d", i))
	ref := tr.Resolve(key, res)
	for j := 0; j < items; j++ {
		big := fmt.Sprintf("%d-%d-", i, j) + strings.Repeat("x", 4096)
		e := &ev.Event{Name: "cryptochain.process.exec", Time: t0.Add(time.Duration(j) * time.Millisecond),
			PID: int64(1000 + j), Start: big[:64], Ancestors: []int64{1}, Exe: "/tmp/" + big, CmdLine: big}
		tr.Ingest(&ref, e, []ev.Evidence{{Group: ev.Miner, Strength: ev.Weak, Kind: "miner_flag", Indicator: big,
			Source: "test", Action: big, Command: big}})
	}
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestByteBudgetHoldsForLargeContexts: contexts of the largest legal size, many more than fit, keep
// the state within max_state_bytes by the estimate, and the heap the tracker really holds stays
// within the budget too (sanity bound: the estimate does not undercount).
func TestByteBudgetHoldsForLargeContexts(t *testing.T) {
	const budget = 16 << 20
	before := heapInUse()
	tr := New(Config{Window: time.Hour, MaxContexts: 10000, MaxEvidence: 64, MaxBytes: budget, MaxTombstones: 1024})
	for i := 0; i < 200; i++ {
		largeContext(tr, i, 64)
		require.LessOrEqual(t, tr.Bytes(), int64(budget), "after context %d", i)
	}
	tr.Sweep()
	assert.LessOrEqual(t, tr.Bytes(), int64(budget))
	evicted, _ := tr.TakeCounters()
	assert.Positive(t, evicted)
	assert.Positive(t, tr.Len())
	held := int64(heapInUse()) - int64(before)
	t.Logf("estimate %d B, heap held %d B, %d contexts, %d evicted", tr.Bytes(), held, tr.Len(), evicted)
	assert.LessOrEqual(t, held, int64(budget), "heap held by the state")
	runtime.KeepAlive(tr)
}

// TestEstimateFollowsHeap: without a budget, the estimate is not below what the heap really holds
// for contexts of typical and of large size.
func TestEstimateFollowsHeap(t *testing.T) {
	for _, tc := range []struct {
		name         string
		contexts, ev int
	}{{"large", 40, 64}, {"small", 500, 2}} {
		t.Run(tc.name, func(t *testing.T) {
			before := heapInUse()
			tr := New(Config{Window: time.Hour, MaxContexts: 100000, MaxEvidence: 64})
			for i := 0; i < tc.contexts; i++ {
				largeContext(tr, i, tc.ev)
			}
			held := int64(heapInUse()) - int64(before)
			t.Logf("estimate %d B, heap held %d B (ratio %.2f)", tr.Bytes(), held, float64(tr.Bytes())/float64(held))
			assert.GreaterOrEqual(t, tr.Bytes(), held*9/10, "the estimate may not undercount by more than 10 %")
			runtime.KeepAlive(tr)
		})
	}
}

// TestResourceKeptOnlyAsNeeded: a context keeps the attributes findings and responses use, values
// cut to maxResourceValue, identity values never cut (dropped when too long).
func TestResourceKeptOnlyAsNeeded(t *testing.T) {
	tr := New(Config{Window: time.Hour, MaxContexts: 10, MaxEvidence: 8, ResourceKeys: []string{"my.key"}})
	res := pcommon.NewResource()
	a := res.Attributes()
	a.PutStr("host.id", "h1")
	a.PutStr("host.name", strings.Repeat("n", 5000))
	a.PutStr("process.linux.cgroup", "/"+strings.Repeat("c", 2000))
	a.PutStr("my.key", "mine")
	a.PutStr("unrelated.big", strings.Repeat("u", 1<<20))
	a.PutEmptySlice("container.name").AppendEmpty().SetStr("x")
	c := tr.create([]byte("k"), res)
	back := pcommon.NewResource()
	require.NoError(t, DecodeResource(c.Resource, back))
	got := back.Attributes().AsRaw()
	assert.Equal(t, "h1", got["host.id"])
	assert.Len(t, got["host.name"], maxResourceValue)
	assert.Equal(t, "mine", got["my.key"])
	assert.NotContains(t, got, "unrelated.big")
	assert.NotContains(t, got, "process.linux.cgroup", "a cut cgroup path would name its parent")
	assert.NotContains(t, got, "container.name", "only scalar values are kept")
	assert.Less(t, len(c.Resource), 2*maxResourceValue)
}

// TestEvictionPrefersWeakUnreported: at the bound, a context with only weak evidence goes before
// one with strong evidence, and that before one that reported a chain, whatever their recency.
func TestEvictionPrefersWeakUnreported(t *testing.T) {
	tr := New(Config{Window: time.Hour, MaxContexts: 3, MaxEvidence: 16, MaxTombstones: 10})
	miner := proc{pid: 100, ancestors: []int64{1}}
	ingest(tr, "chain", "", event("cryptochain.process.exec", miner, 0), minerStrong)
	fs := ingest(tr, "chain", "", event("cryptochain.dns.query", miner, time.Second), poolStrong)
	require.Len(t, fs, 1)
	tr.Accepted("chain", fs[0].Level)
	ingest(tr, "strong", "", event("cryptochain.process.exec", proc{pid: 7}, 2*time.Second), minerStrong)
	ingest(tr, "weak", "", event("cryptochain.process.exec", proc{pid: 8}, 3*time.Second), minerName)
	ingest(tr, "new1", "", event("cryptochain.process.exec", proc{pid: 9}, 4*time.Second), minerName)
	assert.Nil(t, tr.contexts["weak"], "weak, unreported: first to go")
	ingest(tr, "new2", "", event("cryptochain.process.exec", proc{pid: 10}, 5*time.Second), minerStrong)
	assert.Nil(t, tr.contexts["new1"])
	ingest(tr, "new3", "", event("cryptochain.process.exec", proc{pid: 11}, 6*time.Second), minerStrong)
	assert.Nil(t, tr.contexts["strong"], "strong, unreported: before a reported chain")
	assert.NotNil(t, tr.contexts["chain"], "the reported chain stays while others can go")
	assert.Equal(t, 0, tr.Tombstones())
}

// TestTombstoneKeepsFindingIDAndEscalation: a quiet Medium chain evicted by a flood of other
// chains comes back with its finding id; its later cron write and hugepages escalate it.
func TestTombstoneKeepsFindingIDAndEscalation(t *testing.T) {
	tr := New(Config{Window: time.Hour, MaxContexts: 20, MaxEvidence: 16, MaxTombstones: 200})
	miner := proc{pid: 100, ancestors: []int64{10, 1}}
	ingest(tr, "quiet", "", event("cryptochain.process.exec", miner, 0), minerStrong)
	fs := ingest(tr, "quiet", "", event("cryptochain.dns.query", miner, time.Second), poolStrong)
	require.Len(t, fs, 1)
	id := fs[0].ID
	tr.Accepted("quiet", Medium)
	for i := 0; i < 100; i++ { // junk chains, each reported: the quiet one is the least recently used
		k := fmt.Sprintf("junk-%d", i)
		p := proc{pid: int64(200 + i), ancestors: []int64{1}}
		ingest(tr, k, "", event("cryptochain.process.exec", p, 2*time.Second), minerStrong)
		for _, f := range ingest(tr, k, "", event("cryptochain.dns.query", p, 2*time.Second), poolStrong) {
			tr.Accepted(k, f.Level)
		}
	}
	require.Nil(t, tr.contexts["quiet"], "evicted")
	require.NotNil(t, tr.tombs.m["quiet"])

	fs = ingest(tr, "quiet", "", event("cryptochain.file.write", proc{pid: 50, ancestors: []int64{1}}, 3*time.Second), persist)
	require.Len(t, fs, 1)
	assert.Equal(t, High, fs[0].Level)
	assert.Equal(t, id, fs[0].ID)
	assert.Contains(t, fs[0].Groups, ev.Miner)
	tr.Accepted("quiet", High)
	fs = ingest(tr, "quiet", "", event("cryptochain.sysctl.write", proc{pid: 51, ancestors: []int64{1}}, 4*time.Second), optim)
	require.Len(t, fs, 1)
	assert.Equal(t, Critical, fs[0].Level)
	assert.Equal(t, id, fs[0].ID)
	var endpoints []string
	for _, it := range fs[0].Items {
		endpoints = append(endpoints, it.Endpoint)
	}
	assert.Contains(t, endpoints, poolStrong.Endpoint, "the pool endpoint to block is still named")
}

// TestTombstonesBounded: tombstones are bounded in number and count against the byte budget.
func TestTombstonesBounded(t *testing.T) {
	tr := New(Config{Window: time.Hour, MaxContexts: 5, MaxEvidence: 16, MaxTombstones: 7})
	for i := 0; i < 50; i++ {
		k := fmt.Sprintf("c%d", i)
		p := proc{pid: int64(100 + i), ancestors: []int64{1}}
		ingest(tr, k, "", event("cryptochain.process.exec", p, 0), minerStrong)
		ingest(tr, k, "", event("cryptochain.dns.query", p, 0), poolStrong)
	}
	assert.Equal(t, 7, tr.Tombstones())
	assert.Positive(t, tr.tombs.bytes)
	assert.NotNil(t, tr.tombs.m["c44"], "the most recently buried are kept")
	assert.Nil(t, tr.tombs.m["c30"])
}
