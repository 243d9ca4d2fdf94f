package cryptochainresponseexporter // import "github.com/cryptochain-otel/cryptochain/exporter/cryptochainresponseexporter"

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/cryptochain-otel/cryptochain/exporter/cryptochainresponseexporter/internal/metadata"
)

// NewFactory returns the factory of the cryptochain_response exporter.
func NewFactory() exporter.Factory {
	return exporter.NewFactory(metadata.Type, createDefaultConfig,
		exporter.WithLogs(createLogs, metadata.LogsStability))
}

func createDefaultConfig() component.Config {
	return &Config{
		DryRun: true,
		Actions: map[string][]string{
			"medium":   {ActionBlock, ActionTerminate},
			"high":     {ActionBlock, ActionTerminate, ActionQuarantine},
			"critical": {ActionBlock, ActionTerminate, ActionQuarantine, ActionIsolate},
		},
		KillSwitchFile: "/run/cryptochain-response.disabled",
		Terminate:      TerminateConfig{Descendants: true, Wait: time.Second},
		Block:          BlockConfig{TTL: time.Hour, ListFile: "./data/response-blocks.json"},
		Isolate:        IsolateConfig{Mode: IsolateFreeze},
		Quarantine:     QuarantineConfig{Directory: "/var/lib/otelcol-cryptochain/quarantine"},
		RateLimit:      RateLimitConfig{ActionsPerMinute: 60, Burst: 20},
		Audit:          AuditConfig{Path: "./data/response-audit.jsonl"},
		QueueSize:      256,
	}
}

func createLogs(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Logs, error) {
	r, err := newResponder(set, cfg.(*Config))
	if err != nil {
		return nil, err
	}
	return exporterhelper.NewLogs(ctx, set, cfg, r.consumeLogs,
		exporterhelper.WithStart(r.start),
		exporterhelper.WithShutdown(r.shutdown),
		exporterhelper.WithCapabilities(consumer.Capabilities{MutatesData: false}),
	)
}
