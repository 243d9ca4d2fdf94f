package cryptochainprocessor

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/storagetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/metadatatest"
)

// TestPeriodicSweepDropsIdleContexts: a context whose process exited and that receives nothing more
// is dropped by the background sweep once newer records (elsewhere) pass its window.
func TestPeriodicSweepDropsIdleContexts(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Window = 5 * time.Second }, nil, true) // sweep every second
	defer h.shutdown()
	h.consume(minerExec("idle", 0, 100, line), exitOf("idle", time.Second, 100, 1))
	h.consume(minerExec("busy", time.Minute, 200, line))
	require.Eventually(t, func() bool {
		h.impl.mu.Lock()
		defer h.impl.mu.Unlock()
		return h.impl.tracker.Len() == 1
	}, 10*time.Second, 50*time.Millisecond)
	metadatatest.AssertEqualCryptochainActiveContexts(t, h.tel, []metricdata.DataPoint[int64]{{Value: 1}}, metricdatatest.IgnoreTimestamp())
}

// TestConcurrentConsumers: the pipeline may call ConsumeLogs from several goroutines.
func TestConcurrentConsumers(t *testing.T) {
	h := newHarness(t, nil, nil, true)
	defer h.shutdown()
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := string(rune('a' + g))
			for i := 0; i < 50; i++ {
				at := time.Duration(i) * time.Second
				assert.NoError(t, h.proc.ConsumeLogs(context.Background(), logsOf(
					minerExec(ctx, at, 100, line), benignExec(ctx, at, 7), poolDNS(ctx, at, 100, line))))
			}
		}()
	}
	wg.Wait()
	assert.Len(t, h.findings(), 4) // one Medium per context, never repeated
}

// failingStorage is a storage extension whose writes fail.
type failingStorage struct{ component.Component }

func (failingStorage) GetClient(context.Context, component.Kind, component.ID, string) (storage.Client, error) {
	return failingClient{Client: storage.NewNopClient()}, nil
}

type failingClient struct{ storage.Client }

func (failingClient) Batch(context.Context, ...*storage.Operation) error {
	return errors.New("disk full")
}

type hostWith map[component.ID]component.Component

func (h hostWith) GetExtensions() map[component.ID]component.Component { return h }

func TestStorageErrorsCounted(t *testing.T) {
	id := component.MustNewIDWithName("file_storage", "broken")
	host := hostWith{id: failingStorage{}}
	h := newHarness(t, func(c *Config) { c.Storage = &id }, host, true)
	defer h.shutdown()
	clock := &fakeClock{t: base}
	h.impl.clock = clock.now
	h.consume(minerExec("c", 0, 100, line))
	h.consume(poolDNS("c", time.Second, 100, line))
	assert.Len(t, h.findings(), 1, "detection goes on when storage fails")
	// One failed restore (the client cannot list entries) and one failed batch write: the second
	// call falls within the backoff.
	metadatatest.AssertEqualCryptochainStorageErrors(t, h.tel, []metricdata.DataPoint[int64]{{Value: 2}}, metricdatatest.IgnoreTimestamp())
	clock.add(firstSaveDelay)
	h.consume(benignExec("c", 2*time.Second, 7))
	metadatatest.AssertEqualCryptochainStorageErrors(t, h.tel, []metricdata.DataPoint[int64]{{Value: 3}}, metricdatatest.IgnoreTimestamp())
	metadatatest.AssertEqualCryptochainStoragePending(t, h.tel, []metricdata.DataPoint[int64]{{Value: 1}}, metricdatatest.IgnoreTimestamp())
}

// TestRestartKeepsContextTree: after a restart, persistence in the parent session still escalates the
// miner's chain restored from storage (the context tree is rebuilt from the stored resources).
func TestRestartKeepsContextTree(t *testing.T) {
	dir := t.TempDir()
	id := storagetest.NewStorageID("chains")
	withStorage := func(c *Config) { c.Storage = &id }
	child := func(r rec) plog.Logs {
		ld := logsOf(r)
		ld.ResourceLogs().At(0).Resource().Attributes().PutStr("cryptochain.context.parent_id", "login:1")
		return ld
	}
	h1 := newHarness(t, withStorage, storagetest.NewStorageHost().WithFileBackedStorageExtension("chains", dir), true)
	require.NoError(t, h1.proc.ConsumeLogs(context.Background(), child(minerExec("daemonized:2", 0, 100, line))))
	require.NoError(t, h1.proc.ConsumeLogs(context.Background(), child(poolDNS("daemonized:2", time.Second, 100, line))))
	require.Len(t, h1.findings(), 1)
	h1.shutdown()

	h2 := newHarness(t, withStorage, storagetest.NewStorageHost().WithFileBackedStorageExtension("chains", dir), true)
	defer h2.shutdown()
	h2.consume(cronWrite("login:1", 2*time.Second, 50))
	fs := h2.findings()
	require.Len(t, fs, 1)
	assert.Equal(t, "HIGH", fs[0].SeverityText())
	assert.Equal(t, "daemonized:2", attrStr(fs[0], "cryptochain.finding.context.id"))
}
