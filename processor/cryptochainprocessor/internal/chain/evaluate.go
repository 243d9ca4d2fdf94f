package chain

import (
	"net"
	"sort"
	"strconv"

	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/evidence"
)

// Finding is a record to emit: an escalation of a chain, or an update of one at the level already
// reported (Update: concealment or response facts it did not show yet).
type Finding struct {
	ID      string
	Level   Level
	Context *Context
	Groups  []evidence.Group // groups present (complete), in group order
	Items   []Item           // evidence of the groups present, by group then time
	// Update marks a report at a level already reported; Reasons says why ("concealment",
	// "response"), Added lists the response facts the previous finding did not show, and Coalesced
	// counts the evaluations that found new facts while the update waited for the update interval.
	Update    bool
	Reasons   []string
	Added     []Fact
	Coalesced int64
}

// Update reasons.
const (
	ReasonConcealment = "concealment"
	ReasonResponse    = "response"
)

// evaluate expires old evidence of c and decides its level. When the level is above the one
// already reported it records the escalation and returns the finding to emit. At the level already
// reported it returns an update when concealment was added (at once) or when the chain holds response
// facts the last finding did not show (at most once per UpdateInterval of record time, or when the
// update is flushed: DueUpdates); otherwise nil.
func (t *Tracker) evaluate(c *Context) *Finding {
	t.expire(c)
	reported := max(c.Level, c.Sent) // accepted, or emitted and awaiting the consumer's verdict
	due := c.flush || t.maxTime-c.reportedAt >= int64(t.cfg.UpdateInterval)
	c.flush = false
	if reported == Critical && concealments(c.Items) <= int(c.Concealed) && c.held && !due {
		c.coalesced++
		t.coalesced++
		return nil // an update already waits: nothing can be sent before it is due
	}
	items := c.Items
	if c.ParentID != 0 {
		if extra := t.inherited(c); len(extra) > 0 {
			items = append(c.Items[:len(c.Items):len(c.Items)], extra...)
		}
	}
	level, sel, groups := rule(c, items, t.ancestorsFunc(c))
	if level == None {
		t.release(c)
		return nil
	}
	// Concealment never raises the level, but a chain that starts hiding is reported again (same
	// id, same level) so the finding shows it.
	hidden := 0
	for _, i := range sel {
		if items[i].Group == evidence.Concealment {
			hidden++
		}
	}
	t.facts = responseFacts(c, items, sel, t.facts[:0])
	var added []Fact
	if reported > None {
		added = newFacts(t.facts, c.Facts)
	}
	escalation := level > reported
	concealed := hidden > int(c.Concealed)
	if !escalation && !concealed {
		if len(added) == 0 {
			t.release(c) // what waited has expired, or was shown by another report
			return nil
		}
		if !due {
			t.hold(c)
			c.coalesced++
			t.coalesced++
			return nil
		}
	}
	level = max(level, reported)
	f := &Finding{Level: level, Context: c, Groups: groups}
	if !escalation {
		f.Update, f.Coalesced = true, c.coalesced
		if concealed {
			f.Reasons = append(f.Reasons, ReasonConcealment)
		}
		if len(added) > 0 {
			f.Reasons = append(f.Reasons, ReasonResponse)
			f.Added = added
		}
	}
	c.prevConcealed, c.prevFacts, c.prevReportedAt = c.Concealed, c.Facts, c.reportedAt
	c.Concealed = int32(hidden)
	c.Facts = factHashes(t.facts, nil)
	c.reportedAt = t.maxTime
	t.release(c)
	if c.FindingID == "" {
		c.FindingID = newFindingID()
	}
	f.ID = c.FindingID
	c.Sent = level // Level follows once the next consumer accepted it (Accepted)
	c.dirty = true
	out := make([]Item, 0, len(sel))
	for _, i := range sel {
		out = append(out, items[i])
	}
	sort.SliceStable(out, func(a, b int) bool {
		if out[a].Group != out[b].Group {
			return out[a].Group < out[b].Group
		}
		return out[a].Time < out[b].Time
	})
	f.Items = out
	return f
}

// ancestorsFunc returns the ancestor pids of a process of c, nearest first: from the record's
// cryptochain.process.ancestors when it had them, else by walking parent links.
func (t *Tracker) ancestorsFunc(c *Context) func(p *Proc) []int64 {
	return func(p *Proc) []int64 {
		if len(p.Ancestors) > 0 {
			return p.Ancestors
		}
		var out []int64
		pid := p.PPID
		for len(out) < 16 && pid > 1 {
			out = append(out, pid)
			if q := c.procByPID(pid); q != nil && q.PPID != 0 && q != p {
				pid = q.PPID
				continue
			}
			if info, ok := t.procs.get(procKey{c.Hash, pid}); ok && info.ppid != 0 {
				pid = info.ppid
				continue
			}
			break
		}
		return out
	}
}

