package cryptochainprocessor // import "github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor"

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.uber.org/zap"

	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/chain"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/store"
)

// Saves that fail are retried with backoff, from firstSaveDelay up to maxSaveDelay, until one
// succeeds: what changed meanwhile (writes and deletes) stays queued in the tracker.
const (
	firstSaveDelay = time.Second
	maxSaveDelay   = time.Minute
)

// restore opens the configured storage extension and loads the chains a previous run left open.
// Entries that fail to load are reported, not fatal: detection goes on with the rest. What the
// bounds evict while loading is deleted from the store by the save that ends the restore.
func (p *cryptochainProcessor) restore(ctx context.Context, host component.Host) error {
	ext, ok := host.GetExtensions()[*p.cfg.Storage]
	if !ok {
		return fmt.Errorf("storage: extension %q not found", p.cfg.Storage.String())
	}
	se, ok := ext.(storage.Extension)
	if !ok {
		return fmt.Errorf("storage: extension %q is not a storage extension", p.cfg.Storage.String())
	}
	client, err := se.GetClient(ctx, component.KindProcessor, p.set.ID, "")
	if err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	p.store = store.New(client)
	loaded, err := p.store.Load(ctx)
	links, lerr := p.store.LoadLinks(ctx)
	err = errors.Join(err, lerr)

	p.mu.Lock()
	// Oldest first, so that if the bounds are now smaller the newest chains stay.
	slices.SortStableFunc(loaded.Contexts, func(a, b *chain.Context) int { return cmpInt64(a.MaxTime, b.MaxTime) })
	slices.SortStableFunc(loaded.Tombs, func(a, b *chain.Context) int { return cmpInt64(a.MaxTime, b.MaxTime) })
	for _, c := range loaded.Contexts {
		p.tracker.Restore(c)
	}
	for _, tc := range loaded.Tombs {
		p.tracker.RestoreTomb(tc)
	}
	p.tracker.RestoreLinks(links)
	evicted, _ := p.tracker.TakeCounters()
	p.persist(ctx, true)
	n, tombs := p.tracker.Len(), p.tracker.Tombstones()
	p.tb.CryptochainActiveContexts.Record(ctx, int64(n))
	p.mu.Unlock()
	if err != nil {
		p.tb.CryptochainStorageErrors.Add(ctx, 1)
		p.logger.Error("Some stored chains could not be restored", zap.Error(err))
	}
	if evicted > 0 {
		p.tb.CryptochainEvictedContexts.Add(ctx, evicted)
	}
	p.logger.Info("Restored open chains", zap.Int("contexts", n), zap.Int("tombstones", tombs),
		zap.Int("stored_contexts", len(loaded.Contexts)), zap.Int64("evicted", evicted))
	return nil
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// persist writes the contexts and tombstones changed since the last successful save and deletes
// the dropped ones. A failed save hands the changes back to the tracker and is retried (all of it,
// with what changed since) once the backoff has passed; force (restore, shutdown) ignores the
// backoff. Without a store the changes are discarded.
func (p *cryptochainProcessor) persist(ctx context.Context, force bool) {
	if p.store == nil {
		p.tracker.TakeChanges()
		return
	}
	now := p.clock()
	if !force && now.Before(p.saveAt) {
		return
	}
	ch := p.tracker.TakeChanges()
	if err := p.store.Save(ctx, ch); err != nil {
		p.tracker.Requeue(ch)
		p.saveDelay = min(max(2*p.saveDelay, firstSaveDelay), maxSaveDelay)
		p.saveAt = now.Add(p.saveDelay)
		if !errors.Is(err, context.Canceled) {
			p.tb.CryptochainStorageErrors.Add(ctx, 1)
			p.logger.Warn("Persisting chains failed; retrying", zap.Error(err),
				zap.Int("pending", p.tracker.PendingSaves()), zap.Duration("retry_in", p.saveDelay))
		}
		return
	}
	p.tracker.Saved(ch)
	p.saveDelay, p.saveAt = 0, time.Time{}
}
