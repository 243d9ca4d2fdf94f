// Package sim groups the pieces of the safe attack-chain simulator (cmd/chainsim):
// a host-change journal that restores everything it touched (journal), a
// loopback-only network namespace (netns), a fake DNS server that answers
// mining-pool names with loopback addresses (fakedns) and a fake stratum pool
// that accepts an XMRig-style login (fakepool). Nothing here talks to any
// address outside loopback or a namespace it created.
package sim // import "github.com/cryptochain-otel/cryptochain/internal/sim"
