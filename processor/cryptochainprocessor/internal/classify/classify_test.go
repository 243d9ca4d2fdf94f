package classify

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/evidence"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/wallet/wallettest"
)

// Made-up but valid-format wallets (never a real person's).
var (
	xmr    = fakeMonero(wallettest.Standard, 1)
	xmrSub = fakeMonero(wallettest.Subaddress, 2)
	xmrInt = fakeMonero(wallettest.Integrated, 3)
	eth    = "0x" + strings.Repeat("5a3c", 10)
)

func fakeMonero(net byte, seed uint64) string {
	r := rand.New(rand.NewPCG(seed, seed))
	key := make([]byte, 72)
	for i := range key {
		key[i] = byte(r.UintN(256))
	}
	return wallettest.Monero(net, key)
}

func newC(t testing.TB) *Classifier {
	c, err := New(Config{})
	require.NoError(t, err)
	return c
}

func exec(args ...string) *evidence.Event {
	exe := args[0]
	if !strings.HasPrefix(exe, "/") {
		exe = "/usr/bin/" + exe
	}
	return &evidence.Event{Name: contract.EventExec, PID: 100, Exe: exe, Filename: exe, Args: args, Comm: clip(args[0][strings.LastIndexByte(args[0], '/')+1:], 15)}
}

// want is "group/strength/kind".
func summary(es []evidence.Evidence) []string {
	var out []string
	for _, e := range es {
		out = append(out, fmt.Sprintf("%s/%s/%s", e.Group, e.Strength, e.Kind))
	}
	return out
}

func has(es []evidence.Evidence, want string) bool {
	for _, s := range summary(es) {
		if s == want {
			return true
		}
	}
	return false
}

func strongIn(es []evidence.Evidence, g evidence.Group) bool {
	for _, e := range es {
		if e.Group == g && e.Strength == evidence.Strong {
			return true
		}
	}
	return false
}

func TestMinerExec(t *testing.T) {
	tests := []struct {
		name string
		ev   *evidence.Event
		want []string // each must be present
	}{
		{"pool url -o", exec("xmrig", "-o", "stratum+tcp://pool.example.net:3333", "-u", xmr), []string{"miner/strong/pool_url", "miner/strong/wallet", "miner/weak/miner_name"}},
		{"pool url -o=", exec("/opt/x/run", "-o=stratum+ssl://198.51.100.7:443"), []string{"miner/strong/pool_url"}},
		{"pool url attached -ox", exec("/opt/x/run", "-ostratum2+tcp://pool.example.net:3333"), []string{"miner/strong/pool_url"}},
		{"pool url --url x", exec("/opt/x/run", "--url", "stratum1+tcp://pool.example.net:3333"), []string{"miner/strong/pool_url"}},
		{"pool url --url=x", exec("/opt/x/run", "--url=stratums://pool.example.net:3333"), []string{"miner/strong/pool_url"}},
		{"udp scheme", exec("/opt/x/run", "--url=stratum+udp://pool.example.net:3333"), []string{"miner/strong/pool_url"}},
		{"combined -ko", exec("/opt/x/run", "-ko", "pool.example.net:3333", "--donate-level", "1"), []string{"miner/strong/pool_url", "miner/strong/miner_flag"}},
		{"host:port after -o alone is weak", exec("/opt/x/run", "-o", "pool.example.net:3333"), []string{"miner/weak/pool_url"}},
		{"known pool host after -o", exec("/opt/x/run", "-o", "pool.supportxmr.com:443"), []string{"miner/strong/pool_url"}},
		{"subaddress with worker", exec("/opt/x/run", "-o", "10.0.0.1:3333", "-u", xmrSub+".rig1"), []string{"miner/strong/wallet", "miner/strong/pool_url"}},
		{"integrated with difficulty", exec("/opt/x/run", "--user="+xmrInt+"+50000"), []string{"miner/strong/wallet"}},
		{"eth next to -u", exec("/opt/x/run", "-u", eth+".w"), []string{"miner/strong/wallet"}},
		{"algo with flag", exec("/opt/x/run", "-a", "rx/0", "--cpu-priority", "5"), []string{"miner/strong/algorithm", "miner/weak/miner_flag"}},
		{"algo alone weak", exec("/opt/x/run", "--algo=kawpow"), []string{"miner/weak/algorithm"}},
		{"two flags strong", exec("/opt/x/run", "--donate-level=1", "--randomx-1gb-pages"), []string{"miner/strong/miner_flag"}},
		{"one flag weak", exec("/opt/x/run", "--nicehash"), []string{"miner/weak/miner_flag"}},
		{"miner name alone weak", exec("xmrig", "--version"), []string{"miner/weak/miner_name"}},
		{"positional monero with flag", exec("/opt/x/run", xmr, "--coin", "monero"), []string{"miner/strong/wallet"}},
		{"positional monero alone weak", exec("/opt/x/run", xmr), []string{"miner/weak/wallet"}},
		{"base64 url", exec("/opt/x/run", b64("-o stratum+tcp://pool.example.net:3333 -u x")), []string{"miner/strong/base64"}},
		{"sh -c script", exec("sh", "-c", "cd /tmp && ./x -o stratum+tcp://pool.example.net:3333 >/dev/null 2>&1 &"), []string{"miner/strong/pool_url"}},
		{"monerod start-mining", exec("monerod", "--start-mining", xmr, "--mining-threads", "2"), []string{"miner/strong/wallet", "miner/strong/miner_flag"}},
		{"stratum url inside a value", exec("/opt/x/run", "--config-json={\"url\":\"stratum+tcp://pool.example.net:3333\"}"), []string{"miner/strong/pool_url"}},
	}
	c := newC(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := c.Classify(tc.ev)
			for _, w := range tc.want {
				assert.True(t, has(got, w), "want %s in %v", w, summary(got))
			}
		})
	}
}

