package ebpfreceiver // import "github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver"

import (
	"go.uber.org/zap"

	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/event"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/kernel"
)

// newKernelSource builds the eBPF source of internal/kernel.
func newKernelSource(opts event.Options, logger *zap.Logger) (event.Source, error) {
	return kernel.New(opts, logger)
}
