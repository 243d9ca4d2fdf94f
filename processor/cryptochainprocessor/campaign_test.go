package cryptochainprocessor

import (
	"context"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/storagetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/metadatatest"
)

func withCampaigns(c *Config) { c.Campaigns.Enabled = true }

// consumeOn sends recs as seen by host.
func (h *harness) consumeOn(host string, recs ...rec) {
	ld := logsOf(recs...)
	for i := 0; i < ld.ResourceLogs().Len(); i++ {
		a := ld.ResourceLogs().At(i).Resource().Attributes()
		a.PutStr("host.name", host)
		a.PutStr("host.id", "id-"+host)
	}
	require.NoError(h.t, h.proc.ConsumeLogs(context.Background(), ld))
}

func (h *harness) campaigns() []plog.LogRecord {
	var out []plog.LogRecord
	for _, ld := range h.sink.AllLogs() {
		eachRecord(ld, func(_ pcommon.Resource, lr plog.LogRecord) {
			if lr.EventName() == CampaignEventName {
				out = append(out, lr)
			}
		})
	}
	return out
}

func strSlice(lr plog.LogRecord, k string) []string {
	v, ok := lr.Attributes().Get(k)
	if !ok {
		return nil
	}
	var out []string
	for i := 0; i < v.Slice().Len(); i++ {
		out = append(out, v.Slice().At(i).AsString())
	}
	return out
}

func TestCampaignTwoHostsSameWallet(t *testing.T) {
	h := newHarness(t, withCampaigns, nil, true)
	defer h.shutdown()
	h.consumeOn("node-a", minerExec("c", 0, 100, line), poolDNS("c", time.Second, 100, line))
	require.Len(t, h.findings(), 1)
	assert.Empty(t, h.campaigns(), "one host is a finding, not a campaign")

	h.consumeOn("node-b", minerExec("c", time.Minute, 200, line), poolDNS("c", time.Minute+time.Second, 200, line))
	require.Len(t, h.findings(), 2)
	cs := h.campaigns()
	require.Len(t, cs, 1)
	c := cs[0]
	assert.Equal(t, "WARN", c.SeverityText())
	assert.Equal(t, []string{"node-a", "node-b"}, strSlice(c, "cryptochain.campaign.hosts"))
	assert.Equal(t, []string{"4WALLET"}, strSlice(c, "cryptochain.campaign.wallets"))
	assert.Contains(t, strSlice(c, "cryptochain.campaign.pool_hosts"), "pool.example")
	assert.Equal(t, base.Format(time.RFC3339Nano), attrStr(c, "cryptochain.campaign.first_seen"))
	id := attrStr(c, "cryptochain.campaign.id")
	assert.NotEmpty(t, id)

	// A third host that only asks DNS for the campaign's pool is a member below Medium.
	h.consumeOn("node-c", poolDNS("c", 2*time.Minute, 300, line))
	require.Len(t, h.findings(), 2, "no finding for a DNS query alone")
	cs = h.campaigns()
	require.Len(t, cs, 2)
	c = cs[1]
	assert.Equal(t, id, attrStr(c, "cryptochain.campaign.id"))
	assert.Equal(t, []string{"node-a", "node-b", "node-c"}, strSlice(c, "cryptochain.campaign.hosts"))
	ms, _ := c.Attributes().Get("cryptochain.campaign.members")
	m := ms.Slice().At(2).Map()
	basis, _ := m.Get("basis")
	assert.Equal(t, "indicator", basis.Str())

	// Repeating what is known emits nothing.
	h.consumeOn("node-c", poolDNS("c", 3*time.Minute, 300, line))
	assert.Len(t, h.campaigns(), 2)
}

func TestCampaignDisabledByDefault(t *testing.T) {
	h := newHarness(t, nil, nil, true)
	defer h.shutdown()
	h.consumeOn("node-a", minerExec("c", 0, 100, line), poolDNS("c", time.Second, 100, line))
	h.consumeOn("node-b", minerExec("c", 0, 100, line), poolDNS("c", time.Second, 100, line))
	assert.Len(t, h.findings(), 2)
	assert.Empty(t, h.campaigns())
}

