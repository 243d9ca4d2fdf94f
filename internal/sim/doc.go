// Package sim groups the safe attack-chain simulator's parts (journal, netns, fakedns, fakepool,
// scenario) played by cmd/chainsim; none of them knows the collector or talks beyond loopback.
package sim // import "github.com/cryptochain-otel/cryptochain/internal/sim"
