package cryptochainprocessor // import "github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor"

import (
	"context"
	"errors"
	"fmt"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.uber.org/zap"

	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/chain"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/store"
)

// restore opens the configured storage extension and loads the chains a previous run left open.
// Entries that fail to load are reported, not fatal: detection goes on with the rest.
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
	p.mu.Lock()
	n := 0
	err = p.store.Load(ctx, func(c *chain.Context) {
		p.tracker.Restore(c)
		n++
	})
	links, lerr := p.store.LoadLinks(ctx)
	p.tracker.RestoreLinks(links)
	p.tracker.TakeChanges() // what was just loaded needs no writing back
	err = errors.Join(err, lerr)
	p.tb.CryptochainActiveContexts.Record(ctx, int64(p.tracker.Len()))
	p.mu.Unlock()
	if err != nil {
		p.tb.CryptochainStorageErrors.Add(ctx, 1)
		p.logger.Warn("Some stored chains could not be restored", zap.Error(err))
	}
	p.logger.Info("Restored open chains", zap.Int("contexts", n))
	return nil
}

// persist writes the contexts changed since the last call and deletes the dropped ones.
func (p *cryptochainProcessor) persist(ctx context.Context) {
	ch := p.tracker.TakeChanges()
	if p.store == nil {
		return
	}
	err := p.store.Save(ctx, ch.Contexts, ch.Removed)
	if links, changed := ch.Links(); changed {
		err = errors.Join(err, p.store.SaveLinks(ctx, links))
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		p.tb.CryptochainStorageErrors.Add(ctx, 1)
		p.logger.Warn("Persisting chains failed", zap.Error(err))
	}
}
