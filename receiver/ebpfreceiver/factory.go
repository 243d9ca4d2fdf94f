package ebpfreceiver // import "github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver"

import (
	"context"
	"errors"
	"runtime"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"

	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/kernel"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/metadata"
)

// NewFactory returns the ebpf receiver factory. It exists on every platform so that a distribution
// compiles everywhere; creating the receiver off Linux fails with a clear error.
func NewFactory() receiver.Factory {
	return receiver.NewFactory(metadata.Type, func() component.Config { return createDefaultConfig() },
		receiver.WithLogs(createLogs, metadata.LogsStability))
}

// createLogs builds the receiver on the kernel's event source.
func createLogs(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Logs) (receiver.Logs, error) {
	if runtime.GOOS != "linux" {
		return nil, errors.New("the ebpf receiver needs Linux (eBPF and procfs); it cannot run on " + runtime.GOOS)
	}
	return newReceiver(set, cfg.(*Config), next, kernel.New)
}
