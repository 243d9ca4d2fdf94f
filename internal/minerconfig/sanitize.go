package minerconfig

import (
	"encoding/json"
	"strings"
)

// Redacted replaces secret values in a reported config.
const Redacted = "[REDACTED]"

// Sanitize parses a config file and returns it re-encoded with secret values redacted, when it
// has the shape of a miner configuration (MinerShaped). Anything else (a package.json, garbage, a
// truncated file) is not reported.
func Sanitize(b []byte) ([]byte, bool) {
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, false
	}
	if !MinerShaped(doc) {
		return nil, false
	}
	redact(doc)
	out, err := json.Marshal(doc)
	if err != nil {
		return nil, false
	}
	return out, true
}

// redact replaces the values of password- and token-like keys; wallets (user) stay, they are
// the evidence.
func redact(v any) {
	switch t := v.(type) {
	case map[string]any:
		for k, val := range t {
			lk := strings.ToLower(k)
			if strings.Contains(lk, "pass") || strings.Contains(lk, "token") || strings.Contains(lk, "secret") ||
				lk == "api-key" || lk == "apikey" {
				if _, isStr := val.(string); isStr {
					t[k] = Redacted
					continue
				}
			}
			redact(val)
		}
	case []any:
		for _, e := range t {
			redact(e)
		}
	}
}
