// Package campaign groups the indicators many hosts show into campaigns: hosts that share a wallet,
// a pool host or a miner executable hash. A finding seeds or extends a campaign; a record below a
// finding only joins a campaign whose indicators it shows. State is bounded (campaigns, hosts,
// containers and indicators per campaign; least recently seen campaign evicted).
// It must not know the Collector, records or how evidence is graded; callers hand it normalized
// observations and render the campaigns it returns.
package campaign // import "github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/campaign"

import (
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Indicator kinds.
const (
	KindWallet = "wallet"
	KindPool   = "pool"   // a pool host (domain or address), without port or scheme
	KindSHA256 = "sha256" // a miner executable's SHA-256, lower-case hex
)

// Member bases: why a host belongs to a campaign.
const (
	BasisFinding   = "finding"   // the host had a finding with the campaign's indicators
	BasisIndicator = "indicator" // the host showed part of the indicators, below a finding
)

// maxIndicatorLen bounds one indicator value; longer values are not tracked.
const maxIndicatorLen = 256

// Indicator is one shared value.
type Indicator struct {
	Kind  string `json:"k"`
	Value string `json:"v"`
}

func (i Indicator) key() string { return i.Kind + ":" + i.Value }

// Wallet, Pool and SHA256 build normalized indicators; ok is false for values that cannot be one.
func Wallet(s string) (Indicator, bool) {
	s = strings.TrimSpace(s)
	return Indicator{KindWallet, s}, s != "" && len(s) <= maxIndicatorLen
}

// Pool takes a host, host:port or URL and keeps the lower-case host. Loopback, link-local and
// unspecified addresses and "localhost" are no indicator: they name a different machine on each host.
func Pool(s string) (Indicator, bool) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "://") {
		if u, err := url.Parse(s); err == nil {
			s = u.Host
		}
	}
	if h, _, err := net.SplitHostPort(s); err == nil {
		s = h
	}
	s = strings.TrimSuffix(strings.ToLower(strings.Trim(s, "[]")), ".")
	if a, err := netip.ParseAddr(s); err == nil {
		a = a.Unmap()
		if a.IsLoopback() || a.IsUnspecified() || a.IsLinkLocalUnicast() {
			return Indicator{}, false
		}
		s = a.String()
	}
	if s == "localhost" || strings.HasSuffix(s, ".localhost") {
		return Indicator{}, false
	}
	return Indicator{KindPool, s}, s != "" && len(s) <= maxIndicatorLen && !strings.ContainsAny(s, "/ ")
}

// SHA256 takes a hex digest.
func SHA256(s string) (Indicator, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) != sha256.Size*2 {
		return Indicator{}, false
	}
	if _, err := hex.DecodeString(s); err != nil {
		return Indicator{}, false
	}
	return Indicator{KindSHA256, s}, true
}

// Observation is what one host showed at one time.
type Observation struct {
	Host       string    // host.name, else host.id; required
	Container  string    // container.id, empty on the host itself
	Time       time.Time // newest time of what was shown
	Since      time.Time // oldest time of what was shown, when earlier than Time
	Finding    bool      // from a finding: may create or extend a campaign
	Indicators []Indicator
}

// Member is one host of a campaign.
type Member struct {
	Host       string    `json:"h"`
	Basis      string    `json:"b"`
	FirstSeen  time.Time `json:"f"`
	LastSeen   time.Time `json:"l"`
	Indicators []string  `json:"i"` // "kind:value" of the campaign indicators this host showed
}

// Campaign is the state of one campaign. Callers must treat it as read-only.
type Campaign struct {
	ID             string      `json:"id"`
	FirstSeen      time.Time   `json:"f"`
	LastSeen       time.Time   `json:"l"`
	Indicators     []Indicator `json:"ind"`
	Members        []Member    `json:"m"`
	Containers     []string    `json:"c"`
	HostsOmitted   int         `json:"ho,omitempty"` // hosts not kept beyond MaxHosts
	ContainersOmit int         `json:"co,omitempty"` // containers not kept beyond MaxContainers
	seq            uint64      // recency for eviction
}

