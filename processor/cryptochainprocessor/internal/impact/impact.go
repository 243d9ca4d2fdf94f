// Package impact folds the resource use of a finding's miner processes (CPU seconds, resident
// memory) into rate-limited updates of that finding, with a cost estimated from a price per
// core-hour. State is bounded: at most Max findings, the least recently updated forgotten.
// It must not know records, the Collector or how findings are decided; callers register the
// miners of an emitted finding and hand it usage samples.
package impact // import "github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/impact"

import (
	"slices"
	"time"
)

// maxPIDs bounds the miner processes tracked per finding.
const maxPIDs = 64

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
}

type tracked struct {
	id       string
	severity string
	resource []byte
	procs    []proc
	last     time.Time // time of the last update emitted
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
}

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

// Found registers (or refreshes, on escalation) the finding of context key and its miner processes.
func (t *Tracker) Found(key, id, severity string, resource []byte, miners []Proc) {
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
	t.seq++
	f.touched = t.seq
}

// Usage takes one sample of pid (started at start) in context key at time at. It returns an
// update when the process is a miner of the context's finding and the last update of that finding
// is at least an interval old (the first sample always updates).
func (t *Tracker) Usage(key string, pid int64, start string, at time.Time, cpu float64, rss int64) (Update, bool) {
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
	t.seq++
	f.touched = t.seq
	if !f.last.IsZero() && at.Sub(f.last) < t.interval {
		return Update{}, false
	}
	f.last = at
	u := Update{ID: f.id, Severity: f.severity, Resource: f.resource}
	for _, q := range f.procs {
		if q.has {
			u.PIDs = append(u.PIDs, q.PID)
			u.CPUSeconds += q.cpu
			u.RSSBytes += q.rss
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
