package cryptochainprocessor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/storagetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/chain"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/evidence"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/metadata"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/metadatatest"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/store"
)

// chainOf plays a Medium chain (miner exec, pool lookup) in context ctx at offset at.
func chainOf(ctx string, at time.Duration, pid int64) []rec {
	return []rec{minerExec(ctx, at, pid, line), poolDNS(ctx, at, pid, line)}
}

// TestEvictionChurnKeepsFindingID: a flood of other contexts cannot make a quiet Medium chain lose
// its finding id or its escalation: junk with evidence but no chain is evicted before it, and when
// other chains push it out its tombstone brings the id and the evidence back.
func TestEvictionChurnKeepsFindingID(t *testing.T) {
	for _, tc := range []struct {
		name      string
		junkChain bool // junk contexts are chains too (reported): the quiet one is evicted
	}{{"junk evidence", false}, {"junk chains", true}} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, func(c *Config) { c.MaxContexts = 50 }, nil, true)
			defer h.shutdown()
			h.consume(chainOf("quiet", 0, 100)...)
			fs := h.findings()
			require.Len(t, fs, 1)
			id := attrStr(fs[0], "cryptochain.finding.id")
			for i := 0; i < 100; i++ {
				k := fmt.Sprintf("junk-%d", i)
				if tc.junkChain {
					h.consume(chainOf(k, time.Second, int64(1000+i))...)
				} else {
					h.consume(minerExec(k, time.Second, int64(1000+i), line))
				}
			}
			h.impl.mu.Lock()
			tombs := h.impl.tracker.Tombstones()
			h.impl.mu.Unlock()
			ctxs, _ := openKeys(h)
			if tc.junkChain {
				assert.Positive(t, tombs)
				assert.NotContains(t, ctxs, store.StorageKey(contextKeyOf("quiet")), "the quiet chain was evicted")
			} else {
				assert.Contains(t, ctxs, store.StorageKey(contextKeyOf("quiet")), "junk without a chain goes first")
			}
			n := len(h.findings())
			h.consume(cronWrite("quiet", 2*time.Second, 50))
			h.consume(hugepages("quiet", 3*time.Second, 51))
			fs = h.findings()[n:]
			require.Len(t, fs, 2)
			assert.Equal(t, "HIGH", fs[0].SeverityText())
			assert.Equal(t, "CRITICAL", fs[1].SeverityText())
			for _, f := range fs {
				assert.Equal(t, id, attrStr(f, "cryptochain.finding.id"))
				assert.Equal(t, "quiet", attrStr(f, "cryptochain.finding.context.id"))
			}
			v, ok := fs[1].Attributes().Get("cryptochain.response.pool_endpoints")
			require.True(t, ok)
			assert.Contains(t, v.AsString(), "pool.example", "the finding still names the pool to block")
		})
	}
}

// TestStateStaysWithinByteBudget: records of many contexts with large resources and large legal
// exec records keep the processor's state within max_state_bytes.
func TestStateStaysWithinByteBudget(t *testing.T) {
	const budget = 4 << 20
	h := newHarness(t, func(c *Config) { c.MaxStateBytes = budget; c.Forward = ForwardNone }, nil, true) // the sink keeps nothing
	defer h.shutdown()
	big := strings.Repeat("A", 4000)
	before := heapAlloc()
	for i := 0; i < 60; i++ {
		k := fmt.Sprintf("big-%d", i)
		var recs []rec
		for j := 0; j < 64; j++ {
			r := minerExec(k, time.Duration(j)*time.Millisecond, int64(100+j), line)
			r.attrs["process.command_line"] = fmt.Sprintf("%d %s stratum+tcp://pool.example:3333", j, big)
			r.attrs["process.command_args"] = []string{"/tmp/.x/kworker", "-o", fmt.Sprintf("stratum+tcp://pool.example:%d", 3000+j), big}
			recs = append(recs, r)
		}
		ld := logsOf(recs...)
		ld.ResourceLogs().At(0).Resource().Attributes().PutStr("k8s.pod.annotation.huge", strings.Repeat("x", 1<<20))
		require.NoError(t, h.proc.ConsumeLogs(context.Background(), ld))
		h.impl.mu.Lock()
		b := h.impl.tracker.Bytes()
		h.impl.mu.Unlock()
		require.LessOrEqual(t, b, int64(budget), "after context %d", i)
	}
	// Sanity bound on the real heap: the state, plus what the pipeline and telemetry keep (small).
	held := int64(heapAlloc()) - int64(before)
	t.Logf("heap held after 60 large contexts: %d B (budget %d B)", held, budget)
	assert.LessOrEqual(t, held, int64(budget)+1<<20)
	metadatatest.AssertEqualCryptochainStateBytes(t, h.tel, []metricdata.DataPoint[int64]{{}}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreValue())
}

