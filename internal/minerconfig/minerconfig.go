// Package minerconfig holds what XMRig-style miner configuration files look like: which files a
// miner loads, which keys make a JSON object a miner config, how to redact one and what it reveals
// (pools, wallets, tuning). It must not know how files are read, nor how evidence is weighed.
package minerconfig // import "github.com/cryptochain-otel/cryptochain/internal/minerconfig"

import "strings"

// TopLevelKeys are the keys only miner configurations have at the top level: XMRig and its forks
// (pools, donate-level, donate-over-proxy, randomx, cpu, opencl, cuda) and xmr-stak (pool_list).
var TopLevelKeys = []string{"pools", "pool_list", "donate-level", "donate-over-proxy", "randomx", "cpu", "opencl", "cuda"}

// MinerShaped reports whether a decoded JSON object has the shape of a miner configuration: one of
// TopLevelKeys, or a single-pool fork's top-level "url" with a "user" or a stratum scheme.
func MinerShaped(doc map[string]any) bool {
	for _, k := range TopLevelKeys {
		if _, ok := doc[k]; ok {
			return true
		}
	}
	url, hasURL := doc["url"]
	if _, hasUser := doc["user"]; hasURL && hasUser {
		return true
	}
	s, _ := url.(string)
	return strings.Contains(strings.ToLower(s), "stratum")
}
