// Package chain holds the correlation state behind one door (Ingest): contexts, lineage, links, expiry, levels.
// It must not know the Collector, pdata batches, storage, or how a record was graded: it receives evidence.
package chain // import "github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/chain"