func TestCampaignUpstreamFindings(t *testing.T) {
	h := newHarness(t, withCampaigns, nil, true)
	defer h.shutdown()
	up := func(host string) rec {
		return rec{name: "cryptochain.finding", at: time.Second, attrs: map[string]any{
			"cryptochain.response.wallets":        []string{"4UPSTREAM"},
			"cryptochain.response.pool_endpoints": []string{"pool.example:3333"},
		}}
	}
	h.consumeOn("node-a", up("node-a"))
	h.consumeOn("node-b", up("node-b"))
	cs := h.campaigns()
	require.Len(t, cs, 1)
	assert.Equal(t, []string{"node-a", "node-b"}, strSlice(cs[0], "cryptochain.campaign.hosts"))
	assert.Equal(t, []string{"4UPSTREAM"}, strSlice(cs[0], "cryptochain.campaign.wallets"))
}

func TestCampaignSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	id := storagetest.NewStorageID("chains")
	cfg := func(c *Config) { c.Storage = &id; c.Campaigns.Enabled = true }
	h1 := newHarness(t, cfg, storagetest.NewStorageHost().WithFileBackedStorageExtension("chains", dir), true)
	h1.consumeOn("node-a", minerExec("c", 0, 100, line), poolDNS("c", time.Second, 100, line))
	h1.shutdown()

	h2 := newHarness(t, cfg, storagetest.NewStorageHost().WithFileBackedStorageExtension("chains", dir), true)
	defer h2.shutdown()
	h2.consumeOn("node-b", poolDNS("x", time.Hour, 300, line)) // below Medium, joins the stored campaign
	cs := h2.campaigns()
	require.Len(t, cs, 1)
	assert.Equal(t, []string{"node-a", "node-b"}, strSlice(cs[0], "cryptochain.campaign.hosts"))
}

func TestCampaignsConfigValidate(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Campaigns.Enabled = true
	cfg.Campaigns.MaxHosts = 0
	cfg.Campaigns.MinHosts = -1
	err := cfg.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "campaigns.max_hosts: must be positive")
	assert.Contains(t, err.Error(), "campaigns.min_hosts: must be positive")
	cfg = createDefaultConfig().(*Config)
	cfg.Campaigns.Enabled = true
	cfg.Campaigns.MinHosts = 300
	require.ErrorContains(t, cfg.Validate(), "campaigns.min_hosts: must not exceed")
}

func usageOf(ctx string, at time.Duration, pid int64, cpu float64, rss int64) rec {
	return rec{ctx: ctx, name: "cryptochain.process.usage", at: at, pid: pid, attrs: map[string]any{
		"cryptochain.process.cpu.time": cpu, "cryptochain.process.memory.rss": rss}}
}

func (h *harness) impacts() []plog.LogRecord {
	var out []plog.LogRecord
	for _, ld := range h.sink.AllLogs() {
		eachRecord(ld, func(_ pcommon.Resource, lr plog.LogRecord) {
			if lr.EventName() == ImpactEventName {
				out = append(out, lr)
			}
		})
	}
	return out
}

func TestImpactUpdatesOfARunningMiner(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Impact.PricePerCoreHour = 0.36; c.Impact.Currency = "EUR" }, nil, true)
	defer h.shutdown()
	h.consume(usageOf("c", 0, 100, 1, 1<<20)) // before any finding: nothing to update
	h.consume(minerExec("c", time.Second, 100, line), poolDNS("c", 2*time.Second, 100, line))
	fs := h.findings()
	require.Len(t, fs, 1)
	id := attrStr(fs[0], "cryptochain.finding.id")

	h.consume(usageOf("c", time.Minute, 100, 60, 64<<20), usageOf("c", time.Minute, 555, 99, 1)) // 555: not the miner
	h.consume(usageOf("c", time.Minute+30*time.Second, 100, 90, 64<<20))                         // within the interval
	h.consume(usageOf("c", 2*time.Minute, 100, 120, 70<<20))
	im := h.impacts()
	require.Len(t, im, 2)
	for _, lr := range im {
		assert.Equal(t, id, attrStr(lr, "cryptochain.finding.id"), "same finding id")
		assert.Equal(t, "EUR", attrStr(lr, "cryptochain.impact.currency"))
	}
	cpu := func(lr plog.LogRecord) float64 {
		v, _ := lr.Attributes().Get("cryptochain.impact.cpu_seconds")
		return v.Double()
	}
	assert.Equal(t, 60.0, cpu(im[0]))
	assert.Equal(t, 120.0, cpu(im[1]))
	cost, _ := im[1].Attributes().Get("cryptochain.impact.estimated_cost")
	assert.InDelta(t, 0.012, cost.Double(), 1e-12)
	rss, _ := im[1].Attributes().Get("cryptochain.impact.memory_rss_bytes")
	assert.Equal(t, int64(70<<20), rss.Int())
	assert.Len(t, h.findings(), 1, "impact updates are not findings")
}

