package process

import (
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// store holds what is known about live processes, keyed by pid and start time, so that a child's
// exec can be compared with its parent and every record can carry its ancestors. It is bounded
// (LRU) and keeps exited processes for a grace period, because their children's events may still
// be in flight. Safe for concurrent use.
type store struct {
	mu    sync.Mutex
	procs *lru.Cache[Key, *Proc]
	byPID map[uint32]Key // latest incarnation of each pid
	grace time.Duration
	exits []Key
	gen   uint64 // images stored or removed so far: what was learned under a generation stays valid while it stays

	// the last exact-key answer of getLocked, valid while gen stays: a busy process asks again
	lastKey  Key
	lastProc *Proc
	lastGen  uint64

	// departed keeps the last images swept after their grace period, by exact key: a creator
	// recorded at fork may exec its orphan long after it exited itself (sleep, then exec).
	departed *lru.Cache[Key, *Proc]
}

// departedSize bounds the images kept after exit for late orphans' execs.
const departedSize = 4096

// newStore makes a store holding at most size processes; exited ones are forgotten after grace.
func newStore(size int, grace time.Duration) *store {
	t := &store{byPID: make(map[uint32]Key, size), grace: grace}
	t.departed, _ = lru.New[Key, *Proc](departedSize)
	t.procs, _ = lru.NewWithEvict[Key, *Proc](size, func(k Key, _ *Proc) {
		if t.byPID[k.PID] == k {
			delete(t.byPID, k.PID)
		}
	})
	return t
}

// put stores p (replacing the previous image of the same process).
func (t *store) put(p *Proc) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p.ancestors, p.ancestorsDone = nil, false // a copied image (a fork) must not keep its parent's
	t.gen++
	t.procs.Add(p.Key, p)
	if cur, ok := t.byPID[p.PID]; !ok || cur.Start <= p.Start {
		t.byPID[p.PID] = p.Key
	}
}

// get returns the process with key k. A zero start matches the latest incarnation of the pid.
func (t *store) get(k Key) (*Proc, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.getLocked(k)
}

func (t *store) getLocked(k Key) (*Proc, bool) {
	if k.Start != 0 {
		if t.lastProc != nil && t.lastGen == t.gen && k == t.lastKey {
			return t.lastProc, true
		}
		if p, ok := t.procs.Get(k); ok {
			t.lastKey, t.lastProc, t.lastGen = k, p, t.gen
			return p, true
		}
	}
	latest, ok := t.byPID[k.PID]
	if !ok {
		return nil, false
	}
	// procfs start times are in clock ticks (10 ms), the kernel's in ns: a snapshot entry matches a
	// kernel key that falls within a tick or two after it, and a procfs key (rounded down) matches
	// a kernel entry within a tick or two before it.
	if k.Start != 0 && max(k.Start, latest.Start)-min(k.Start, latest.Start) > startTolerance {
		return nil, false
	}
	return t.procs.Get(latest)
}

const startTolerance = uint64(20 * time.Millisecond)

// exit marks a process as gone; it is removed after the grace period (see sweep).
func (t *store) exit(k Key, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if p, ok := t.getLocked(k); ok && p.exitedAt.IsZero() {
		p.exitedAt = now
		t.exits = append(t.exits, p.Key)
	}
}

// sweep removes the processes that exited more than the grace period before now.
func (t *store) sweep(now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	i := 0
	for ; i < len(t.exits); i++ {
		k := t.exits[i]
		p, ok := t.procs.Peek(k)
		if !ok {
			continue
		}
		if now.Sub(p.exitedAt) < t.grace {
			break
		}
		t.departed.Add(k, p)
		t.procs.Remove(k)
		t.gen++
	}
	t.exits = append(t.exits[:0], t.exits[i:]...)
}

// creator returns the process with exactly key k, live, in its grace period, or departed.
func (t *store) creator(k Key) (*Proc, bool) {
	if p, ok := t.get(k); ok {
		return p, true
	}
	return t.departed.Get(k)
}

// len is the number of processes held.
func (t *store) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.procs.Len()
}
