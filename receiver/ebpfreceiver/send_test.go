package ebpfreceiver

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/metadata"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/metadatatest"
)

// refusing is a next consumer that refuses with err the first refuse calls, then accepts.
type refusing struct {
	mu       sync.Mutex
	err      error
	refuse   int
	calls    int
	accepted int
}

func (c *refusing) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

func (c *refusing) ConsumeLogs(_ context.Context, ld plog.Logs) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	if c.calls <= c.refuse {
		return c.err
	}
	c.accepted += ld.LogRecordCount()
	return nil
}

func (c *refusing) state() (calls, accepted int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls, c.accepted
}

func startRefusing(t *testing.T, next consumer.Logs) (*ebpfReceiver, *fakeSource, *componenttest.Telemetry, *observer.ObservedLogs) {
	t.Helper()
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	src := newFakeSource()
	set := receivertest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	core, logs := observer.New(zap.WarnLevel)
	set.Logger = zap.New(core)
	r, err := newReceiver(set, testConfig(t), next, src.factory())
	require.NoError(t, err)
	require.NoError(t, r.Start(context.Background(), componenttest.NewNopHost()))
	r.out.first, r.out.most, r.out.total = 5*time.Millisecond, 20*time.Millisecond, 500*time.Millisecond
	t.Cleanup(func() { require.NoError(t, r.Shutdown(context.Background())) })
	return r, src, tel, logs
}

// A batch refused with a retryable error (memory_limiter under pressure) is delivered once the
// consumer takes it again; nothing is dropped.
func TestRefusedBatchIsRetried(t *testing.T) {
	next := &refusing{err: errors.New("data refused due to high memory usage"), refuse: 3}
	_, src, tel, logs := startRefusing(t, next)
	src.push(execEv(900, 1, 1e9, 1, "a", "/bin/a", "a"), execEv(901, 1, 2e9, 1, "b", "/bin/b", "b"))
	require.Eventually(t, func() bool { _, n := next.state(); return n == 2 }, 5*time.Second, 5*time.Millisecond)
	calls, _ := next.state()
	assert.GreaterOrEqual(t, calls, 4)
	metadatatest.AssertEqualEbpfRecordsDropped(t, tel, []metricdata.DataPoint[int64]{{Value: 0}}, metricdatatest.IgnoreTimestamp())
	assert.Zero(t, logs.Len(), "no warning when nothing was dropped")
}

// A permanent refusal is not retried: the records are counted as dropped and a warning says so;
// a consumer that keeps refusing is given up on after the retry time, counted the same way.
func TestRefusedBatchIsCountedWhenDropped(t *testing.T) {
	for name, next := range map[string]*refusing{
		"permanent": {err: consumererror.NewPermanent(errors.New("bad data")), refuse: 1},
		"keeps on":  {err: errors.New("refused"), refuse: 1 << 30},
	} {
		t.Run(name, func(t *testing.T) {
			_, src, tel, logs := startRefusing(t, next)
			src.push(execEv(900, 1, 1e9, 1, "a", "/bin/a", "a"))
			require.Eventually(t, func() bool { return logs.FilterMessageSnippet("ebpf records dropped").Len() == 1 }, 5*time.Second, 5*time.Millisecond)
			metadatatest.AssertEqualEbpfRecordsDropped(t, tel, []metricdata.DataPoint[int64]{{Value: 1}}, metricdatatest.IgnoreTimestamp())
			if name == "permanent" {
				calls, _ := next.state()
				assert.Equal(t, 1, calls, "a permanent error is not retried")
			}
		})
	}
}

// While the consumer refuses, new batches wait in a bounded queue and the reader never waits; when
// the queue is full the oldest batch is dropped and counted.
func TestSendQueueIsBounded(t *testing.T) {
	block := make(chan struct{})
	next := consumerFunc(func(context.Context, plog.Logs) error { <-block; return nil })
	r, _, tel, _ := startRefusing(t, next)
	defer close(block)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range sendQueue + 5 {
			ld := plog.NewLogs()
			ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
			r.out.enqueue(batch{ld: ld, n: 1})
		}
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("enqueue blocked")
	}
	// One batch is with the consumer, sendQueue wait, the rest were dropped.
	require.Eventually(t, func() bool {
		m, err := tel.GetMetric("otelcol_ebpf_records_dropped")
		if err != nil {
			return false
		}
		s := m.Data.(metricdata.Sum[int64])
		return len(s.DataPoints) == 1 && s.DataPoints[0].Value >= 4
	}, 5*time.Second, 5*time.Millisecond)
}

type consumerFunc func(context.Context, plog.Logs) error

func (f consumerFunc) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

func (f consumerFunc) ConsumeLogs(ctx context.Context, ld plog.Logs) error { return f(ctx, ld) }