// flakyStorage is a file-backed storage extension whose batch writes fail while fail is set.
type flakyStorage struct {
	component.Component
	inner  storage.Extension
	fail   atomic.Bool
	mu     sync.Mutex
	client *flakyClient
}

func (s *flakyStorage) GetClient(ctx context.Context, kind component.Kind, id component.ID, name string) (storage.Client, error) {
	c, err := s.inner.GetClient(ctx, kind, id, name)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.client = &flakyClient{Client: c, fail: &s.fail}
	return s.client, nil
}

type flakyClient struct {
	storage.Client
	fail *atomic.Bool
}

func (c *flakyClient) Batch(ctx context.Context, ops ...*storage.Operation) error {
	if c.fail.Load() {
		return errors.New("disk full")
	}
	return c.Client.Batch(ctx, ops...)
}

func (c *flakyClient) Walk(ctx context.Context, fn storage.WalkFunc) error {
	return c.Client.(storage.Walker).Walk(ctx, fn)
}

// storedKeys returns the keys under prefix the client holds, sorted.
func storedKeys(t *testing.T, c storage.Client, prefix string) []string {
	var keys []string
	require.NoError(t, c.(storage.Walker).Walk(context.Background(), func(k string, _ []byte) ([]*storage.Operation, error) {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
		return nil, nil
	}))
	sort.Strings(keys)
	return keys
}

// openKeys returns the storage keys of the open contexts and tombstones of h, sorted.
func openKeys(h *harness) (ctxs, tombs []string) {
	h.impl.mu.Lock()
	defer h.impl.mu.Unlock()
	for _, c := range h.impl.tracker.Snapshot() {
		ctxs = append(ctxs, store.StorageKey(c.Key))
	}
	for _, c := range h.impl.tracker.TombSnapshot() {
		tombs = append(tombs, store.TombKey(c.Key))
	}
	sort.Strings(ctxs)
	sort.Strings(tombs)
	return ctxs, tombs
}

// TestStoreFailsThenRecovers: while saves fail, changes (writes and deletes) wait; once the store
// works again every open chain is saved and nothing dropped meanwhile is left behind.
func TestStoreFailsThenRecovers(t *testing.T) {
	id := storagetest.NewStorageID("chains")
	fs := &flakyStorage{inner: storagetest.NewFileBackedStorageExtension("chains", t.TempDir())}
	h := newHarness(t, func(c *Config) { c.Storage = &id; c.MaxContexts = 4 }, hostWith{id: fs}, true)
	defer h.shutdown()
	clock := &fakeClock{t: base}
	h.impl.clock = clock.now

	h.consume(minerExec("early", 0, 100, line)) // saved while the store works
	client := fs.client
	require.Len(t, storedKeys(t, client, "ctx/"), 1)

	fs.fail.Store(true)
	for i := 0; i < 6; i++ { // evicts "early" (its stored copy must go) and others never saved
		h.consume(chainOf(fmt.Sprintf("c%d", i), time.Second, int64(200+i))...)
		clock.add(2 * time.Second)
	}
	h.consume(cronWrite("c5", 2*time.Second, 50))
	require.Len(t, storedKeys(t, client, "ctx/"), 1, "nothing written while failing")
	h.impl.mu.Lock()
	assert.Positive(t, h.impl.tracker.PendingSaves())
	h.impl.mu.Unlock()

	fs.fail.Store(false)
	clock.add(time.Minute)
	h.consume(benignExec("c5", 3*time.Second, 9)) // the next call retries the whole save
	ctxs, tombs := openKeys(h)
	assert.Equal(t, ctxs, storedKeys(t, client, "ctx/"), "every open chain saved, the evicted deleted")
	assert.Equal(t, tombs, storedKeys(t, client, "tomb/"))
	assert.NotContains(t, storedKeys(t, client, "ctx/"), store.StorageKey(contextKeyOf("early")))
	h.impl.mu.Lock()
	assert.Zero(t, h.impl.tracker.PendingSaves())
	h.impl.mu.Unlock()
	metadatatest.AssertEqualCryptochainStoragePending(t, h.tel, []metricdata.DataPoint[int64]{{Value: 0}}, metricdatatest.IgnoreTimestamp())
}

