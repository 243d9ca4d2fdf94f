package cryptochainprocessor // import "github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor"

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"

	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/metadata"
)

type cryptochainProcessor struct {
	cfg *Config
	set processor.Settings
	tb  *metadata.TelemetryBuilder
}

func newProcessor(set processor.Settings, cfg *Config) (*cryptochainProcessor, error) {
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	return &cryptochainProcessor{cfg: cfg, set: set, tb: tb}, nil
}

func (p *cryptochainProcessor) start(context.Context, component.Host) error { return nil }

func (p *cryptochainProcessor) shutdown(context.Context) error {
	p.tb.Shutdown()
	return nil
}

// processLogs is a placeholder until the correlation lands: it forwards per `forward`.
func (p *cryptochainProcessor) processLogs(_ context.Context, ld plog.Logs) (plog.Logs, error) {
	if p.cfg.Forward != ForwardAll {
		return ld, processorhelper.ErrSkipProcessingData
	}
	return ld, nil
}