// Config bounds the state.
type Config struct {
	MaxCampaigns  int
	MaxHosts      int // per campaign
	MaxContainers int // per campaign
	MaxIndicators int // per campaign
}

// Tracker holds the campaigns. It is not safe for concurrent use.
type Tracker struct {
	cfg     Config
	byID    map[string]*Campaign
	byInd   map[string]*Campaign // indicator key → the campaign that owns it
	seq     uint64
	evicted int64
	over    Overflow
	dirty   bool
}

// Overflow counts what campaigns could not keep because a bound was full: observations of a host
// beyond MaxHosts, of a container beyond MaxContainers, and finding indicators beyond MaxIndicators.
type Overflow struct {
	Hosts, Containers, Indicators int64
}

// New returns an empty tracker.
func New(cfg Config) *Tracker {
	return &Tracker{cfg: cfg, byID: map[string]*Campaign{}, byInd: map[string]*Campaign{}}
}

// Len is the number of campaigns held.
func (t *Tracker) Len() int { return len(t.byID) }

// TakeEvicted returns and resets the number of campaigns evicted (MaxCampaigns reached).
func (t *Tracker) TakeEvicted() int64 { n := t.evicted; t.evicted = 0; return n }

// TakeOverflow returns and resets the overflow counts.
func (t *Tracker) TakeOverflow() Overflow { o := t.over; t.over = Overflow{}; return o }

// Dirty reports whether state changed since the last ClearDirty.
func (t *Tracker) Dirty() bool { return t.dirty }

// ClearDirty marks the state as persisted.
func (t *Tracker) ClearDirty() { t.dirty = false }

// Observe folds o into the campaigns and returns the campaign that changed in a way worth a record:
// a new host or container, a host becoming a finding member, or (for findings) a new indicator.
// It returns nil when nothing was learned (no campaign matches a non-finding observation, or the
// observation repeats what is known).
func (t *Tracker) Observe(o Observation) *Campaign {
	if o.Host == "" || len(o.Indicators) == 0 {
		return nil
	}
	var c *Campaign
	for _, ind := range o.Indicators {
		if m := t.byInd[ind.key()]; m != nil && (c == nil || m.FirstSeen.Before(c.FirstSeen)) {
			c = m
		}
	}
	changed := false
	if c == nil {
		if !o.Finding {
			return nil
		}
		c = t.create(o)
		changed = true
	}
	t.seq++
	c.seq = t.seq
	if o.Time.After(c.LastSeen) {
		c.LastSeen = o.Time
		t.dirty = true
	}
	first := o.Time
	if !o.Since.IsZero() && o.Since.Before(first) {
		first = o.Since
	}
	if first.Before(c.FirstSeen) {
		c.FirstSeen = first
	}
	if o.Finding {
		for _, ind := range o.Indicators {
			k := ind.key()
			if t.byInd[k] != nil {
				continue // owned by this or another campaign
			}
			if len(c.Indicators) >= t.cfg.MaxIndicators {
				t.over.Indicators++
				continue
			}
			c.Indicators = append(c.Indicators, ind)
			t.byInd[k] = c
			changed = true
		}
	}
	var shown []string
	for _, ind := range o.Indicators {
		if t.byInd[ind.key()] == c {
			shown = append(shown, ind.key())
		}
	}
	if t.member(c, o, shown) {
		changed = true
	}
	if o.Container != "" && !slices.Contains(c.Containers, o.Container) {
		if len(c.Containers) < t.cfg.MaxContainers {
			c.Containers = append(c.Containers, o.Container)
			changed = true
		} else {
			c.ContainersOmit++
			t.over.Containers++
		}
	}
	if changed {
		t.dirty = true
		return c
	}
	return nil
}

func (t *Tracker) create(o Observation) *Campaign {
	for len(t.byID) >= t.cfg.MaxCampaigns {
		t.evictOldest()
	}
	sum := sha256.Sum256([]byte(o.Indicators[0].key()))
	c := &Campaign{ID: "campaign-" + hex.EncodeToString(sum[:8]), FirstSeen: o.Time, LastSeen: o.Time}
	if old := t.byID[c.ID]; old != nil { // an evicted campaign's id reborn: keep ids unique
		t.drop(old)
	}
	t.byID[c.ID] = c
	return c
}