// contextKeyOf is the context key the default context_keys give a test record of context id.
func contextKeyOf(id string) string { return "host-1\x00\x00" + id }

// TestRestoreDeletesWhatItEvicts: restored into smaller bounds, the chains that do not fit are
// deleted from the store, not left there for ever.
func TestRestoreDeletesWhatItEvicts(t *testing.T) {
	dir := t.TempDir()
	id := storagetest.NewStorageID("chains")
	h1 := newHarness(t, func(c *Config) { c.Storage = &id; c.MaxContexts = 20 }, storagetest.NewStorageHost().WithFileBackedStorageExtension("chains", dir), true)
	for i := 0; i < 10; i++ {
		h1.consume(minerExec(fmt.Sprintf("c%d", i), time.Duration(i)*time.Second, int64(100+i), line))
	}
	h1.shutdown()

	fs := &flakyStorage{inner: storagetest.NewFileBackedStorageExtension("chains", dir)}
	h2 := newHarness(t, func(c *Config) { c.Storage = &id; c.MaxContexts = 3 }, hostWith{id: fs}, true)
	defer h2.shutdown()
	ctxs, _ := openKeys(h2)
	require.Len(t, ctxs, 3)
	assert.Equal(t, ctxs, storedKeys(t, fs.client, "ctx/"))
	assert.Contains(t, ctxs, store.StorageKey(contextKeyOf("c9")), "the newest chains are kept")
	metadatatest.AssertEqualCryptochainEvictedContexts(t, h2.tel, []metricdata.DataPoint[int64]{{Value: 7}}, metricdatatest.IgnoreTimestamp())
}

// v1Snapshot is how version 1 of the store wrote a context: every item carried its origin.
type v1Snapshot struct {
	Version   int          `json:"v"`
	Key       string       `json:"key"`
	ID        string       `json:"id"`
	Resource  []byte       `json:"resource"`
	Procs     []chain.Proc `json:"procs"`
	Items     []chain.Item `json:"items"`
	MaxTime   int64        `json:"max_time"`
	FindingID string       `json:"finding_id,omitempty"`
	Level     chain.Level  `json:"level"`
}

