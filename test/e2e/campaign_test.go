package e2e

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
)

// Campaign record (processor/cryptochainprocessor README "Campaigns", docs/events.md).
const (
	eventCampaign        = "cryptochain.campaign"
	attrCampaignID       = "cryptochain.campaign.id"
	attrCampaignHosts    = "cryptochain.campaign.hosts"
	attrCampaignWallets  = "cryptochain.campaign.wallets"
	attrCampaignMembers  = "cryptochain.campaign.members"
	attrCampaignFirst    = "cryptochain.campaign.first_seen"
	attrCampaignLastSeen = "cryptochain.campaign.last_seen"
)

// agentAsHost is agentToGateway with the host identity overridden, as a second node would send it.
func agentAsHost(port int, state, tls, host string) string {
	cfg := agentToGateway(port, state, tls)
	cfg = strings.Replace(cfg, "processors:\n", fmt.Sprintf(`processors:
  resource/host:
    attributes:
      - {key: host.name, value: %[1]s, action: upsert}
      - {key: host.id, value: id-%[1]s, action: upsert}
`, host), 1)
	return strings.Replace(cfg, "processors: [memory_limiter, batch]", "processors: [memory_limiter, resource/host, batch]", 1)
}

// campaignsIn returns the campaign records of an exporter file, as attribute maps.
func campaignsIn(t *testing.T, path string) []map[string]any {
	return recordsIn(t, path, eventCampaign)
}

// recordsIn returns the records named event of an exporter file, as attribute maps.
func recordsIn(t *testing.T, path, event string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out []map[string]any
	for _, line := range bytes.Split(b, []byte{'\n'}) {
		var u plog.JSONUnmarshaler
		ld, err := u.UnmarshalLogs(line)
		if err != nil {
			continue
		}
		for i := 0; i < ld.ResourceLogs().Len(); i++ {
			sls := ld.ResourceLogs().At(i).ScopeLogs()
			for j := 0; j < sls.Len(); j++ {
				lrs := sls.At(j).LogRecords()
				for k := 0; k < lrs.Len(); k++ {
					if lrs.At(k).EventName() == event {
						out = append(out, lrs.At(k).Attributes().AsRaw())
					}
				}
			}
		}
	}
	return out
}

func anyStrs(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		out = append(out, fmt.Sprint(x))
	}
	return out
}

// TestGatewayCampaignAcrossTwoAgents: two agents that report as different hosts (node-a, node-b)
// both see the same miner, wallet and pool; the gateway correlates one finding per host and one
// campaign record that names both hosts and the shared wallet.
func TestGatewayCampaignAcrossTwoAgents(t *testing.T) {
	requireE2E(t)
	dir := t.TempDir()
	port := freePort(t)
	gwDir := filepath.Join(dir, "gateway")
	findings := filepath.Join(gwDir, "findings.jsonl")
	w := watch(t, findings)
	require.NoError(t, os.MkdirAll(gwDir, 0o755))
	tlsDir := filepath.Join(dir, "tls")
	require.NoError(t, os.MkdirAll(tlsDir, 0o700))
	for name, data := range makeCerts(t, "") {
		require.NoError(t, os.WriteFile(filepath.Join(tlsDir, name), []byte(data), 0o600))
	}
	gw := startCollector(t, "gateway", gwDir, []string{
		"CRYPTOCHAIN_GATEWAY_TLS_CERT=" + filepath.Join(tlsDir, "gateway.crt"),
		"CRYPTOCHAIN_GATEWAY_TLS_KEY=" + filepath.Join(tlsDir, "gateway.key"),
		"CRYPTOCHAIN_GATEWAY_TLS_CLIENT_CA=" + filepath.Join(tlsDir, "ca.crt"),
		fmt.Sprintf("CRYPTOCHAIN_GATEWAY_LISTEN=127.0.0.1:%d", port),
		"CRYPTOCHAIN_STATE_DIR=" + filepath.Join(gwDir, "state"),
		"CRYPTOCHAIN_FINDINGS_FILE=" + findings,
	}, "--config", "embedded:gateway", "--config", noTelemetry)
	require.NoError(t, gw.waitReady(30*time.Second))

	var agents []*collector
	for _, host := range []string{"node-a", "node-b"} {
		cfg := filepath.Join(dir, host+".yaml")
		require.NoError(t, os.WriteFile(cfg, []byte(agentAsHost(port, filepath.Join(dir, host+"-state"), tlsDir, host)), 0o644))
		agents = append(agents, startCollector(t, "agent-"+host, dir, nil, "--config", cfg))
	}
	for _, a := range agents {
		require.NoError(t, a.waitReady(60*time.Second))
	}

	sc := loadScenario(t, "medium-miner-pool")
	res := play(t, sc, nil)
	fs := escalationsOf(w.waitFor(sc, res, findingTimeout, func(fs []finding) bool { return len(escalationsOf(fs)) >= 2 }))
	hosts := map[string]bool{}
	for _, f := range fs {
		h, _ := f.Resource["host.name"].(string)
		hosts[h] = true
	}
	require.Equal(t, map[string]bool{"node-a": true, "node-b": true}, hosts, "one finding per host: %v", fs)

	// Other activity on the machine may make campaigns of its own: judge those of this wallet.
	wallet := sc.Expect.Evidence.Wallet
	ours := func() []map[string]any {
		var out []map[string]any
		for _, c := range campaignsIn(t, findings) {
			if slices.Contains(anyStrs(c[attrCampaignWallets]), wallet) {
				out = append(out, c)
			}
		}
		return out
	}
	var cs []map[string]any
	deadline := time.Now().Add(findingTimeout)
	for time.Now().Before(deadline) {
		if cs = ours(); len(cs) > 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	require.NotEmpty(t, cs, "no %s record with wallet %s: %v", eventCampaign, wallet, campaignsIn(t, findings))
	time.Sleep(quietPeriod)
	cs = ours()
	ids := map[string]bool{}
	for _, c := range cs {
		ids[fmt.Sprint(c[attrCampaignID])] = true
	}
	assert.Len(t, ids, 1, "one campaign: %v", cs)
	last := cs[len(cs)-1]
	got := anyStrs(last[attrCampaignHosts])
	slices.Sort(got)
	assert.Equal(t, []string{"node-a", "node-b"}, got)
	assert.NotEmpty(t, last[attrCampaignFirst])
	assert.NotEmpty(t, last[attrCampaignLastSeen])
	t.Logf("campaign records of this wallet: %d; last: %v", len(cs), last)
	members, _ := last[attrCampaignMembers].([]any)
	assert.Len(t, members, 2)
}
