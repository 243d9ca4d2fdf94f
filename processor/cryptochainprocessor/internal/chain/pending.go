package chain

import (
	"strings"
	"time"
	"unsafe"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/evidence"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/shellcmd"
)

// OrderWindow is how far apart in record time an exec and the persistence write whose command it
// runs are still linked when they arrive in the wrong order: the content of a written cron table
// arrives with its read-back, about 300 ms after the write, and cron may run the new entry before
// that; records are also reordered by batching. Findings must not depend on order within it.
const OrderWindow = 10 * time.Second

// Bounds of the execs remembered for late links: maxPending in all, maxPendingPerKey of one context
// and maxPendingPerParent of the contexts opened from one parent context (a context without a
// parent counts as its own), so one noisy context, or a swarm of contexts one session opens, can
// only push out its own candidates; maxPendingField bounds each string kept of one (a persisted
// command is at most 1 KiB: the classifier cuts it there).
const (
	maxPending          = 1024
	maxPendingPerKey    = 16
	maxPendingPerParent = 128
	maxPendingField     = 1024
)

// pendingExec is an exec that could be a re-spawn (it ran a "sh -c" command, was started by pid 1,
// or gave evidence itself) but matched no remembered persistence command when it arrived.
type pendingExec struct {
	key       string         // its context
	parent    uint64         // group: hash of its parent context id (of its key when it has none)
	seq       uint64         // arrival order
	evidenced bool           // gave evidence itself (the re-spawned miner): kept over a bare shell
	ev        evidence.Event // the facts links.match and applyLink read, copied and bounded
	size      int64          // estimated bytes held (budget.go)
}

var pendingBytes = int64(unsafe.Sizeof(pendingExec{})) + 2*mapEntryBytes

// clipPending copies s bounded to maxPendingField.
func clipPending(s string) string {
	if len(s) > maxPendingField {
		s = s[:maxPendingField]
	}
	return clip(s)
}

// pendingExecs holds recent re-spawn candidates, with their positions per context (so that creating
// a context costs one map lookup when none of its execs is pending, and a context's full budget is
// searched among its own few) and a count per parent group.
type pendingExecs struct {
	ring     []pendingExec // unordered; seq gives the age
	seq      uint64
	byKey    map[string][]int32
	byParent map[uint64]int32
	bytes    int64 // estimated bytes held, counted in Tracker.Bytes
	dropped  int64 // candidates pushed out or refused by a full budget, since TakeUpdateCounters
}

func newPendingExecs() *pendingExecs {
	return &pendingExecs{ring: make([]pendingExec, 0, maxPending), byKey: make(map[string][]int32), byParent: make(map[uint64]int32)}
}

// respawnCandidate reports whether an exec may be what cron or systemd runs for a persistence
// item: a shell running a "-c" command (cron's form), a child of pid 1 (a systemd service), or an
// exec that gave evidence. Other execs are not remembered, so ordinary exec storms cost nothing.
func respawnCandidate(ev *evidence.Event, evidenced bool) bool {
	if evidenced || ev.PPID == 1 || (len(ev.Ancestors) > 0 && ev.Ancestors[0] == 1) {
		return true
	}
	for i := 1; i+1 < len(ev.Args) && i < 4; i++ {
		if ev.Args[i] == "-c" {
			return true
		}
	}
	return false
}

// parentGroup returns the group of a candidate of context key whose resource is res.
func parentGroup(key []byte, res pcommon.Resource) uint64 {
	if res != (pcommon.Resource{}) {
		if v, ok := res.Attributes().Get(contract.ResourceContextParentID); ok && v.Type() == pcommon.ValueTypeStr && v.Str() != "" {
			return HashKey(append([]byte("\x00parent\x00"), v.Str()...))
		}
	}
	return HashKey(key)
}

