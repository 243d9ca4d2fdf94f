package cryptochainprocessor // import "github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor"

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/campaign"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/chain"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/classify"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/evidence"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/finding"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/metadata"
)

// Campaign record (docs/events.md, README "Campaigns").
const (
	CampaignEventName       = "cryptochain.campaign"
	campaignRuleName        = "Cryptomining campaign across hosts"
	attrCampaignID          = "cryptochain.campaign.id"
	attrCampaignHosts       = "cryptochain.campaign.hosts"
	attrCampaignContainers  = "cryptochain.campaign.containers"
	attrCampaignFirstSeen   = "cryptochain.campaign.first_seen"
	attrCampaignLastSeen    = "cryptochain.campaign.last_seen"
	attrCampaignWallets     = "cryptochain.campaign.wallets"
	attrCampaignPools       = "cryptochain.campaign.pool_hosts"
	attrCampaignHashes      = "cryptochain.campaign.executable_hashes"
	attrCampaignMembers     = "cryptochain.campaign.members"
	attrCampaignHostsOmit   = "cryptochain.campaign.hosts_omitted"
	attrCampaignContainOmit = "cryptochain.campaign.containers_omitted"

	campaignStorageName = "campaigns" // storage client name, next to the chains' client
	campaignStorageKey  = "campaigns/v1"
	campaignSaveEvery   = 10 * time.Second
)

// campaigns is the processor's fleet view; nil when campaigns are disabled.
type campaigns struct {
	cfg      CampaignsConfig
	tr       *campaign.Tracker
	client   storage.Client
	lastSave time.Time
	host     string // of the resource being processed
	ctr      string
	hash     string // of the record being processed, when it gave Miner evidence
	changed  []*campaign.Campaign
	bounds   [3]metric.MeasurementOption // attribute bound: hosts, containers, indicators
}

func newCampaigns(cfg CampaignsConfig) *campaigns {
	if !cfg.Enabled {
		return nil
	}
	c := &campaigns{cfg: cfg, tr: campaign.New(campaign.Config{
		MaxCampaigns:  cfg.MaxCampaigns,
		MaxHosts:      cfg.MaxHosts,
		MaxContainers: cfg.MaxContainers,
		MaxIndicators: cfg.MaxIndicators,
	})}
	for i, b := range [...]string{"hosts", "containers", "indicators"} {
		c.bounds[i] = metric.WithAttributeSet(attribute.NewSet(attribute.String("bound", b)))
	}
	return c
}

// campaignTelemetry reports the campaigns held, evicted and what their bounds refused.
func (p *cryptochainProcessor) campaignTelemetry(ctx context.Context) {
	c := p.camp
	if c == nil {
		return
	}
	p.tb.CryptochainCampaigns.Record(ctx, int64(c.tr.Len()))
	if n := c.tr.TakeEvicted(); n > 0 {
		p.tb.CryptochainCampaignsEvicted.Add(ctx, n)
	}
	o := c.tr.TakeOverflow()
	for i, n := range [...]int64{o.Hosts, o.Containers, o.Indicators} {
		if n > 0 {
			p.tb.CryptochainCampaignOverflow.Add(ctx, n, c.bounds[i])
		}
	}
}

// campaignStart opens the campaigns' own storage client and loads what a previous run kept.
func (p *cryptochainProcessor) campaignStart(ctx context.Context, host component.Host) error {
	c := p.camp
	if c == nil || p.cfg.Storage == nil {
		return nil
	}
	se, ok := host.GetExtensions()[*p.cfg.Storage].(storage.Extension)
	if !ok {
		return fmt.Errorf("storage: extension %q is not a storage extension", p.cfg.Storage.String())
	}
	client, err := se.GetClient(ctx, component.KindProcessor, p.set.ID, campaignStorageName)
	if err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	c.client = client
	data, err := client.Get(ctx, campaignStorageKey)
	if err == nil && len(data) > 0 {
		var cs []*campaign.Campaign
		if err = json.Unmarshal(data, &cs); err == nil {
			p.mu.Lock()
			c.tr.Restore(cs)
			c.tr.ClearDirty()
			p.mu.Unlock()
			p.logger.Info("Restored campaigns", zap.Int("campaigns", c.tr.Len()))
		}
	}
	if err != nil {
		p.tb.CryptochainStorageErrors.Add(ctx, 1)
		p.logger.Warn("Stored campaigns could not be restored", zap.Error(err))
	}
	return nil
}

// campaignPersist writes the campaigns when they changed, at most every campaignSaveEvery unless force.
func (p *cryptochainProcessor) campaignPersist(ctx context.Context, force bool) {
	c := p.camp
	if c == nil || c.client == nil || !c.tr.Dirty() {
		return
	}
	now := p.now()
	if !force && now.Sub(c.lastSave) < campaignSaveEvery {
		return
	}
	c.lastSave = now
	data, err := json.Marshal(c.tr.Snapshot())
	if err == nil {
		err = c.client.Set(ctx, campaignStorageKey, data)
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		p.tb.CryptochainStorageErrors.Add(ctx, 1)
		p.logger.Warn("Persisting campaigns failed", zap.Error(err))
		return
	}
	c.tr.ClearDirty()
}

