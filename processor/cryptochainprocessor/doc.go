//go:generate go tool -modfile=../../internal/tools/go.mod mdatagen metadata.yaml

// Package cryptochainprocessor implements the `cryptochain` logs processor: it classifies host
// activity records (docs/events.md) into the four activity groups of a cryptomining attack chain,
// correlates them per execution context and process line, and emits one finding record per
// severity escalation (Medium → High → Critical).
package cryptochainprocessor // import "github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor"
