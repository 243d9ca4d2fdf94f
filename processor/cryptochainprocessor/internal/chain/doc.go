// Package chain holds the correlation state of the cryptochain processor: per execution context the
// evidence of each process, the process lines it belongs to, and the severity already reported. It
// decides when a chain is complete (Miner and Pool on one process line, plus Persistence and
// Optimization anywhere in the context) and knows nothing about the Collector's lifecycle.
package chain // import "github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/chain"
