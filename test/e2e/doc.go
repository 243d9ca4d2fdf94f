// Package e2e plays every scenario of testdata/scenarios (cmd/chainsim) against the built distribution
// on this host's kernel and checks the finding the scenario expects at an OTLP peer, or none.
//
// The tests skip when `_build/otelcol-cryptochain` is missing or they are not root, unless
// CRYPTOCHAIN_REQUIRE_PRIVILEGED=1 (CI), where they fail instead. `make e2e` builds the binary first.
// They must not know the components' internals: only their configuration and their output.
package e2e // import "github.com/cryptochain-otel/cryptochain/test/e2e"
