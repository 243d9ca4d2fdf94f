package minerconfig

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// What the processor judges a miner config, the receiver must report: every complete JSON document
// Parse accepts is one Sanitize passes on.
func TestSanitizeReportsWhatParseAccepts(t *testing.T) {
	for _, doc := range []string{
		xmrigConfig,
		redactConfig,
		`{"pool_list": [{"pool_address": "pool.example.net:3333", "wallet_address": "W", "use_tls": false}]}`,
		`{"url": "stratum+tcp://pool.example.net:3333", "algo": "cryptonight"}`,
		`{"url": "pool.example.net:3333", "user": "W"}`,
		`{"donate-level": 1, "randomx": {"mode": "fast"}}`,
	} {
		_, parsed := Parse(doc)
		_, reported := Sanitize([]byte(doc))
		assert.True(t, parsed, doc)
		assert.True(t, reported, doc)
	}
}

func TestMinerShaped(t *testing.T) {
	for _, tc := range []struct {
		doc  map[string]any
		want bool
	}{
		{map[string]any{"pools": []any{}}, true},
		{map[string]any{"pool_list": []any{}}, true},
		{map[string]any{"cuda": map[string]any{}}, true},
		{map[string]any{"url": "pool.example.net:3333", "user": "W"}, true},
		{map[string]any{"url": "stratum+ssl://pool.example.net:443"}, true},
		{map[string]any{"url": "https://api.example.com", "timeout": 3.0}, false},
		{map[string]any{"name": "app", "version": "1.0.0"}, false},
	} {
		assert.Equal(t, tc.want, MinerShaped(tc.doc), "%v", tc.doc)
	}
}