// member adds or updates the host's membership and reports whether it is news.
func (t *Tracker) member(c *Campaign, o Observation, shown []string) bool {
	basis := BasisIndicator
	if o.Finding {
		basis = BasisFinding
	}
	for i := range c.Members {
		m := &c.Members[i]
		if m.Host != o.Host {
			continue
		}
		news := false
		if basis == BasisFinding && m.Basis != BasisFinding {
			m.Basis = BasisFinding
			news = true
		}
		if o.Time.After(m.LastSeen) {
			m.LastSeen = o.Time
		}
		for _, k := range shown {
			if !slices.Contains(m.Indicators, k) && len(m.Indicators) < t.cfg.MaxIndicators {
				m.Indicators = append(m.Indicators, k)
			}
		}
		return news
	}
	if len(c.Members) >= t.cfg.MaxHosts {
		c.HostsOmitted++
		t.over.Hosts++
		t.dirty = true
		return false
	}
	first := o.Time
	if !o.Since.IsZero() && o.Since.Before(first) {
		first = o.Since
	}
	c.Members = append(c.Members, Member{Host: o.Host, Basis: basis, FirstSeen: first, LastSeen: o.Time, Indicators: shown})
	return true
}

func (t *Tracker) evictOldest() {
	var old *Campaign
	for _, c := range t.byID {
		if old == nil || c.seq < old.seq {
			old = c
		}
	}
	if old != nil {
		t.drop(old)
		t.evicted++
	}
}

func (t *Tracker) drop(c *Campaign) {
	delete(t.byID, c.ID)
	for _, ind := range c.Indicators {
		if t.byInd[ind.key()] == c {
			delete(t.byInd, ind.key())
		}
	}
	t.dirty = true
}

// Hosts returns the member hosts in joining order.
func (c *Campaign) Hosts() []string {
	hs := make([]string, len(c.Members))
	for i := range c.Members {
		hs[i] = c.Members[i].Host
	}
	return hs
}

// Member returns the member record of host, nil when it is not a member.
func (c *Campaign) Member(host string) *Member {
	for i := range c.Members {
		if c.Members[i].Host == host {
			return &c.Members[i]
		}
	}
	return nil
}

// Snapshot returns the campaigns, oldest first, for persistence.
func (t *Tracker) Snapshot() []*Campaign {
	cs := make([]*Campaign, 0, len(t.byID))
	for _, c := range t.byID {
		cs = append(cs, c)
	}
	slices.SortFunc(cs, func(a, b *Campaign) int { return int(a.seq) - int(b.seq) })
	return cs
}

// Restore adds stored campaigns (oldest first), dropping what exceeds the bounds or conflicts.
func (t *Tracker) Restore(cs []*Campaign) {
	for _, c := range cs {
		if c == nil || c.ID == "" || t.byID[c.ID] != nil {
			continue
		}
		for len(t.byID) >= t.cfg.MaxCampaigns {
			t.evictOldest()
		}
		if len(c.Members) > t.cfg.MaxHosts {
			c.HostsOmitted += len(c.Members) - t.cfg.MaxHosts
			c.Members = c.Members[:t.cfg.MaxHosts]
		}
		if len(c.Containers) > t.cfg.MaxContainers {
			c.ContainersOmit += len(c.Containers) - t.cfg.MaxContainers
			c.Containers = c.Containers[:t.cfg.MaxContainers]
		}
		inds := c.Indicators[:0]
		for _, ind := range c.Indicators {
			if t.byInd[ind.key()] == nil && len(inds) < t.cfg.MaxIndicators {
				inds = append(inds, ind)
				t.byInd[ind.key()] = c
			}
		}
		c.Indicators = inds
		t.seq++
		c.seq = t.seq
		t.byID[c.ID] = c
	}
}
