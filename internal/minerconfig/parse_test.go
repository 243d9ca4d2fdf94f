package minerconfig

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const xmrigConfig = `{
    "api": {"id": null, "worker-id": null},
    "autosave": true,
    "background": false,
    "randomx": {"init": -1, "mode": "auto", "1gb-pages": true, "rdmsr": true, "wrmsr": true, "numa": true},
    "cpu": {"enabled": true, "huge-pages": true, "huge-pages-jit": false, "priority": null},
    "donate-level": 1,
    "pools": [
        {"algo": null, "coin": "monero", "url": "pool.example.net:443", "user": "WALLET.rig", "pass": "x", "tls": true, "keepalive": true},
        {"url": "stratum+tcp://198.51.100.1:3333", "user": "u2", "algo": "rx/0"}
    ]
}`

func TestParseXMRig(t *testing.T) {
	c, ok := Parse(xmrigConfig)
	require.True(t, ok)
	assert.False(t, c.Truncated)
	assert.Equal(t, []Pool{
		{URL: "pool.example.net:443", User: "WALLET.rig", Pass: "x", TLS: true, Coin: "monero"},
		{URL: "stratum+tcp://198.51.100.1:3333", User: "u2", Algo: "rx/0"},
	}, c.Pools)
	assert.True(t, c.DonateLevel)
	assert.True(t, c.HugePages)
	assert.True(t, c.OneGBPages)
	assert.True(t, c.WRMSR)
}

func TestParseTruncatedAndForks(t *testing.T) {
	c, ok := Parse(xmrigConfig[:len(xmrigConfig)-80])
	require.True(t, ok)
	assert.True(t, c.Truncated)
	assert.Equal(t, "pool.example.net:443", c.Pools[0].URL)
	assert.Equal(t, "WALLET.rig", c.Pools[0].User)
	assert.True(t, c.OneGBPages)

	c, ok = Parse(`{"pool_list": [{"pool_address": "pool.example.net:3333", "wallet_address": "W", "use_tls": false}]}`)
	require.True(t, ok)
	assert.Equal(t, "pool.example.net:3333", c.Pools[0].URL)

	c, ok = Parse(`{"url": "stratum+tcp://pool.example.net:3333", "user": "W", "algo": "cryptonight"}`)
	require.True(t, ok)
	assert.Len(t, c.Pools, 1)
}

func TestParseNotMiner(t *testing.T) {
	for _, s := range []string{
		`{"url": "https://api.example.com", "timeout": 3}`,
		`{"name": "app", "version": "1.0.0", "dependencies": {}}`,
		`{"url": "https://api.example.com", "tim`,
		"", "not json", strings.Repeat("{", 100000), "\x00\xff\"",
	} {
		_, ok := Parse(s)
		assert.False(t, ok, s)
	}
	_, ok := Parse(strings.Repeat(`"url": "x", `, 100000))
	assert.False(t, ok)
}

func FuzzConfig(f *testing.F) {
	f.Add(xmrigConfig)
	f.Fuzz(func(t *testing.T, s string) { Parse(s) })
}
