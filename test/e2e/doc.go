// Package e2e proves the distribution end to end: the built
// `_build/otelcol-cryptochain` runs as an agent on this host's kernel with
// the default configuration, exports over OTLP to a second
// otelcol-cryptochain (otlp receiver → file exporter), and each scenario in
// testdata/scenarios — played by cmd/chainsim — must produce exactly the
// finding its file expects at that peer, or none.
//
// The tests skip when the binary is missing or they are not root, unless
// CRYPTOCHAIN_REQUIRE_PRIVILEGED=1 (CI), where they fail instead. `make e2e`
// builds the binary first.
package e2e // import "github.com/cryptochain-otel/cryptochain/test/e2e"