func (p *cryptochainProcessor) campaignShutdown(ctx context.Context) error {
	c := p.camp
	if c == nil || c.client == nil {
		return nil
	}
	p.mu.Lock()
	p.campaignPersist(ctx, true)
	p.mu.Unlock()
	err := c.client.Close(ctx)
	c.client = nil
	return err
}

// campaignResource notes the host and container of the resource whose records follow.
func (p *cryptochainProcessor) campaignResource(res pcommon.Resource) {
	if c := p.camp; c != nil {
		c.host, c.ctr = resourceHost(res)
	}
}

func resourceHost(res pcommon.Resource) (host, ctr string) {
	a := res.Attributes()
	if v, ok := a.Get(contract.ResourceHostName); ok {
		host = v.AsString()
	}
	if v, ok := a.Get(contract.ResourceHostID); ok && host == "" {
		host = v.AsString()
	}
	if v, ok := a.Get(contract.ResourceContainerID); ok {
		ctr = v.AsString()
	}
	return host, ctr
}

// campaignRecord hunts with one record's evidence: its wallets, pool hosts and (for Miner evidence)
// executable hash join a known campaign even when no finding follows. Called before the chain
// sees the record, so that a finding it completes can name the hash.
func (p *cryptochainProcessor) campaignRecord(lr plog.LogRecord, ev *evidence.Event, evs []evidence.Evidence) {
	c := p.camp
	if c == nil {
		return
	}
	c.hash = ""
	if len(evs) == 0 || c.host == "" {
		return
	}
	var inds []campaign.Indicator
	for i := range evs {
		inds = evidenceIndicators(inds, &evs[i])
		if evs[i].Group == evidence.Miner && c.hash == "" {
			if v, ok := lr.Attributes().Get(contract.AttrProcessExecutableHash); ok {
				if h, ok := campaign.SHA256(v.Str()); ok {
					c.hash = h.Value
					inds = append(inds, h)
				}
			}
		}
	}
	c.observe(campaign.Observation{Host: c.host, Container: c.ctr, Time: ev.Time, Indicators: inds})
}

func evidenceIndicators(inds []campaign.Indicator, e *evidence.Evidence) []campaign.Indicator {
	add := func(ind campaign.Indicator, ok bool) {
		if ok {
			for _, x := range inds {
				if x == ind {
					return
				}
			}
			inds = append(inds, ind)
		}
	}
	if e.Wallet != "" {
		add(campaign.Wallet(e.Wallet))
	}
	if e.Group == evidence.Pool || e.Kind == classify.KindPoolURL {
		if e.Endpoint != "" {
			add(campaign.Pool(e.Endpoint))
		}
		if e.Kind == classify.KindPoolAddress || e.Kind == classify.KindPoolDomain {
			add(campaign.Pool(e.Indicator))
		}
	}
	return inds
}

// campaignFinding seeds or extends a campaign with a finding's indicators.
func (p *cryptochainProcessor) campaignFinding(f *chain.Finding) {
	c := p.camp
	if c == nil {
		return
	}
	res := pcommon.NewResource()
	_ = chain.DecodeResource(f.Context.Resource, res)
	host, ctr := resourceHost(res)
	var inds []campaign.Indicator
	var first, last int64
	for i := range f.Items {
		inds = evidenceIndicators(inds, &f.Items[i].Evidence)
		last = max(last, f.Items[i].Time)
		if first == 0 || f.Items[i].Time < first {
			first = f.Items[i].Time
		}
	}
	// The finding's own miner hashes (its exec records), not only the record that completed it: a
	// chain completed by a DNS query still seeds the campaign with its miner's hash.
	for _, h := range finding.MinerHashes(f) {
		if ind, ok := campaign.SHA256(h); ok && !slices.Contains(inds, ind) {
			inds = append(inds, ind)
		}
	}
	if c.hash != "" {
		if ind := (campaign.Indicator{Kind: campaign.KindSHA256, Value: c.hash}); !slices.Contains(inds, ind) {
			inds = append(inds, ind)
		}
	}
	c.observe(campaign.Observation{Host: host, Container: ctr, Time: time.Unix(0, last), Since: time.Unix(0, first), Finding: true, Indicators: inds})
}

