package finding

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/chain"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/evidence"
)

func TestTechniqueOf(t *testing.T) {
	for _, tc := range []struct {
		g    evidence.Group
		kind string
		want string
	}{
		{evidence.Miner, "pool_url", "T1496.001"},
		{evidence.Miner, "masquerade", "T1036"},
		{evidence.Miner, "base64", "T1027"},
		{evidence.Pool, "pool_domain", "T1071"},
		{evidence.Pool, "proxy", "T1090"},
		{evidence.Persistence, "cron", "T1053.003"},
		{evidence.Persistence, "crontab", "T1053.003"},
		{evidence.Persistence, "systemd", "T1543.002"},
		{evidence.Persistence, "preload", "T1574.006"},
		{evidence.Persistence, "rc", "T1037.004"},
		{evidence.Optimization, "hugepages", "T1496.001"},
		{evidence.Optimization, "kill_miner", "T1489"},
		{evidence.Persistence, "custom", ""},
	} {
		got, ok := TechniqueOf(tc.g, tc.kind)
		assert.Equal(t, tc.want, got.ID, tc.kind)
		assert.Equal(t, tc.want != "", ok, tc.kind)
	}
}

func TestRemediationPerLevel(t *testing.T) {
	seen := map[string]bool{}
	for _, l := range []chain.Level{chain.Medium, chain.High, chain.Critical} {
		r := Remediation(l)
		assert.NotEmpty(t, r)
		assert.False(t, seen[r], "each level has its own text")
		seen[r] = true
	}
}

func TestKindOfOnlyKnownKinds(t *testing.T) {
	assert.Equal(t, "login_session", kindOf("login_session:0123456789abcdef"))
	assert.Equal(t, "", kindOf("ssh:15"))
	assert.Equal(t, "", kindOf("nocolon"))
}

func TestSHA256Hex(t *testing.T) {
	h := "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"
	assert.Equal(t, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", evidence.SHA256Hex(h))
	assert.Equal(t, "", evidence.SHA256Hex(h[:63]+"g"))
	assert.Equal(t, "", evidence.SHA256Hex("not a hash"))
}

// A launcher with only weak miner evidence (run from /tmp) and a shell whose script names the miner
// are among the miner pids, but their hashes never reach the blocklist attribute.
func TestMinerSHA256OnlyOfStrongMinerBinaries(t *testing.T) {
	const miner, launcher, shell = "aa", "bb", "cc"
	f := &chain.Finding{Context: &chain.Context{Procs: []chain.Proc{
		{PID: 1000, Exe: "/tmp/.x/xmrig", ExeHash: miner},
		{PID: 990, Exe: "/tmp/.l/launcher", ExeHash: launcher},
		{PID: 980, Exe: "/bin/dash", ExeHash: shell},
	}}, Items: []chain.Item{
		{Evidence: evidence.Evidence{Group: evidence.Miner, Strength: evidence.Strong, Kind: "pool_url"}, Origin: &chain.Origin{PID: 1000}},
		{Evidence: evidence.Evidence{Group: evidence.Miner, Strength: evidence.Weak, Kind: "masquerade"}, Origin: &chain.Origin{PID: 990}},
		{Evidence: evidence.Evidence{Group: evidence.Miner, Strength: evidence.Strong, Kind: "pool_url"}, Origin: &chain.Origin{PID: 980}},
	}}
	a := pcommon.NewMap()
	putAnalystSummary(a, f, []int64{1000, 990, 980})
	v, ok := a.Get(AttrMinerSHA256)
	assert.True(t, ok)
	assert.Equal(t, []any{miner}, v.Slice().AsRaw())
}
