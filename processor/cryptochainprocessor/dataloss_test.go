package cryptochainprocessor

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
)

func suppressedRec(ctx string, pid, count int64) rec {
	return rec{ctx: ctx, name: contract.EventSuppressed, pid: pid, attrs: map[string]any{
		contract.AttrSuppressedKind: "file", contract.AttrSuppressedCount: count, "file.path": "/etc/cron.d/x"}}
}

func ringLossRec(count int64) rec {
	return rec{name: contract.EventDataLoss, attrs: map[string]any{
		contract.AttrLossRing: contract.RingBulk, contract.AttrLossKind: "file", contract.AttrLossCount: count}}
}

func dataLoss(lr plog.LogRecord) []string {
	v, ok := lr.Attributes().Get(contract.AttrFindingDataLoss)
	if !ok {
		return nil
	}
	var out []string
	for i := 0; i < v.Slice().Len(); i++ {
		out = append(out, v.Slice().At(i).Str())
	}
	return out
}

func findingOf(t *testing.T, fs []plog.LogRecord, ctx string) plog.LogRecord {
	t.Helper()
	for _, f := range fs {
		if attrStr(f, contract.AttrFindingContextID) == ctx {
			return f
		}
	}
	require.Failf(t, "no finding", "context %s", ctx)
	return plog.LogRecord{}
}

func TestSuppressionMarksOnlyItsContext(t *testing.T) {
	h := newHarness(t, nil, nil, true)
	defer h.shutdown()
	h.consume(suppressedRec("ctx-a", 10, 5000), suppressedRec("ctx-a", 11, 7))
	h.consume(minerExec("ctx-a", 0, 10, []int64{1}), poolDNS("ctx-a", time.Second, 10, []int64{1}),
		minerExec("ctx-b", 0, 20, []int64{1}), poolDNS("ctx-b", time.Second, 20, []int64{1}))
	fs := h.findings()
	a, b := findingOf(t, fs, "ctx-a"), findingOf(t, fs, "ctx-b")
	assert.Equal(t, []string{contract.DataLossSuppressed}, dataLoss(a))
	n, ok := a.Attributes().Get(contract.AttrFindingSuppressedCount)
	require.True(t, ok)
	assert.EqualValues(t, 5007, n.Int())
	assert.Nil(t, dataLoss(b), "another context's flood says nothing about this chain")
}

func TestRingLossMarksFindingsOfTheWindow(t *testing.T) {
	h := newHarness(t, nil, nil, true)
	defer h.shutdown()
	h.consume(ringLossRec(488))
	h.consume(minerExec("ctx-a", 0, 10, []int64{1}), poolDNS("ctx-a", time.Second, 10, []int64{1}))
	assert.Equal(t, []string{contract.DataLossRing}, dataLoss(findingOf(t, h.findings(), "ctx-a")),
		"records of unknown context were lost: any finding of the window may be incomplete")

	// A window later the loss is no longer recent.
	later := base.Add(24*time.Hour + h.impl.cfg.Window + time.Second)
	h.impl.now = func() time.Time { return later }
	h.consume(minerExec("ctx-c", 0, 30, []int64{1}), poolDNS("ctx-c", time.Second, 30, []int64{1}))
	assert.Nil(t, dataLoss(findingOf(t, h.findings(), "ctx-c")))
}

func TestLossTrackerIsBounded(t *testing.T) {
	l := newLossTracker(time.Minute, []string{contract.ResourceContextID})
	now := base
	for i := 0; i < 3*maxLossContexts; i++ {
		ld := logsOf(suppressedRec("ctx-"+time.Duration(i).String(), 1, 1))
		rl := ld.ResourceLogs().At(0)
		require.True(t, l.observe(rl.ScopeLogs().At(0).LogRecords().At(0), rl.Resource(), now))
		now = now.Add(time.Millisecond)
	}
	assert.LessOrEqual(t, len(l.suppressed), maxLossContexts)
}