// campaignUpstream seeds from a finding another processor (an agent's) produced.
func (p *cryptochainProcessor) campaignUpstream(lr plog.LogRecord) {
	c := p.camp
	if c == nil || c.host == "" {
		return
	}
	var inds []campaign.Indicator
	a := lr.Attributes()
	for _, kv := range [...]struct {
		key  string
		norm func(string) (campaign.Indicator, bool)
	}{
		{finding.AttrWallets, campaign.Wallet},
		{finding.AttrPoolEndpoints, campaign.Pool},
		{contract.AttrResponseMinerSHA256, campaign.SHA256},
	} {
		v, ok := a.Get(kv.key)
		if !ok {
			continue
		}
		if v.Type() == pcommon.ValueTypeStr {
			if ind, ok := kv.norm(v.Str()); ok {
				inds = append(inds, ind)
			}
			continue
		}
		if v.Type() != pcommon.ValueTypeSlice {
			continue
		}
		s := v.Slice()
		for i := 0; i < s.Len() && i < 64; i++ {
			if ind, ok := kv.norm(s.At(i).AsString()); ok {
				inds = append(inds, ind)
			}
		}
	}
	t := lr.Timestamp().AsTime()
	if lr.Timestamp() == 0 || t.After(p.batchLate) {
		t = p.batchNow
	}
	c.observe(campaign.Observation{Host: c.host, Container: c.ctr, Time: t, Finding: true, Indicators: inds})
}

func (c *campaigns) observe(o campaign.Observation) {
	if got := c.tr.Observe(o); got != nil && len(got.Members) >= c.cfg.MinHosts {
		for _, x := range c.changed {
			if x == got {
				return
			}
		}
		c.changed = append(c.changed, got)
	}
}

// campaignEmit renders the campaigns the call changed, after the call's findings.
func (p *cryptochainProcessor) campaignEmit() {
	c := p.camp
	if c == nil || len(c.changed) == 0 {
		return
	}
	if !p.hasFinding {
		p.findings = plog.NewLogs()
		p.hasFinding = true
	}
	rl := p.findings.ResourceLogs().AppendEmpty()
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName(metadata.ScopeName)
	for _, cp := range c.changed {
		appendCampaign(sl.LogRecords().AppendEmpty(), cp, p.now())
	}
	c.changed = c.changed[:0]
}

func appendCampaign(lr plog.LogRecord, c *campaign.Campaign, observed time.Time) {
	lr.SetTimestamp(pcommon.NewTimestampFromTime(c.LastSeen))
	lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(observed))
	lr.SetEventName(CampaignEventName)
	lr.SetSeverityNumber(plog.SeverityNumberWarn)
	lr.SetSeverityText("WARN")
	var wallets, pools, hashes []string
	for _, ind := range c.Indicators {
		switch ind.Kind {
		case campaign.KindWallet:
			wallets = append(wallets, ind.Value)
		case campaign.KindPool:
			pools = append(pools, ind.Value)
		case campaign.KindSHA256:
			hashes = append(hashes, ind.Value)
		}
	}
	hosts := c.Hosts()
	var b strings.Builder
	fmt.Fprintf(&b, "Cryptomining campaign %s: %d hosts (%s)", c.ID, len(hosts), strings.Join(hosts, ", "))
	if len(wallets) > 0 {
		fmt.Fprintf(&b, ", wallet %s", wallets[0])
	}
	if len(pools) > 0 {
		fmt.Fprintf(&b, ", pool %s", pools[0])
	}
	lr.Body().SetStr(strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, b.String()))

	a := lr.Attributes()
	a.PutStr(finding.AttrRuleName, campaignRuleName)
	a.PutStr(attrCampaignID, c.ID)
	putStrSlice(a, attrCampaignHosts, hosts)
	putStrSlice(a, attrCampaignContainers, c.Containers)
	a.PutStr(attrCampaignFirstSeen, c.FirstSeen.UTC().Format(time.RFC3339Nano))
	a.PutStr(attrCampaignLastSeen, c.LastSeen.UTC().Format(time.RFC3339Nano))
	putStrSlice(a, attrCampaignWallets, wallets)
	putStrSlice(a, attrCampaignPools, pools)
	putStrSlice(a, attrCampaignHashes, hashes)
	ms := a.PutEmptySlice(attrCampaignMembers)
	for i := range c.Members {
		m := &c.Members[i]
		mm := ms.AppendEmpty().SetEmptyMap()
		mm.PutStr(contract.ResourceHostName, m.Host)
		mm.PutStr("basis", m.Basis)
		mm.PutStr("first_seen", m.FirstSeen.UTC().Format(time.RFC3339Nano))
		mm.PutStr("last_seen", m.LastSeen.UTC().Format(time.RFC3339Nano))
		putStrSlice(mm, "indicators", m.Indicators)
	}
	if c.HostsOmitted > 0 {
		a.PutInt(attrCampaignHostsOmit, int64(c.HostsOmitted))
	}
	if c.ContainersOmit > 0 {
		a.PutInt(attrCampaignContainOmit, int64(c.ContainersOmit))
	}
}

func putStrSlice(m pcommon.Map, k string, vs []string) {
	s := m.PutEmptySlice(k)
	for _, v := range vs {
		s.AppendEmpty().SetStr(v)
	}
}