// remember keeps ev (an exec of the context key, in parent group parent) for links that arrive
// after it; now is the newest record time seen, and contexts are the contexts holding evidence.
// When a budget is full, the candidate that goes is the least worth, oldest first, of the fullest
// scope (the context, else its parent group, else the largest group), or one that is past the order
// window anywhere. Worth: an exec that gave evidence (the re-spawned miner itself) over one whose
// context holds evidence (a re-spawn whose miner already showed) over a bare shell of a context
// without any; a newcomer worth less than everything in scope is refused. Every candidate that goes
// or is refused is counted.
func (pe *pendingExecs) remember(key []byte, parent uint64, evidenced bool, ev *evidence.Event, now int64, contexts map[string]*Context) {
	w := candidateWorth{contexts: contexts}
	own := 0
	if evidenced {
		own = 2
	} else if contexts[string(key)] != nil {
		own = 1
	}
	victim := -1
	switch {
	case len(pe.byKey[string(key)]) >= maxPendingPerKey:
		victim = pe.victimOf(pe.byKey[string(key)], &w, own)
	case pe.byParent[parent] >= maxPendingPerParent:
		victim = pe.victim(parent, &w, own)
	case len(pe.ring) >= maxPending:
		victim = pe.stale(now)
		if victim < 0 {
			victim = pe.victim(pe.largestGroup(), &w, own)
		}
	}
	full := len(pe.ring) >= maxPending || len(pe.byKey[string(key)]) >= maxPendingPerKey || pe.byParent[parent] >= maxPendingPerParent
	if full && victim < 0 {
		pe.dropped++ // every candidate in scope is worth more than this one
		return
	}
	e := pendingExec{parent: parent, evidenced: evidenced, ev: evidence.Event{
		Name: contract.EventExec, Time: ev.Time, PID: ev.PID, Start: clipPending(ev.Start), PPID: ev.PPID,
		Exe: clipPending(ev.Exe), CmdLine: clipPending(ev.CmdLine),
	}}
	if ev.Filename != ev.Exe {
		e.ev.Filename = clipPending(ev.Filename)
	} else {
		e.ev.Filename = e.ev.Exe
	}
	// Only what match looks at: argv[0] and a "-c" command.
	if len(ev.Args) > 0 {
		e.ev.Args = []string{clipPending(ev.Args[0])}
		for i := 0; i+1 < len(ev.Args); i++ {
			if ev.Args[i] == "-c" {
				e.ev.Args = append(e.ev.Args, "-c", clipPending(ev.Args[i+1]))
				break
			}
		}
	}
	e.size = pendingBytes + int64(len(key)+len(key)/8+16) + strBytes(e.ev.Start) + strBytes(e.ev.Exe) + strBytes(e.ev.CmdLine) +
		int64(cap(e.ev.Args))*16
	if e.ev.Filename != e.ev.Exe {
		e.size += strBytes(e.ev.Filename)
	}
	for _, a := range e.ev.Args {
		e.size += strBytes(a)
	}
	if victim >= 0 {
		old := &pe.ring[victim]
		if old.key == string(key) {
			e.key = old.key
		}
		pe.forget(victim)
		pe.dropped++
	}
	if e.key == "" {
		e.key = string(key)
	}
	pe.seq++
	e.seq = pe.seq
	pe.bytes += e.size
	pe.ring = append(pe.ring, e)
	pe.byKey[e.key] = append(pe.byKey[e.key], int32(len(pe.ring)-1))
	pe.byParent[e.parent]++
}

// candidateWorth ranks a candidate: 2 when it gave evidence, 1 when its context holds evidence, else 0.
type candidateWorth struct {
	contexts  map[string]*Context
	key       string // the last context looked up: candidates in scope mostly share one
	keyActive bool
	looked    bool
}

func (w *candidateWorth) of(p *pendingExec) int {
	if p.evidenced {
		return 2
	}
	if !w.looked || p.key != w.key {
		w.key, w.keyActive, w.looked = p.key, w.contexts[p.key] != nil, true
	}
	if w.keyActive {
		return 1
	}
	return 0
}

// victim returns the index of the candidate of parent group g to push out: the least worth, oldest
// first, and never one worth more than the newcomer (own); -1 when none.
func (pe *pendingExecs) victim(g uint64, w *candidateWorth, own int) int {
	best, bestWorth := -1, 0
	for i := range pe.ring {
		p := &pe.ring[i]
		if p.parent != g {
			continue
		}
		if v := w.of(p); v <= own && (best < 0 || v < bestWorth || (v == bestWorth && p.seq < pe.ring[best].seq)) {
			best, bestWorth = i, v
		}
	}
	return best
}

// victimOf is victim among the candidates at positions idx.
func (pe *pendingExecs) victimOf(idx []int32, w *candidateWorth, own int) int {
	best, bestWorth := -1, 0
	for _, i := range idx {
		p := &pe.ring[i]
		if v := w.of(p); v <= own && (best < 0 || v < bestWorth || (v == bestWorth && p.seq < pe.ring[best].seq)) {
			best, bestWorth = int(i), v
		}
	}
	return best
}

// stale returns the index of a candidate past the order window at now, or -1.
func (pe *pendingExecs) stale(now int64) int {
	for i := range pe.ring {
		if now-pe.ring[i].ev.Time.UnixNano() > int64(OrderWindow) {
			return i
		}
	}
	return -1
}

