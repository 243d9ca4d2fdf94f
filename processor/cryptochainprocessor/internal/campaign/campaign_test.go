package campaign

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func cfg() Config { return Config{MaxCampaigns: 4, MaxHosts: 3, MaxContainers: 2, MaxIndicators: 4} }

func w(s string) Indicator { i, _ := Wallet(s); return i }
func p(s string) Indicator { i, _ := Pool(s); return i }

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"stratum+tcp://Pool.Example.COM:3333": "pool.example.com",
		"pool.example.com:443":                "pool.example.com",
		"pool.example.com.":                   "pool.example.com",
		"[2001:db8::1]:3333":                  "2001:db8::1",
		"203.0.113.7":                         "203.0.113.7",
	} {
		got, ok := Pool(in)
		assert.True(t, ok, in)
		assert.Equal(t, want, got.Value, in)
	}
	for _, local := range []string{"", "127.0.0.1:3333", "[::1]:3333", "localhost:3333", "0.0.0.0", "169.254.1.1", "stratum+tcp://[::ffff:127.0.0.1]:3333"} {
		_, ok := Pool(local)
		assert.False(t, ok, local)
	}
	_, ok := Wallet("  ")
	assert.False(t, ok)
	_, ok = SHA256("abc")
	assert.False(t, ok)
	h, ok := SHA256("E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855")
	assert.True(t, ok)
	assert.Equal(t, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", h.Value)
}

func TestTwoHostsOneCampaign(t *testing.T) {
	tr := New(cfg())
	c := tr.Observe(Observation{Host: "a", Time: t0, Finding: true, Indicators: []Indicator{w("44W"), p("pool.example:3333")}})
	require.NotNil(t, c)
	assert.Equal(t, []string{"a"}, c.Hosts())
	// The same finding again teaches nothing.
	assert.Nil(t, tr.Observe(Observation{Host: "a", Time: t0.Add(time.Second), Finding: true, Indicators: []Indicator{w("44W")}}))

	c2 := tr.Observe(Observation{Host: "b", Container: "ctr1", Time: t0.Add(time.Minute), Finding: true, Indicators: []Indicator{w("44W")}})
	require.NotNil(t, c2)
	assert.Equal(t, c.ID, c2.ID)
	assert.Equal(t, []string{"a", "b"}, c2.Hosts())
	assert.Equal(t, []string{"ctr1"}, c2.Containers)
	assert.Equal(t, t0, c2.FirstSeen)
	assert.Equal(t, t0.Add(time.Minute), c2.LastSeen)
	assert.Equal(t, 1, tr.Len())
}

func TestIndicatorJoinsBelowFindingButNeverCreates(t *testing.T) {
	tr := New(cfg())
	// A lone DNS query for a pool on a host makes no campaign.
	assert.Nil(t, tr.Observe(Observation{Host: "c", Time: t0, Indicators: []Indicator{p("pool.example")}}))
	assert.Equal(t, 0, tr.Len())

	c := tr.Observe(Observation{Host: "a", Time: t0, Finding: true, Indicators: []Indicator{w("44W"), p("stratum+tcp://pool.example:3333")}})
	require.NotNil(t, c)
	// A DNS query for the same pool: member by indicator.
	c2 := tr.Observe(Observation{Host: "c", Time: t0.Add(time.Second), Indicators: []Indicator{p("pool.example")}})
	require.NotNil(t, c2)
	m := c2.Member("c")
	require.NotNil(t, m)
	assert.Equal(t, BasisIndicator, m.Basis)
	assert.Equal(t, []string{"pool:pool.example"}, m.Indicators)
	// A non-finding observation never adds indicators (no bridging with junk).
	assert.Nil(t, tr.Observe(Observation{Host: "c", Time: t0.Add(2 * time.Second), Indicators: []Indicator{p("pool.example"), w("other")}}))
	assert.Len(t, c2.Indicators, 2)
	assert.Equal(t, []string{"pool:pool.example"}, c2.Member("c").Indicators)
	// The host's later finding upgrades its basis: news.
	c3 := tr.Observe(Observation{Host: "c", Time: t0.Add(3 * time.Second), Finding: true, Indicators: []Indicator{w("44W")}})
	require.NotNil(t, c3)
	assert.Equal(t, BasisFinding, c3.Member("c").Basis)
}

func TestBounds(t *testing.T) {
	tr := New(cfg())
	c := tr.Observe(Observation{Host: "h0", Time: t0, Finding: true, Indicators: []Indicator{w("W")}})
	require.NotNil(t, c)
	for i := 1; i < 10; i++ {
		tr.Observe(Observation{Host: fmt.Sprintf("h%d", i), Container: fmt.Sprintf("c%d", i), Time: t0, Finding: true,
			Indicators: []Indicator{w("W"), w(fmt.Sprintf("extra%d", i))}})
	}
	assert.Len(t, c.Members, 3)
	assert.Equal(t, 7, c.HostsOmitted)
	assert.Len(t, c.Containers, 2)
	assert.Len(t, c.Indicators, 4)
	assert.Equal(t, Overflow{Hosts: 7, Containers: 7, Indicators: 6}, tr.TakeOverflow(), "what the bounds refused is counted")
	assert.Equal(t, Overflow{}, tr.TakeOverflow(), "and reset when taken")

	// A flood of distinct wallets evicts the least recently seen campaign, never grows past the bound.
	for i := 0; i < 100; i++ {
		tr.Observe(Observation{Host: "x", Time: t0, Finding: true, Indicators: []Indicator{w(fmt.Sprintf("flood%d", i))}})
	}
	assert.Equal(t, 4, tr.Len())
	assert.Equal(t, int64(97), tr.TakeEvicted())
	for k, c := range tr.byInd { // the index holds only live campaigns
		assert.Same(t, tr.byID[c.ID], c, k)
	}
	assert.LessOrEqual(t, len(tr.byInd), 4*4)
}

func TestSnapshotRestore(t *testing.T) {
	tr := New(cfg())
	a := tr.Observe(Observation{Host: "a", Time: t0, Finding: true, Indicators: []Indicator{w("W1")}})
	tr.Observe(Observation{Host: "b", Time: t0, Finding: true, Indicators: []Indicator{w("W1")}})
	tr.Observe(Observation{Host: "a", Time: t0, Finding: true, Indicators: []Indicator{w("W2")}})
	require.True(t, tr.Dirty())
	data, err := json.Marshal(tr.Snapshot())
	require.NoError(t, err)

	var cs []*Campaign
	require.NoError(t, json.Unmarshal(data, &cs))
	tr2 := New(cfg())
	tr2.Restore(cs)
	assert.Equal(t, 2, tr2.Len())
	// A third host joining after a restart extends the same campaign.
	c := tr2.Observe(Observation{Host: "c", Time: t0.Add(time.Hour), Indicators: []Indicator{w("W1")}})
	require.NotNil(t, c)
	assert.Equal(t, a.ID, c.ID)
	assert.Equal(t, []string{"a", "b", "c"}, c.Hosts())

	// Restore into smaller bounds truncates instead of failing.
	small := New(Config{MaxCampaigns: 1, MaxHosts: 1, MaxContainers: 1, MaxIndicators: 1})
	require.NoError(t, json.Unmarshal(data, &cs))
	small.Restore(cs)
	assert.Equal(t, 1, small.Len())
	for _, c := range small.byID {
		assert.LessOrEqual(t, len(c.Members), 1)
	}
}
