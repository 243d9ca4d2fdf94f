//go:generate go tool -modfile=../../internal/tools/go.mod mdatagen metadata.yaml

// Package cryptochainresponseexporter implements the `cryptochain_response` logs exporter: it reads
// `cryptochain.finding` records and, per severity, terminates the miner processes, blocks the pool
// endpoints in the kernel, isolates the container and quarantines the persistence files, each
// checked against the finding's own scope, dry run by default, every step audited.
package cryptochainresponseexporter // import "github.com/cryptochain-otel/cryptochain/exporter/cryptochainresponseexporter"
