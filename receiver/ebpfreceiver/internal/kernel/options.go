package kernel // import "github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/kernel"

import (
	"fmt"
	"time"

	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/event"
)

// Bounds the BPF programs are compiled with; Options beyond them are refused.
const (
	MaxArgvBytes   = 8192 // ARGS_CAP in bpf/include/records.h
	MaxEnvBytes    = 8192
	MaxExcludePIDs = 8   // EXCLUDE_MAX in bpf/include/records.h
	MaxPrefixes    = 512 // PREFIXES_MAX in bpf/include/records.h
	MaxPrefixLen   = 256 // LPM_CAP in bpf/include/records.h: longer prefixes cannot be matched

	DefaultRingBufferSize = 4 << 20
	// DefaultLifecycleRingSize holds about five seconds of the fastest exec storm this kind of
	// machine runs (≈1,400 exec/s at ≈1.2 KiB per exec and exit), and over half a second of one
	// whose every exec carries the full default 4 KiB of argv and of environment.
	DefaultLifecycleRingSize = 8 << 20
	DefaultPollInterval      = 100 * time.Millisecond
	DefaultArgvMaxBytes      = 4096
	DefaultEnvMaxBytes       = 4096
)

// DefaultAlwaysPrefixes are reported on any open whatever its flags or result.
var DefaultAlwaysPrefixes = []string{"/dev/cpu/"}

// withDefaults fills zero values and checks the rest; errors name the option.
func withDefaults(o event.Options) (event.Options, error) {
	if o.RingBufferSize == 0 {
		o.RingBufferSize = DefaultRingBufferSize
	}
	if o.RingBufferSize < 4096 || o.RingBufferSize&(o.RingBufferSize-1) != 0 {
		return o, fmt.Errorf("ring buffer size %d: must be a power of two of at least 4096 bytes", o.RingBufferSize)
	}
	if o.LifecycleRingSize == 0 {
		o.LifecycleRingSize = DefaultLifecycleRingSize
	}
	if o.LifecycleRingSize < 4096 || o.LifecycleRingSize&(o.LifecycleRingSize-1) != 0 {
		return o, fmt.Errorf("lifecycle ring size %d: must be a power of two of at least 4096 bytes", o.LifecycleRingSize)
	}
	if o.PollInterval == 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.PollInterval < time.Millisecond {
		return o, fmt.Errorf("poll interval %v: must be at least 1ms", o.PollInterval)
	}
	if o.ArgvMaxBytes == 0 {
		o.ArgvMaxBytes = DefaultArgvMaxBytes
	}
	if o.EnvMaxBytes == 0 {
		o.EnvMaxBytes = DefaultEnvMaxBytes
	}
	if o.ArgvMaxBytes < 0 || o.ArgvMaxBytes > MaxArgvBytes {
		return o, fmt.Errorf("argv max bytes %d: must be between 1 and %d", o.ArgvMaxBytes, MaxArgvBytes)
	}
	if o.EnvMaxBytes < 0 || o.EnvMaxBytes > MaxEnvBytes {
		return o, fmt.Errorf("env max bytes %d: must be between 1 and %d", o.EnvMaxBytes, MaxEnvBytes)
	}
	if o.ArgvMaxArgs < 0 || o.EnvMaxVars < 0 {
		return o, fmt.Errorf("argv max args / env max vars must not be negative")
	}
	if len(o.ExcludePIDs) > MaxExcludePIDs {
		return o, fmt.Errorf("exclude pids: at most %d, got %d", MaxExcludePIDs, len(o.ExcludePIDs))
	}
	if o.AlwaysPrefixes == nil {
		o.AlwaysPrefixes = DefaultAlwaysPrefixes
	}
	if _, err := prefixTable(o.WatchedPrefixes, o.AlwaysPrefixes); err != nil {
		return o, err
	}
	return o, nil
}
