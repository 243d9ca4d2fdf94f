package cryptochainprocessor // import "github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor"

import (
	"cmp"
	"slices"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/chain"
)

// A finding reported again at its severity (chain.Finding.Update) says why and what it adds, so a
// consumer can tell it from an escalation and a response can act on what is new (docs/events.md).

// putUpdate writes the update attributes of f to a.
func putUpdate(a pcommon.Map, f *chain.Finding) {
	reasons := a.PutEmptySlice(contract.AttrFindingUpdateReasons)
	for _, r := range f.Reasons {
		reasons.AppendEmpty().SetStr(r)
	}
	if len(f.Added) > 0 {
		// Pids in ascending order; strings in the order the response lists name them.
		slices.SortStableFunc(f.Added, func(x, y chain.Fact) int {
			if x.Kind != y.Kind {
				return int(x.Kind) - int(y.Kind)
			}
			return cmp.Compare(x.PID, y.PID)
		})
		added := a.PutEmptyMap(contract.AttrFindingUpdateAdded)
		for k := chain.FactKind(0); k < chain.NumFactKinds; k++ {
			var s pcommon.Slice
			for i := range f.Added {
				fa := &f.Added[i]
				if fa.Kind != k {
					continue
				}
				if s == (pcommon.Slice{}) {
					s = added.PutEmptySlice(k.String())
				}
				if k == chain.FactMinerPID {
					s.AppendEmpty().SetInt(fa.PID)
				} else {
					s.AppendEmpty().SetStr(fa.Value)
				}
			}
		}
	}
	if f.Coalesced > 0 {
		a.PutInt(contract.AttrFindingUpdateCoalesced, f.Coalesced)
	}
}

// dueUpdates emits the updates whose wait is over (p.mu held).
func (p *cryptochainProcessor) dueUpdates() {
	if !p.tracker.UpdatesHeld() {
		return
	}
	for _, f := range p.tracker.DueUpdates(p.clock().UnixNano()) {
		p.emit(f)
	}
}