func b64(s string) string {
	const enc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	var out []byte
	for i := 0; i < len(s); i += 3 {
		var v uint32
		n := min(3, len(s)-i)
		for j := 0; j < 3; j++ {
			v <<= 8
			if j < n {
				v |= uint32(s[i+j])
			}
		}
		for j := 0; j < 4; j++ {
			if j <= n {
				out = append(out, enc[(v>>(18-6*j))&63])
			} else {
				out = append(out, '=')
			}
		}
	}
	return string(out)
}

func TestMinerLookAlikesNotStrong(t *testing.T) {
	tests := []struct {
		name string
		ev   *evidence.Event
	}{
		{"grep wallet", exec("grep", xmr, "/var/log/app.log")},
		{"grep -r pool url", exec("grep", "-r", "stratum+tcp://pool.example.net", "/etc")},
		{"echo wallet", exec("echo", xmr)},
		{"less", exec("less", "/root/wallet.txt")},
		{"crontab -l", exec("crontab", "-l")},
		{"monerod full node", exec("monerod", "--data-dir", "/srv/monero", "--rpc-bind-ip", "127.0.0.1", "--rpc-bind-port", "18081", "--detach")},
		{"monero-wallet-rpc", exec("monero-wallet-rpc", "--wallet-file", "/srv/w", "--rpc-bind-port", "18083", "--daemon-address", "127.0.0.1:18081")},
		{"monero-wallet-cli with address", exec("monero-wallet-cli", "--generate-from-view-key", "w", xmr)},
		{"cmake xmrig", exec("cmake", "..", "-DWITH_HWLOC=OFF")},
		{"make xmrig", exec("make", "-j4")},
		{"gcc xmrig.cpp", exec("gcc", "-c", "xmrig.cpp", "-o", "xmrig.o")},
		{"git clone xmrig", exec("git", "clone", "https://github.com/xmrig/xmrig")},
		{"kworker-metrics in /opt", exec("/opt/kworker-metrics/kworker-metrics", "--listen", ":9100")},
		{"curl -o file", exec("curl", "-k", "-o", "out.bin", "https://example.com/x")},
		{"ssh -o", exec("ssh", "-o", "StrictHostKeyChecking=no", "host.example.com")},
		{"ls -a", exec("ls", "-a", "/home")},
		{"tar", exec("tar", "-xzf", "xmrig-6.21.0-linux-static-x64.tar.gz")},
		{"pool stats script", exec("python3", "stats.py", xmr)},
	}
	c := newC(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := c.Classify(tc.ev)
			assert.False(t, strongIn(got, evidence.Miner), "%v", summary(got))
			assert.False(t, strongIn(got, evidence.Persistence), "%v", summary(got))
		})
	}
}

func TestMinerNameVariants(t *testing.T) {
	c := newC(t)
	for _, n := range []string{"xmrig-6.21.0", "XMRig", "xmrig_x64", "kdevtmpfsi", "xmrig.bin"} {
		assert.True(t, has(c.Classify(exec("/opt/m/"+n)), "miner/weak/miner_name"), n)
	}
	for _, n := range []string{"xmri", "xmrigs", "x", "minerd2", "cpuminerx"} {
		assert.False(t, has(c.Classify(exec("/opt/m/"+n)), "miner/weak/miner_name"), n)
	}
}

func TestTextToolNameFromUnusualPlace(t *testing.T) {
	c := newC(t)
	got := c.Classify(exec("/tmp/.x/grep", "-o", "stratum+tcp://pool.example.net:3333", "-u", xmr))
	assert.True(t, has(got, "miner/strong/pool_url"), "%v", summary(got))
	assert.True(t, has(got, "miner/strong/wallet"), "%v", summary(got))
	assert.False(t, strongIn(c.Classify(exec("/usr/bin/grep", "-r", "stratum+tcp://pool.example.net:3333", "/etc")), evidence.Miner))
}