// TestRestartAcrossStoreVersion: chains stored by the previous format version are restored and
// continue (same finding id, next severity only), and are rewritten in the current format; an entry
// of a newer format is reported and kept aside, not deleted.
func TestRestartAcrossStoreVersion(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	id := storagetest.NewStorageID("chains")
	ext := storagetest.NewFileBackedStorageExtension("chains", dir)
	client, err := ext.GetClient(ctx, component.KindProcessor, processortest.NewNopSettings(metadata.Type).ID, "")
	require.NoError(t, err)

	res := pcommon.NewResource()
	res.Attributes().PutStr("host.id", "host-1")
	res.Attributes().PutStr("cryptochain.context.id", "old")
	ts := base.UnixNano()
	origin := func(pid int64) *chain.Origin {
		return &chain.Origin{Time: ts, Seen: ts, PID: pid, Start: "2026-11-27T03:00:00Z", Exe: "/tmp/.x/kworker"}
	}
	key := contextKeyOf("old")
	old := v1Snapshot{Version: 1, Key: key, ID: "old", Resource: chain.EncodeResource(res), MaxTime: ts,
		FindingID: "11111111-2222-4333-8444-555555555555", Level: chain.Medium,
		Procs: []chain.Proc{{PID: 100, Start: "2026-11-27T03:00:00Z", Ancestors: line, Exe: "/tmp/.x/kworker"}},
		Items: []chain.Item{
			{Evidence: evidence.Evidence{Group: evidence.Miner, Strength: evidence.Strong, Kind: "pool_url", Indicator: "stratum+tcp://pool.example:3333", Endpoint: "pool.example:3333", Wallet: "4WALLET"}, Origin: origin(100)},
			{Evidence: evidence.Evidence{Group: evidence.Pool, Strength: evidence.Strong, Kind: "pool_domain", Indicator: "eu.pool.example", Endpoint: "eu.pool.example"}, Origin: origin(100)},
		}}
	b, err := json.Marshal(old)
	require.NoError(t, err)
	require.NoError(t, client.Set(ctx, store.StorageKey(key), b))
	future := []byte(`{"v":9,"key":"from a newer build"}`)
	require.NoError(t, client.Set(ctx, "ctx/future", future))
	require.NoError(t, client.Close(ctx))

	fs := &flakyStorage{inner: storagetest.NewFileBackedStorageExtension("chains", dir)}
	h := newHarness(t, func(c *Config) { c.Storage = &id }, hostWith{id: fs}, true)
	defer h.shutdown()
	h.consume(poolDNS("old", time.Second, 100, line))
	assert.Empty(t, h.findings(), "Medium was reported before the upgrade")
	h.consume(cronWrite("old", 2*time.Second, 50))
	got := h.findings()
	require.Len(t, got, 1)
	assert.Equal(t, "HIGH", got[0].SeverityText())
	assert.Equal(t, old.FindingID, attrStr(got[0], "cryptochain.finding.id"))

	h.consume(benignExec("old", 3*time.Second, 7)) // the accepted level is saved by the next call
	stored, err := fs.client.Get(ctx, store.StorageKey(key))
	require.NoError(t, err)
	c, err := store.Decode(stored)
	require.NoError(t, err)
	assert.Equal(t, chain.High, c.Level)
	assert.Contains(t, string(stored), fmt.Sprintf(`"v":%d`, store.Version), "rewritten in the current format")
	aside, err := fs.client.Get(ctx, "aside/ctx/future")
	require.NoError(t, err)
	assert.Equal(t, future, aside, "a newer format is kept aside")
	metadatatest.AssertEqualCryptochainStorageErrors(t, h.tel, []metricdata.DataPoint[int64]{{Value: 1}}, metricdatatest.IgnoreTimestamp())
}

// refusing is a next consumer that refuses the first n calls, then passes on to the sink.
type refusing struct {
	sink  *consumertest.LogsSink
	n     atomic.Int64
	calls atomic.Int64
}

func (r *refusing) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

func (r *refusing) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	r.calls.Add(1)
	if r.n.Add(-1) >= 0 {
		return errors.New("memory limit reached")
	}
	return r.sink.ConsumeLogs(ctx, ld)
}

// TestRefusedFindingOfferedAgain: a finding counts as reported only once the next consumer took it;
// a refused one comes again with the next call after the backoff, and with the background tick when
// no records come.
func TestRefusedFindingOfferedAgain(t *testing.T) {
	t.Run("next call", func(t *testing.T) {
		r := &refusing{}
		r.n.Store(1)
		h := newHarnessNext(t, nil, nil, true, func(s *consumertest.LogsSink) consumer.Logs { r.sink = s; return r })
		defer h.shutdown()
		clock := &fakeClock{t: base}
		h.impl.clock = clock.now
		require.Error(t, h.proc.ConsumeLogs(context.Background(), logsOf(chainOf("c", 0, 100)...)))
		assert.Empty(t, h.findings())
		h.consume(benignExec("c", time.Second, 7)) // within the backoff: not yet
		assert.Empty(t, h.findings())
		clock.add(time.Second)
		h.consume(benignExec("c", 2*time.Second, 7))
		fs := h.findings()
		require.Len(t, fs, 1)
		assert.Equal(t, "MEDIUM", fs[0].SeverityText())
		clock.add(time.Minute)
		h.consume(poolDNS("c", 3*time.Second, 100, line))
		assert.Len(t, h.findings(), 1, "accepted: reported once")
		h.consume(cronWrite("c", 4*time.Second, 50))
		fs = h.findings()
		require.Len(t, fs, 2)
		assert.Equal(t, attrStr(fs[0], "cryptochain.finding.id"), attrStr(fs[1], "cryptochain.finding.id"))
		metadatatest.AssertEqualCryptochainFindingsRefused(t, h.tel, []metricdata.DataPoint[int64]{{Value: 1}}, metricdatatest.IgnoreTimestamp())
	})
	t.Run("tick", func(t *testing.T) {
		r := &refusing{}
		r.n.Store(1)
		h := newHarnessNext(t, nil, nil, true, func(s *consumertest.LogsSink) consumer.Logs { r.sink = s; return r })
		defer h.shutdown()
		require.Error(t, h.proc.ConsumeLogs(context.Background(), logsOf(chainOf("c", 0, 100)...)))
		require.Eventually(t, func() bool { return len(h.findings()) == 1 }, 10*time.Second, 50*time.Millisecond)
		assert.Equal(t, "MEDIUM", h.findings()[0].SeverityText())
	})
	t.Run("bounded", func(t *testing.T) {
		r := &refusing{}
		r.n.Store(1 << 30)
		h := newHarnessNext(t, nil, nil, true, func(s *consumertest.LogsSink) consumer.Logs { r.sink = s; return r })
		defer h.shutdown()
		clock := &fakeClock{t: base}
		h.impl.clock = clock.now
		_ = h.proc.ConsumeLogs(context.Background(), logsOf(chainOf("c", 0, 100)...))
		for i := 0; i < 30; i++ {
			clock.add(2 * time.Minute)
			_ = h.proc.ConsumeLogs(context.Background(), logsOf(benignExec("c", time.Second, 7)))
		}
		metadatatest.AssertEqualCryptochainFindingsRefused(t, h.tel, []metricdata.DataPoint[int64]{{Value: 10}}, metricdatatest.IgnoreTimestamp())
		metadatatest.AssertEqualCryptochainFindingsUndelivered(t, h.tel, []metricdata.DataPoint[int64]{{Value: 1}}, metricdatatest.IgnoreTimestamp())
		h.impl.mu.Lock()
		assert.False(t, h.impl.tracker.RetryPending())
		h.impl.mu.Unlock()
	})
}

