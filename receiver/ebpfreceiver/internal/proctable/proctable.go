// Package proctable keeps what the receiver knows about live processes, keyed by pid and start
// time (pids are reused), so that a child's exec can be compared with its parent and every record
// can carry its ancestors. It is bounded (LRU) and keeps exited processes for a grace period,
// because their children's events may still be in flight.
package proctable // import "github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/proctable"

import (
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/execctx"
)

// Key identifies a process: host tgid and start time (ns since boot).
type Key struct {
	PID   uint32
	Start uint64
}

// Proc is one process image as last seen.
type Proc struct {
	Key
	Parent      Key
	Exe         string
	Comm        string
	Args        []string // bounded argv, for the context rules
	CgroupID    uint64
	CgroupPath  string
	ContainerID string
	PodUID      string
	VPID        uint32 // pid in the process's own pid namespace
	UID, EUID   uint32
	LoginUID    uint32
	SessionID   uint32
	TTY         string
	SID, PGID   uint32
	CI          bool
	Context     execctx.Context

	exitedAt time.Time
}

// Table is the bounded process table. Safe for concurrent use.
type Table struct {
	mu    sync.Mutex
	procs *lru.Cache[Key, *Proc]
	byPID map[uint32]Key // latest incarnation of each pid
	grace time.Duration
	exits []Key
}

// New makes a table holding at most size processes; exited ones are forgotten after grace.
func New(size int, grace time.Duration) *Table {
	t := &Table{byPID: make(map[uint32]Key, size), grace: grace}
	t.procs, _ = lru.NewWithEvict[Key, *Proc](size, func(k Key, _ *Proc) {
		if t.byPID[k.PID] == k {
			delete(t.byPID, k.PID)
		}
	})
	return t
}

// Put stores p (replacing the previous image of the same process).
func (t *Table) Put(p *Proc) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.procs.Add(p.Key, p)
	if cur, ok := t.byPID[p.PID]; !ok || cur.Start <= p.Start {
		t.byPID[p.PID] = p.Key
	}
}

// Get returns the process with key k. A zero start matches the latest incarnation of the pid.
func (t *Table) Get(k Key) (*Proc, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.getLocked(k)
}

func (t *Table) getLocked(k Key) (*Proc, bool) {
	if k.Start != 0 {
		if p, ok := t.procs.Get(k); ok {
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

// ClearExit forgets that p exited (for a copy of an exited image that is a new, live process).
func (p *Proc) ClearExit() { p.exitedAt = time.Time{} }

// Exit marks a process as gone; it is removed after the grace period (see Sweep).
func (t *Table) Exit(k Key, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if p, ok := t.getLocked(k); ok && p.exitedAt.IsZero() {
		p.exitedAt = now
		t.exits = append(t.exits, p.Key)
	}
}

// Sweep removes the processes that exited more than the grace period before now.
func (t *Table) Sweep(now time.Time) {
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
		t.procs.Remove(k)
	}
	t.exits = append(t.exits[:0], t.exits[i:]...)
}

// Len is the number of processes held.
func (t *Table) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.procs.Len()
}

// Ancestors returns the pids above k, nearest first, at most max. The walk stops at a parent the
// table does not know (its pid is still included) and at pid 0.
func (t *Table) Ancestors(k Key, max int) []int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []int64
	p, ok := t.getLocked(k)
	if !ok {
		return nil
	}
	seen := map[Key]bool{p.Key: true}
	for len(out) < max {
		parent := p.Parent
		if parent.PID == 0 {
			break
		}
		out = append(out, int64(parent.PID))
		next, ok := t.getLocked(parent)
		if !ok || seen[next.Key] {
			break
		}
		seen[next.Key] = true
		p = next
	}
	return out
}
