//go:build !linux || !amd64

package kernel // import "github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/kernel"

import (
	"errors"
	"runtime"

	"go.uber.org/zap"

	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/event"
)

// New reports that the eBPF source needs Linux on amd64.
func New(_ event.Options, _ *zap.Logger) (event.Source, error) {
	return nil, errors.New("the ebpf receiver requires Linux amd64 (running on " + runtime.GOOS + "/" + runtime.GOARCH + ")")
}