// TestFindingUnacceptedBeforeRestartIsOfferedAfter: a finding emitted but never accepted before a
// restart is not counted as reported: the restored chain offers it again.
func TestFindingUnacceptedBeforeRestartIsOfferedAfter(t *testing.T) {
	dir := t.TempDir()
	id := storagetest.NewStorageID("chains")
	r := &refusing{}
	r.n.Store(1 << 30)
	h1 := newHarnessNext(t, func(c *Config) { c.Storage = &id }, storagetest.NewStorageHost().WithFileBackedStorageExtension("chains", dir), true,
		func(s *consumertest.LogsSink) consumer.Logs { r.sink = s; return r })
	require.Error(t, h1.proc.ConsumeLogs(context.Background(), logsOf(chainOf("c", 0, 100)...)))
	h1.shutdown()

	h2 := newHarness(t, func(c *Config) { c.Storage = &id }, storagetest.NewStorageHost().WithFileBackedStorageExtension("chains", dir), true)
	defer h2.shutdown()
	h2.consume(benignExec("other", time.Second, 7))
	fs := h2.findings()
	require.Len(t, fs, 1)
	assert.Equal(t, "MEDIUM", fs[0].SeverityText())
}

// TestTombstoneSurvivesRestart: the tombstone of an evicted chain is stored, so the chain keeps its
// finding id and escalates after a restart too.
func TestTombstoneSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	id := storagetest.NewStorageID("chains")
	cfg := func(c *Config) { c.Storage = &id; c.MaxContexts = 5 }
	h1 := newHarness(t, cfg, storagetest.NewStorageHost().WithFileBackedStorageExtension("chains", dir), true)
	h1.consume(chainOf("quiet", 0, 100)...)
	fs := h1.findings()
	require.Len(t, fs, 1)
	for i := 0; i < 10; i++ {
		h1.consume(chainOf(fmt.Sprintf("junk-%d", i), time.Second, int64(1000+i))...)
	}
	ctxs, tombs := openKeys(h1)
	require.NotContains(t, ctxs, store.StorageKey(contextKeyOf("quiet")))
	require.Contains(t, tombs, store.TombKey(contextKeyOf("quiet")))
	h1.shutdown()

	h2 := newHarness(t, cfg, storagetest.NewStorageHost().WithFileBackedStorageExtension("chains", dir), true)
	defer h2.shutdown()
	h2.consume(cronWrite("quiet", 2*time.Second, 50))
	got := h2.findings()
	require.Len(t, got, 1)
	assert.Equal(t, "HIGH", got[0].SeverityText())
	assert.Equal(t, attrStr(fs[0], "cryptochain.finding.id"), attrStr(got[0], "cryptochain.finding.id"))
}

func heapAlloc() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
