package cryptochainprocessor // import "github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor"

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/chain"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/metadata"
)

// Defaults.
const (
	defaultWindow                = time.Hour
	defaultMaxContexts           = 10000
	defaultMaxEvidencePerContext = 64
	defaultMaxStateBytes         = 64 << 20
	defaultMaxTombstones         = 4096
)

// NewFactory returns the factory of the cryptochain processor.
func NewFactory() processor.Factory {
	return processor.NewFactory(
		metadata.Type,
		createDefaultConfig,
		processor.WithLogs(createLogs, metadata.LogsStability),
	)
}

func createDefaultConfig() component.Config {
	return &Config{
		ContextKeys:           []string{contract.ResourceHostID, contract.ResourceContainerID, contract.ResourceContextID},
		Window:                defaultWindow,
		MaxContexts:           defaultMaxContexts,
		MaxEvidencePerContext: defaultMaxEvidencePerContext,
		MaxStateBytes:         defaultMaxStateBytes,
		MaxTombstones:         defaultMaxTombstones,
		UpdateInterval:        chain.DefaultUpdateInterval,
		Forward:               ForwardIndicators,
		Impact:                ImpactConfig{Interval: time.Minute, PricePerCoreHour: 0.05, Currency: "USD"},
		Campaigns: CampaignsConfig{
			MinHosts:      2,
			MaxCampaigns:  1000,
			MaxHosts:      256,
			MaxContainers: 256,
			MaxIndicators: 32,
		},
	}
}

func createLogs(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Logs) (processor.Logs, error) {
	p, err := newProcessor(set, cfg.(*Config))
	if err != nil {
		return nil, err
	}
	return newLogsProcessor(ctx, set, cfg, next, p)
}

func newLogsProcessor(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Logs, p *cryptochainProcessor) (processor.Logs, error) {
	p.next = next
	lp, err := processorhelper.NewLogs(ctx, set, cfg, next, p.processLogs,
		processorhelper.WithStart(p.start),
		processorhelper.WithShutdown(p.shutdown),
		processorhelper.WithCapabilities(consumer.Capabilities{MutatesData: true}),
	)
	if err != nil {
		return nil, err
	}
	return deliveringLogs{Logs: lp, p: p}, nil
}