func TestImpactOff(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Impact.Interval = 0 }, nil, true)
	defer h.shutdown()
	h.consume(minerExec("c", time.Second, 100, line), poolDNS("c", 2*time.Second, 100, line))
	h.consume(usageOf("c", time.Minute, 100, 60, 64<<20))
	assert.Empty(t, h.impacts())
}

// TestCampaignTelemetry: the campaigns held, those evicted at campaigns.max_campaigns (also when
// restoring into smaller bounds) and what the host, container and indicator bounds refused.
func TestCampaignTelemetry(t *testing.T) {
	dir := t.TempDir()
	id := storagetest.NewStorageID("chains")
	small := func(c *Config) {
		c.Storage = &id
		c.Campaigns.Enabled = true
		c.Campaigns.MaxCampaigns = 2
		c.Campaigns.MaxHosts = 2
		c.Campaigns.MaxContainers = 1
		c.Campaigns.MaxIndicators = 2
	}
	h := newHarness(t, small, storagetest.NewStorageHost().WithFileBackedStorageExtension("chains", dir), true)
	walletOn := func(host, ctr, wallet string, at time.Duration) {
		r := minerExec("c-"+host, at, 100, line)
		r.attrs["process.command_args"] = []string{"/tmp/.x/kworker", "-o", "stratum+tcp://pool-" + wallet + ".example:3333", "-u", wallet}
		r.res = map[string]string{"container.id": ctr}
		h.consumeOn(host, r, poolDNS("c-"+host, at+time.Second, 100, line))
	}
	// One campaign (4WALLET, pool.example): three hosts and three containers against bounds of two and one.
	walletOn("node-a", "ctr-a", "4WALLET", 0)
	walletOn("node-b", "ctr-b", "4WALLET", time.Minute)
	walletOn("node-c", "ctr-c", "4WALLET", 2*time.Minute)
	metadatatest.AssertEqualCryptochainCampaigns(t, h.tel, []metricdata.DataPoint[int64]{{Value: 1}}, metricdatatest.IgnoreTimestamp())
	hosts := attribute.NewSet(attribute.String("bound", "hosts"))
	ctrs := attribute.NewSet(attribute.String("bound", "containers"))
	inds := attribute.NewSet(attribute.String("bound", "indicators"))
	metadatatest.AssertEqualCryptochainCampaignOverflow(t, h.tel, []metricdata.DataPoint[int64]{
		{Attributes: hosts}, {Attributes: ctrs}, {Attributes: inds},
	}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreValue())
	// Two more campaigns (upstream findings with fresh wallets) against max_campaigns 2: the oldest goes.
	for _, w := range []string{"4OTHER1", "4OTHER2"} {
		h.consumeOn("node-"+w, rec{name: "cryptochain.finding", at: time.Hour, attrs: map[string]any{
			"cryptochain.response.wallets": []string{w}}})
	}
	metadatatest.AssertEqualCryptochainCampaignsEvicted(t, h.tel, []metricdata.DataPoint[int64]{{}},
		metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreValue())
	metadatatest.AssertEqualCryptochainCampaigns(t, h.tel, []metricdata.DataPoint[int64]{{Value: 2}}, metricdatatest.IgnoreTimestamp())
	h.shutdown()

	// Restored into max_campaigns 1: one stored campaign is evicted while loading, and counted.
	h2 := newHarness(t, func(c *Config) { small(c); c.Campaigns.MaxCampaigns = 1 },
		storagetest.NewStorageHost().WithFileBackedStorageExtension("chains", dir), true)
	defer h2.shutdown()
	h2.consume(benignExec("z", 0, 700))
	metadatatest.AssertEqualCryptochainCampaignsEvicted(t, h2.tel, []metricdata.DataPoint[int64]{{Value: 1}}, metricdatatest.IgnoreTimestamp())
	metadatatest.AssertEqualCryptochainCampaigns(t, h2.tel, []metricdata.DataPoint[int64]{{Value: 1}}, metricdatatest.IgnoreTimestamp())
}
