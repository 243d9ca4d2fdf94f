package indicators

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadEveryEntryHasSource(t *testing.T) {
	s, err := Load()
	require.NoError(t, err)
	assert.Greater(t, len(s.PoolDomains), 20)
	for d, src := range s.PoolDomains {
		assert.NotEmpty(t, src, d)
	}
	for n, src := range s.MinerNames {
		assert.NotEmpty(t, src, n)
	}
	assert.True(t, s.MinerFlags["donate-level"].TakesValue)
	assert.False(t, s.MinerFlags["nicehash"].TakesValue)
	assert.Contains(t, s.Algorithms, "rx/0")
	assert.Contains(t, s.StratumPort, int64(3333))
	assert.Contains(t, s.EnvNames, "WALLET_ADDRESS")
}

func TestPoolDomainSuffixWalk(t *testing.T) {
	s, err := Load()
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		want string
	}{
		{"pool.supportxmr.com", "supportxmr.com"},
		{"supportxmr.com", "supportxmr.com"},
		{"a.b.c.moneroocean.stream.", "moneroocean.stream"},
		{"notsupportxmr.com", ""},
		{"supportxmr.com.evil.example", ""},
		{"example.com", ""},
		{"", ""},
		{"com", ""},
	} {
		d, _, ok := s.PoolDomain(tc.name)
		assert.Equal(t, tc.want != "", ok, tc.name)
		assert.Equal(t, tc.want, d, tc.name)
	}
}

func TestExtensionErrorsNameKey(t *testing.T) {
	s, err := Load()
	require.NoError(t, err)
	require.NoError(t, s.AddPoolDomains("extra_pool_domains", []string{"*.Pool.Example."}))
	d, src, ok := s.PoolDomain("x.pool.example")
	assert.True(t, ok)
	assert.Equal(t, "pool.example", d)
	assert.Equal(t, ConfigSource, src)
	assert.ErrorContains(t, s.AddPoolDomains("extra_pool_domains", []string{"bad domain"}), "extra_pool_domains[0]")
	assert.ErrorContains(t, s.AddMinerNames("extra_miner_names", []string{"a/b"}), "extra_miner_names[0]")
	assert.ErrorContains(t, s.AddPersistence("extra_persistence", []string{"rel/path"}), "extra_persistence[0]")
}

// The data files stay clean: no duplicates, canonical case, sources everywhere.
func TestDataFilesCanonical(t *testing.T) {
	for _, name := range []string{"pool_domains.tsv", "miner_names.tsv", "algorithms.tsv", "miner_flags.tsv", "stratum_ports.tsv", "env_names.tsv"} {
		b, err := files.ReadFile("data/" + name)
		require.NoError(t, err)
		seen := map[string]bool{}
		for i, line := range strings.Split(string(b), "\n") {
			if line == "" || line[0] == '#' {
				continue
			}
			key := strings.Split(line, "\t")[0]
			assert.False(t, seen[key], "%s:%d duplicate %q", name, i+1, key)
			seen[key] = true
			switch name {
			case "pool_domains.tsv":
				assert.Equal(t, NormalizeDomain(key), key, "%s:%d", name, i+1)
				assert.GreaterOrEqual(t, strings.Count(key, "."), 1, "%s:%d a registrable domain or deeper", name, i+1)
			case "miner_names.tsv", "algorithms.tsv":
				assert.Equal(t, strings.ToLower(key), key, "%s:%d", name, i+1)
			case "env_names.tsv":
				assert.Equal(t, strings.ToUpper(key), key, "%s:%d", name, i+1)
			}
		}
	}
}