// largestGroup returns the parent group holding the most candidates.
func (pe *pendingExecs) largestGroup() uint64 {
	var g uint64
	n := int32(-1)
	for k, v := range pe.byParent {
		if v > n || (v == n && k < g) {
			g, n = k, v
		}
	}
	return g
}

// move changes the position from to to (-1: removes it) in the positions of key.
func (pe *pendingExecs) move(key string, from, to int32) {
	idx := pe.byKey[key]
	for j, v := range idx {
		if v != from {
			continue
		}
		if to >= 0 {
			idx[j] = to
			return
		}
		idx[j] = idx[len(idx)-1]
		idx = idx[:len(idx)-1]
		break
	}
	if len(idx) == 0 {
		delete(pe.byKey, key)
	} else {
		pe.byKey[key] = idx
	}
}

// forget removes candidate i (the last one takes its place: the slice is unordered).
func (pe *pendingExecs) forget(i int) {
	old := &pe.ring[i]
	pe.bytes -= old.size
	pe.move(old.key, int32(i), -1)
	if pe.byParent[old.parent]--; pe.byParent[old.parent] <= 0 {
		delete(pe.byParent, old.parent)
	}
	last := len(pe.ring) - 1
	if i != last {
		pe.move(pe.ring[last].key, int32(last), int32(i))
	}
	pe.ring[i] = pe.ring[last]
	pe.ring[last] = pendingExec{}
	pe.ring = pe.ring[:last]
}

// resolveLate links the persistence commands remembered by this Ingest to the pending execs that
// ran them before they were known, escalating those contexts (their finding keeps its id). A
// pending exec whose context holds no state yet is linked when the context is created (linkCreated).
func (t *Tracker) resolveLate() {
	fresh := t.links.fresh
	t.links.fresh = t.links.fresh[:0]
	if len(t.pending.ring) == 0 {
		return
	}
	for _, v := range fresh {
		cmd := strings.TrimSpace(v.item.Command)
		exe := shellcmd.Executable(cmd)
		for i := range t.pending.ring {
			p := &t.pending.ring[i]
			if p.key == v.fromKey || !withinOrder(p.ev.Time.UnixNano(), v.item.Time) || !runs(&p.ev, cmd, exe) {
				continue
			}
			c := t.contexts[p.key]
			if c == nil {
				continue // linked if the context is created (linkCreated)
			}
			if t.applyLink(c, v, &p.ev) > 0 {
				t.report(c)
				t.queue(c)
			}
		}
	}
}

// linkCreated gives a context just created the links its pending execs ran; it returns the number
// of items added.
func (t *Tracker) linkCreated(c *Context) int {
	idx := t.pending.byKey[c.Key]
	if len(idx) == 0 {
		return 0
	}
	n := 0
	for _, i := range idx {
		p := &t.pending.ring[i]
		if t.maxTime-p.ev.Time.UnixNano() > int64(OrderWindow) {
			continue
		}
		if v := t.links.match([]byte(c.Key), &p.ev); v != nil && withinOrder(p.ev.Time.UnixNano(), v.item.Time) {
			n += t.applyLink(c, v, &p.ev)
		}
	}
	return n
}

// withinOrder reports whether an exec at ns may be the re-spawn of a write at wrote that arrived
// after it: the exec follows the write (by record time, one host's clock; a few ms of slack for
// timestamps taken on different CPUs) within OrderWindow. An exec from before the write cannot have
// run what the write put there.
func withinOrder(ns, wrote int64) bool {
	return ns >= wrote-int64(orderSlack) && ns-wrote <= int64(OrderWindow)
}

const orderSlack = 10 * time.Millisecond

// runs reports whether exec ev runs command cmd (or its executable exe), as links.match decides.
func runs(ev *evidence.Event, cmd, exe string) bool {
	absExe := strings.HasPrefix(exe, "/")
	for _, s := range [...]string{ev.Exe, ev.Filename, first(ev.Args)} {
		if s != "" && absExe && s == exe {
			return true
		}
	}
	if len(ev.Args) == 0 && strings.TrimSpace(ev.CmdLine) == cmd && cmd != "" {
		return true
	}
	if len(ev.Args) == 3 && ev.Args[1] == "-c" {
		script := strings.TrimSpace(ev.Args[2])
		return (script == cmd && cmd != "") || (absExe && shellcmd.Executable(ev.Args[2]) == exe)
	}
	return false
}
