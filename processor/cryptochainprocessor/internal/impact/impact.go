// Package impact folds the resource use of a finding's miner processes (CPU seconds, resident
// memory, bytes exchanged with the pool over TCP) into rate-limited updates of that finding, with a cost estimated from a price per
// core-hour. State is bounded: at most Max findings, the least recently updated forgotten.
// It must not know records, the Collector or how findings are decided; callers register the
// miners of an emitted finding and hand it usage samples.
package impact // import "github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/impact"

import (
	"net/netip"
	"slices"
	"time"
)

// maxPIDs bounds the miner processes tracked per finding, maxEndpoints its pool addresses.
const (
	maxPIDs      = 64
	maxEndpoints = 32
)

// Conn is the byte count of a process's TCP connections to one remote endpoint at a sample.
type Conn struct {
	Remote   netip.AddrPort
	Sent     uint64
	Received uint64
}

// Proc identifies a miner process: pid and process.creation.time ("" when unknown).
type Proc struct {
	PID   int64
	Start string
}

type proc struct {
	Proc
	cpu float64
	rss int64
	has bool
	// bytes with the pool on the connections open at the latest sample that carried them
	sent, recv uint64
	hasTCP     bool
}

type tracked struct {
	id       string
	severity string
	resource []byte
	procs    []proc
	pool     []netip.AddrPort // the finding's pool endpoints that are addresses
	ports    []uint16         // the ports of its pool endpoints named by host name
	last     time.Time        // time of the last update emitted
	touched  uint64
}

// Update is one impact update of a finding.
type Update struct {
	ID         string
	Severity   string
	Resource   []byte
	PIDs       []int64 // processes sampled so far
	CPUSeconds float64 // sum over the miner processes of their latest samples
	RSSBytes   int64   // sum of their latest resident sizes
	Cost       float64 // CPUSeconds / 3600 × price per core-hour
	// Bytes the miner processes sent to / received from the pool, summed over their TCP connections
	// that PoolScope says: ScopeAddress, ScopePort or ScopeAll. HasPoolBytes is false when no sample
	// carried TCP byte counts.
	PoolBytesSent     uint64
	PoolBytesReceived uint64
	PoolScope         string
	HasPoolBytes      bool
}

// Which connections of the miners count as the pool's.
const (
	ScopeAddress = "pool_address" // to an address:port the finding names as pool endpoint
	ScopePort    = "pool_port"    // the finding names its pool by host name only: to the port of such an endpoint
	ScopeAll     = "all_tcp"      // the finding names no pool endpoint with a port: all TCP connections
)

// Tracker holds the findings whose miners are sampled. It is not safe for concurrent use.
type Tracker struct {
	interval time.Duration
	price    float64
	max      int
	byKey    map[string]*tracked
	seq      uint64
}

// New returns a tracker emitting at most one update per finding per interval.
func New(interval time.Duration, pricePerCoreHour float64, max int) *Tracker {
	return &Tracker{interval: interval, price: pricePerCoreHour, max: max, byKey: map[string]*tracked{}}
}

// Len is the number of findings tracked.
func (t *Tracker) Len() int { return len(t.byKey) }

// Found registers (or refreshes, on escalation) the finding of context key, its miner processes,
// its pool endpoints that are addresses (ip:port) and the ports of those named by host name.
func (t *Tracker) Found(key, id, severity string, resource []byte, miners []Proc, pool []netip.AddrPort, ports []uint16) {
	f := t.byKey[key]
	if f == nil {
		if len(t.byKey) >= t.max {
			t.evict()
		}
		f = &tracked{}
		t.byKey[key] = f
	}
	if f.id != id {
		*f = tracked{}
	}
	f.id, f.severity, f.resource = id, severity, resource
	for _, m := range miners {
		if len(f.procs) >= maxPIDs {
			break
		}
		if !slices.ContainsFunc(f.procs, func(p proc) bool { return p.Proc == m }) {
			f.procs = append(f.procs, proc{Proc: m})
		}
	}
	for _, ep := range pool {
		ep = netip.AddrPortFrom(ep.Addr().Unmap(), ep.Port())
		if len(f.pool) < maxEndpoints && !slices.Contains(f.pool, ep) {
			f.pool = append(f.pool, ep)
		}
	}
	for _, port := range ports {
		if len(f.ports) < maxEndpoints && !slices.Contains(f.ports, port) {
			f.ports = append(f.ports, port)
		}
	}
	t.seq++
	f.touched = t.seq
}

// scope is which connections count as the pool's.
func (f *tracked) scope() string {
	switch {
	case len(f.pool) > 0:
		return ScopeAddress
	case len(f.ports) > 0:
		return ScopePort
	}
	return ScopeAll
}

func (f *tracked) isPool(c netip.AddrPort) bool {
	switch f.scope() {
	case ScopeAddress:
		return slices.Contains(f.pool, netip.AddrPortFrom(c.Addr().Unmap(), c.Port()))
	case ScopePort:
		return slices.Contains(f.ports, c.Port())
	}
	return true
}

// Usage takes one sample of pid (started at start) in context key at time at, with the byte counts
// of its TCP connections (nil when the sample has none). It returns an update when the process is a
// miner of the context's finding and the last update of that finding is at least an interval old
// (the first sample always updates).
func (t *Tracker) Usage(key string, pid int64, start string, at time.Time, cpu float64, rss int64, tcp []Conn) (Update, bool) {
	f := t.byKey[key]
	if f == nil {
		return Update{}, false
	}
	i := slices.IndexFunc(f.procs, func(p proc) bool {
		return p.PID == pid && (p.Start == "" || start == "" || p.Start == start)
	})
	if i < 0 {
		return Update{}, false
	}
	p := &f.procs[i]
	if cpu < p.cpu { // counters only grow: a smaller value is a stale or reordered sample
		return Update{}, false
	}
	p.cpu, p.rss, p.has = cpu, rss, true
	if tcp != nil {
		p.sent, p.recv, p.hasTCP = 0, 0, true
		for _, c := range tcp {
			if f.isPool(c.Remote) {
				p.sent += c.Sent
				p.recv += c.Received
			}
		}
	}
	t.seq++
	f.touched = t.seq
	if !f.last.IsZero() && at.Sub(f.last) < t.interval {
		return Update{}, false
	}
	f.last = at
	u := Update{ID: f.id, Severity: f.severity, Resource: f.resource, PoolScope: f.scope()}
	for _, q := range f.procs {
		if q.has {
			u.PIDs = append(u.PIDs, q.PID)
			u.CPUSeconds += q.cpu
			u.RSSBytes += q.rss
		}
		if q.hasTCP {
			u.PoolBytesSent += q.sent
			u.PoolBytesReceived += q.recv
			u.HasPoolBytes = true
		}
	}
	u.Cost = u.CPUSeconds / 3600 * t.price
	return u, true
}

// Forget drops the finding of context key (its chain ended).
func (t *Tracker) Forget(key string) { delete(t.byKey, key) }

func (t *Tracker) evict() {
	var oldest string
	var seq uint64
	first := true
	for k, f := range t.byKey {
		if first || f.touched < seq {
			oldest, seq, first = k, f.touched, false
		}
	}
	delete(t.byKey, oldest)
}
