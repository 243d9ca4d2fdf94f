package ebpfreceiver // import "github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver"

import (
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/receiver"

	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/metadata"
)

// NewFactory returns the ebpf receiver factory. It exists on every platform so that a distribution
// compiles everywhere; creating the receiver off Linux fails with a clear error.
func NewFactory() receiver.Factory {
	return receiver.NewFactory(metadata.Type, func() component.Config { return createDefaultConfig() },
		receiver.WithLogs(createLogs, metadata.LogsStability))
}
