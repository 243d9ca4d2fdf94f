package cryptochainprocessor // import "github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor"

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// flush records telemetry and persists the contexts changed by this call.
func (p *cryptochainProcessor) flush(ctx context.Context) {
	for g, n := range p.classified {
		if n > 0 {
			p.tb.CryptochainEventsClassified.Add(ctx, n, p.groupAttrs[g])
			p.classified[g] = 0
		}
	}
	for l, n := range p.emitted {
		if n > 0 {
			p.tb.CryptochainFindings.Add(ctx, n, p.severityAttrs[l])
			p.emitted[l] = 0
		}
	}
	if n := p.cl.Panics(); n > p.panics {
		p.tb.CryptochainClassifierPanics.Add(ctx, int64(n-p.panics))
		p.panics = n
	}
	if p.malformed > 0 {
		p.tb.CryptochainRecordsMalformed.Add(ctx, p.malformed)
		p.malformed = 0
	}
	evicted, dropped := p.tracker.TakeCounters()
	if evicted > 0 {
		p.tb.CryptochainEvictedContexts.Add(ctx, evicted)
	}
	if dropped > 0 {
		p.tb.CryptochainEvidenceDropped.Add(ctx, dropped)
	}
	for r, n := range p.updates {
		if n > 0 {
			p.tb.CryptochainFindingUpdates.Add(ctx, n, metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", r))))
			p.updates[r] = 0
		}
	}
	if coalesced, candidates := p.tracker.TakeUpdateCounters(); coalesced > 0 || candidates > 0 {
		p.tb.CryptochainFindingUpdatesCoalesced.Add(ctx, coalesced)
		p.tb.CryptochainRespawnCandidatesDropped.Add(ctx, candidates)
	}
	if p.refused > 0 {
		p.tb.CryptochainFindingsRefused.Add(ctx, p.refused)
		p.refused = 0
	}
	if p.abandoned > 0 {
		p.tb.CryptochainFindingsUndelivered.Add(ctx, p.abandoned)
		p.abandoned = 0
	}
	p.persist(ctx, false)
	p.tb.CryptochainActiveContexts.Record(ctx, int64(p.tracker.Len()))
	p.campaignPersist(ctx, false)
	p.tb.CryptochainTombstones.Record(ctx, int64(p.tracker.Tombstones()))
	p.tb.CryptochainStateBytes.Record(ctx, p.tracker.Bytes())
	if p.store != nil {
		p.tb.CryptochainStoragePending.Record(ctx, int64(p.tracker.PendingSaves()))
	}
}
