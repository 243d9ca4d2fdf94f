package cryptochainprocessor // import "github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor"

import (
	"context"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor"

	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/chain"
)

// A finding counts as reported once the next consumer accepted the call that carried it (its
// ConsumeLogs returned nil). Until then the chain's reported level stays where it was; a refusal
// offers the finding again (chain.Tracker.Refused/Retry).

// delivery lists the findings one call emitted: context key and level.
type delivery struct {
	keys   []string
	levels []chain.Level
}

func (d *delivery) add(f *chain.Finding) {
	d.keys = append(d.keys, f.Context.Key)
	d.levels = append(d.levels, f.Level)
}

type deliveryKey struct{}

// settle records the next consumer's answer to the findings of d.
func (p *cryptochainProcessor) settle(d *delivery, err error) {
	if d == nil || len(d.keys) == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.clock().UnixNano()
	for i, k := range d.keys {
		if err == nil {
			p.tracker.Accepted(k, d.levels[i])
			continue
		}
		p.refused++
		if !p.tracker.Refused(k, d.levels[i], now) {
			p.abandoned++
		}
	}
}

// deliveringLogs wraps the processorhelper pipeline of the processor: it gives each call a
// delivery for the findings it emits, and settles it with what the next consumer answered.
type deliveringLogs struct {
	processor.Logs
	p *cryptochainProcessor
}

func (l deliveringLogs) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	d := &delivery{}
	err := l.Logs.ConsumeLogs(context.WithValue(ctx, deliveryKey{}, d), ld)
	l.p.settle(d, err)
	return err
}
