package cryptochainprocessor

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/metadatatest"
)

// responseLists are the finding attributes a response acts on, by the key update.added uses.
var responseLists = map[string]string{
	"persistence_paths": contract.AttrResponsePersistencePaths,
	"miner_pids":        contract.AttrResponseMinerPIDs,
	"pool_endpoints":    contract.AttrResponsePoolEndpoints,
	"wallets":           "cryptochain.response.wallets",
	"miner_sha256":      contract.AttrResponseMinerSHA256,
}

func listOf(lr plog.LogRecord, k string) []any {
	v, ok := lr.Attributes().Get(k)
	if !ok || v.Type() != pcommon.ValueTypeSlice {
		return nil
	}
	return v.Slice().AsRaw()
}

// checkUpdates asserts what an update promises: the finding id and severity of the record before
// it; every value it says it adds is in its response lists and was not in the previous record's.
// It returns the number of updates.
func checkUpdates(t *testing.T, fs []plog.LogRecord) int {
	t.Helper()
	last := map[string]plog.LogRecord{}
	n := 0
	for _, lr := range fs {
		id := attrStr(lr, contract.AttrFindingID)
		prev, seen := last[id]
		last[id] = lr
		reasons := listOf(lr, contract.AttrFindingUpdateReasons)
		if reasons == nil {
			continue
		}
		n++
		require.True(t, seen, "an update follows a finding of the same id")
		assert.Equal(t, prev.SeverityText(), lr.SeverityText(), "an update keeps the severity")
		added, ok := lr.Attributes().Get(contract.AttrFindingUpdateAdded)
		if slices.Contains(reasons, any("response")) {
			require.True(t, ok, "a response update says what it adds")
		}
		if !ok {
			continue
		}
		for k, vals := range added.Map().AsRaw() {
			list, known := responseLists[k]
			require.True(t, known, "added list %s", k)
			for _, v := range vals.([]any) {
				assert.Contains(t, listOf(lr, list), v, "%s: added value %v is in the record", list, v)
				assert.NotContains(t, listOf(prev, list), v, "%s: added value %v was not in the previous record", list, v)
			}
		}
	}
	return n
}

// Every update of every golden replay adds only what the record before it did not show.
func TestUpdatesAddOnlyNew(t *testing.T) {
	updates := 0
	for _, sc := range scenarios() {
		out := replay(t, stream(sc.recs))
		var fs []plog.LogRecord
		eachRecord(out, func(_ pcommon.Resource, lr plog.LogRecord) { fs = append(fs, lr) })
		// replay blanks the finding id; records of one context share one.
		for _, lr := range fs {
			lr.Attributes().PutStr(contract.AttrFindingID, attrStr(lr, "cryptochain.finding.context.id"))
		}
		updates += checkUpdates(t, fs)
	}
	assert.GreaterOrEqual(t, updates, 4, "the golden set has updates to check")
}

// A Critical chain whose attacker then writes a second cron table within the update interval: no
// record at once; the background tick sends the update once the wall clock has passed the time left,
// although no record arrives; it is counted.
func TestUpdateSentByTickWithoutRecords(t *testing.T) {
	h := newHarness(t, nil, nil, true)
	defer h.shutdown()
	clock := &fakeClock{t: base}
	h.impl.mu.Lock()
	h.impl.clock = clock.now
	h.impl.mu.Unlock()
	h.consume(minerExec("ssh:1", 0, 100, []int64{10, 1}), poolDNS("ssh:1", time.Second, 100, []int64{10, 1}),
		cronWrite("ssh:1", 2*time.Second, 11), hugepages("ssh:1", 3*time.Second, 12))
	require.Len(t, h.findings(), 3)
	second := cronWrite("ssh:1", 4*time.Second, 13)
	second.attrs["file.path"] = "/etc/cron.d/second"
	h.consume(second)
	require.Len(t, h.findings(), 3, "held: the Critical finding is 1 s old")

	clock.add(10 * time.Second)
	require.Eventually(t, func() bool { return len(h.findings()) == 4 }, 5*time.Second, 50*time.Millisecond, "the tick sends it")
	fs := h.findings()
	upd := fs[3]
	assert.Equal(t, "CRITICAL", upd.SeverityText())
	assert.Equal(t, attrStr(fs[2], contract.AttrFindingID), attrStr(upd, contract.AttrFindingID))
	assert.Equal(t, []any{"response"}, listOf(upd, contract.AttrFindingUpdateReasons))
	added, ok := upd.Attributes().Get(contract.AttrFindingUpdateAdded)
	require.True(t, ok)
	assert.Equal(t, map[string]any{"persistence_paths": []any{"/etc/cron.d/second"}}, added.Map().AsRaw())
	assert.ElementsMatch(t, []any{"/etc/cron.d/kworker", "/etc/cron.d/second"}, listOf(upd, contract.AttrResponsePersistencePaths))
	assert.Equal(t, int64(1), upd.Attributes().AsRaw()[contract.AttrFindingUpdateCoalesced])
	assert.Equal(t, 1, checkUpdates(t, fs))

	h.impl.mu.Lock()
	h.impl.flush(t.Context())
	h.impl.mu.Unlock()
	metadatatest.AssertEqualCryptochainFindingUpdates(t, h.tel, []metricdata.DataPoint[int64]{
		{Value: 1, Attributes: attribute.NewSet(attribute.String("reason", "response"))}}, metricdatatest.IgnoreTimestamp())
	metadatatest.AssertEqualCryptochainFindingUpdatesCoalesced(t, h.tel, []metricdata.DataPoint[int64]{{Value: 1}}, metricdatatest.IgnoreTimestamp())
}

// A refused update is offered again (same id, same additions) until the next consumer takes it.
func TestUpdateRefusedIsOfferedAgain(t *testing.T) {
	r := &refusing{}
	h := newHarnessNext(t, nil, nil, true, func(s *consumertest.LogsSink) consumer.Logs { r.sink = s; return r })
	defer h.shutdown()
	clock := &fakeClock{t: base}
	h.impl.mu.Lock()
	h.impl.clock = clock.now
	h.impl.mu.Unlock()
	h.consume(minerExec("ssh:1", 0, 100, []int64{10, 1}), poolDNS("ssh:1", time.Second, 100, []int64{10, 1}),
		cronWrite("ssh:1", 2*time.Second, 11), hugepages("ssh:1", 3*time.Second, 12))
	second := cronWrite("ssh:1", time.Minute, 13)
	second.attrs["file.path"] = "/etc/cron.d/second"
	r.n.Store(1)
	assert.Error(t, h.proc.ConsumeLogs(t.Context(), logsOf(second)))
	require.Len(t, h.findings(), 3)
	clock.add(time.Second)                            // past the first backoff
	h.consume(benignExec("ssh:2", 2*time.Minute, 14)) // the refused update rides along
	fs := h.findings()
	require.Len(t, fs, 4)
	added, ok := fs[3].Attributes().Get(contract.AttrFindingUpdateAdded)
	require.True(t, ok)
	assert.Equal(t, map[string]any{"persistence_paths": []any{"/etc/cron.d/second"}}, added.Map().AsRaw())
}