// rule is the chain rule. Miner and Pool must both be complete on one process line: a process
// and its ancestors (siblings never combine, so a wallet grepped in one child of a shell and a
// pool resolved in another do not make a chain). Persistence and Optimization count from anywhere
// in the context (in a boot catch-all context: only from the chain's process line and its
// descendants), or from the contexts it was opened from (items beyond c.Items). It returns the
// level, the indices (into items) of the items to report and the groups present.
func rule(c *Context, items []Item, ancestors func(*Proc) []int64) (Level, []int, []evidence.Group) {
	var hasMiner, hasPool bool
	for i := range items {
		hasMiner = hasMiner || items[i].Group == evidence.Miner
		hasPool = hasPool || items[i].Group == evidence.Pool
	}
	if !hasMiner || !hasPool {
		return None, nil, nil // no process line can be complete: spare the walk over processes
	}
	var line, coreLine, corePIDs []int64
	selected := make(map[int]struct{})
	core := false
	for pi := range c.Procs {
		p := &c.Procs[pi]
		line = append(line[:0], p.PID)
		line = append(line, ancestors(p)...)
		var miner, pool []int
		for i := range items {
			it := &items[i]
			if (it.Group == evidence.Miner || it.Group == evidence.Pool) && it.PID != 0 && contains(line, it.PID) {
				if it.Group == evidence.Miner {
					miner = append(miner, i)
				} else {
					pool = append(pool, i)
				}
			}
		}
		if complete(c, items, miner, evidence.Miner) && complete(c, items, pool, evidence.Pool) {
			core = true
			coreLine = append(coreLine, line...)
			corePIDs = append(corePIDs, p.PID)
			for _, i := range miner {
				selected[i] = struct{}{}
			}
			for _, i := range pool {
				selected[i] = struct{}{}
			}
		}
	}
	if !core {
		return None, nil, nil
	}
	var persist, optim []int
	for i := range items {
		if c.Boot && i < len(c.Items) && !onLine(c, &items[i], coreLine, corePIDs, ancestors) {
			continue // the catch-all's other processes are unrelated to this chain
		}
		switch items[i].Group {
		case evidence.Persistence:
			persist = append(persist, i)
		case evidence.Optimization:
			optim = append(optim, i)
		case evidence.Concealment: // shown, counted in no group
			selected[i] = struct{}{}
		}
	}
	groups := []evidence.Group{evidence.Miner, evidence.Pool}
	hasPersist := complete(c, items, persist, evidence.Persistence)
	hasOptim := complete(c, items, optim, evidence.Optimization)
	if hasPersist {
		groups = append(groups, evidence.Persistence)
		for _, i := range persist {
			selected[i] = struct{}{}
		}
	}
	if hasOptim {
		groups = append(groups, evidence.Optimization)
		for _, i := range optim {
			selected[i] = struct{}{}
		}
	}
	level := Medium
	switch {
	case hasPersist && hasOptim:
		level = Critical
	case hasPersist:
		level = High
	}
	sel := make([]int, 0, len(selected))
	for i := range selected {
		sel = append(sel, i)
	}
	sort.Ints(sel)
	return level, sel, groups
}

// complete applies the group rule to the items idx of group g: one strong item; or weak items of
// two distinct kinds; or, for Pool, a weak item from a process that has Miner evidence. Failed
// attempts count only for Optimization (the intent is the signal there).
func complete(c *Context, items []Item, idx []int, g evidence.Group) bool {
	var firstKind string
	seen := false
	for _, i := range idx {
		it := &items[i]
		if it.Group != g || (it.Failed && g != evidence.Optimization) {
			continue
		}
		if it.Strength == evidence.Strong {
			return true
		}
		if g == evidence.Pool && c.hasMiner(it.PID, it.Start) {
			return true
		}
		if !seen {
			firstKind, seen = it.Kind, true
		} else if it.Kind != firstKind {
			return true
		}
	}
	return false
}

// onLine reports whether item it of a boot context belongs to the chain: made by a process of its
// line (the miner or pool process, or an ancestor: the shell that started it) or by a descendant of
// the miner or pool process itself. A boot context gathers every process of its cgroup whose
// ancestry the receiver did not see, so only evidence tied to the chain's own processes counts there.
func onLine(c *Context, it *Item, line, core []int64, ancestors func(*Proc) []int64) bool {
	if it.PID <= 1 {
		return false
	}
	if contains(line, it.PID) {
		return true
	}
	p := c.proc(it.PID, it.Start)
	if p == nil {
		return false
	}
	for _, a := range ancestors(p) {
		if contains(core, a) {
			return true
		}
	}
	return false
}

func contains(a []int64, v int64) bool {
	for _, x := range a {
		if x == v {
			return true
		}
	}
	return false
}

func joinHostPort(addr string, port int64) string {
	if port == 0 {
		return addr
	}
	return net.JoinHostPort(addr, strconv.FormatInt(port, 10))
}

// concealments counts the concealment items of items.
func concealments(items []Item) int {
	n := 0
	for i := range items {
		if items[i].Group == evidence.Concealment {
			n++
		}
	}
	return n
}
