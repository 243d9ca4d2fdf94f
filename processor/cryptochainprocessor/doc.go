//go:generate go tool -modfile=../../internal/tools/go.mod mdatagen metadata.yaml

// Package cryptochainprocessor is the `cryptochain` logs processor: lifecycle, pdata loop, forwarding, allowlist, telemetry.
// It must not know how records are graded (internal/classify) or how chains are correlated (internal/chain).
package cryptochainprocessor // import "github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor"
