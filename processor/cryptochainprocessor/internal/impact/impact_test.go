package impact

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestRateLimitedUpdatesOfOneFinding(t *testing.T) {
	tr := New(time.Minute, 0.36, 10)
	tr.Found("ctx", "F1", "medium", nil, []Proc{{PID: 100, Start: "s"}}, nil, nil)
	_, ok := tr.Usage("ctx", 200, "s", t0, 1, 1, nil) // not a miner
	assert.False(t, ok)
	_, ok = tr.Usage("other", 100, "s", t0, 1, 1, nil) // another context
	assert.False(t, ok)
	_, ok = tr.Usage("ctx", 100, "older", t0, 1, 1, nil) // a reused pid
	assert.False(t, ok)

	u, ok := tr.Usage("ctx", 100, "s", t0, 10, 4096, nil)
	require.True(t, ok)
	assert.Equal(t, "F1", u.ID)
	assert.Equal(t, 10.0, u.CPUSeconds)
	assert.Equal(t, int64(4096), u.RSSBytes)
	assert.InDelta(t, 0.001, u.Cost, 1e-12) // 10 s of one core at 0.36 per core-hour
	_, ok = tr.Usage("ctx", 100, "s", t0.Add(30*time.Second), 40, 4096, nil)
	assert.False(t, ok, "within the interval")
	u, ok = tr.Usage("ctx", 100, "s", t0.Add(time.Minute), 70, 8192, nil)
	require.True(t, ok)
	assert.Equal(t, 70.0, u.CPUSeconds)
	assert.Equal(t, []int64{100}, u.PIDs)

	// Escalation keeps the id and the samples; a second miner adds up.
	tr.Found("ctx", "F1", "high", nil, []Proc{{PID: 101}}, nil, nil)
	u, ok = tr.Usage("ctx", 101, "x", t0.Add(2*time.Minute), 5, 100, nil)
	require.True(t, ok)
	assert.Equal(t, "high", u.Severity)
	assert.Equal(t, 75.0, u.CPUSeconds)
	assert.Equal(t, []int64{100, 101}, u.PIDs)

	// A counter going back is a stale sample.
	_, ok = tr.Usage("ctx", 101, "x", t0.Add(10*time.Minute), 1, 100, nil)
	assert.False(t, ok)
}

func TestBounded(t *testing.T) {
	tr := New(time.Minute, 0, 3)
	for i := 0; i < 10; i++ {
		tr.Found(fmt.Sprint(i), "id", "medium", nil, []Proc{{PID: 1}}, nil, nil)
	}
	assert.Equal(t, 3, tr.Len())
	many := make([]Proc, 1000)
	for i := range many {
		many[i] = Proc{PID: int64(i)}
	}
	tr.Found("big", "id", "medium", nil, many, nil, nil)
	assert.Len(t, tr.byKey["big"].procs, maxPIDs)
}

func TestPoolBytes(t *testing.T) {
	pool := netip.MustParseAddrPort("198.51.100.7:3333")
	other := netip.MustParseAddrPort("203.0.113.9:443")
	tr := New(time.Minute, 0, 10)
	tr.Found("ctx", "F1", "medium", nil, []Proc{{PID: 100}, {PID: 101}}, []netip.AddrPort{pool}, []uint16{443})

	u, ok := tr.Usage("ctx", 100, "", t0, 1, 1, nil)
	require.True(t, ok)
	assert.False(t, u.HasPoolBytes, "no sample carried TCP counts")

	// Only the connections to the pool address count; an IPv4-mapped IPv6 remote is the same address.
	mapped := netip.AddrPortFrom(netip.AddrFrom16(pool.Addr().As16()), pool.Port())
	_, ok = tr.Usage("ctx", 100, "", t0.Add(time.Second), 2, 1, []Conn{
		{Remote: pool, Sent: 1000, Received: 5000}, {Remote: other, Sent: 7, Received: 7}})
	assert.False(t, ok)
	u, ok = tr.Usage("ctx", 101, "", t0.Add(time.Minute), 2, 1, []Conn{{Remote: mapped, Sent: 10, Received: 50}})
	require.True(t, ok)
	assert.True(t, u.HasPoolBytes)
	assert.Equal(t, ScopeAddress, u.PoolScope, "an address endpoint wins over a named one")
	assert.Equal(t, uint64(1010), u.PoolBytesSent)
	assert.Equal(t, uint64(5050), u.PoolBytesReceived)

	// The latest sample's connections replace the earlier ones (a closed connection drops out).
	u, ok = tr.Usage("ctx", 100, "", t0.Add(2*time.Minute), 3, 1, []Conn{})
	require.True(t, ok)
	assert.Equal(t, uint64(10), u.PoolBytesSent)

	// A finding that names its pool by host name only counts the connections to that port.
	conns := []Conn{{Remote: pool, Sent: 1, Received: 2}, {Remote: other, Sent: 3, Received: 4}}
	tr.Found("named", "F2", "medium", nil, []Proc{{PID: 200}}, nil, []uint16{3333})
	u, ok = tr.Usage("named", 200, "", t0, 1, 1, conns)
	require.True(t, ok)
	assert.Equal(t, ScopePort, u.PoolScope)
	assert.Equal(t, uint64(1), u.PoolBytesSent)
	assert.Equal(t, uint64(2), u.PoolBytesReceived)

	// A finding that names no pool endpoint with a port counts all TCP connections of its miners.
	tr.Found("none", "F3", "medium", nil, []Proc{{PID: 300}}, nil, nil)
	u, ok = tr.Usage("none", 300, "", t0, 1, 1, conns)
	require.True(t, ok)
	assert.Equal(t, ScopeAll, u.PoolScope)
	assert.Equal(t, uint64(4), u.PoolBytesSent)
	assert.Equal(t, uint64(6), u.PoolBytesReceived)
}
