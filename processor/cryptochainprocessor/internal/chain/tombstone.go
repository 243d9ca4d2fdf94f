package chain

import "github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/evidence"

// A tombstone is what is left of a context evicted after it reported a chain: its key, kept
// resource, finding id and levels, and the evidence the reported chain was made of, cut short (at
// most tombItemsPerGroup items per group, strings of at most tombField bytes) with the processes of
// those items: pool endpoints, wallets, miner executable, groups seen. When records of that context
// come back, the context is revived from it: the chain keeps its finding id, does not report its
// level again, and escalates on what follows (the cron write and hugepages of a quiet Medium chain
// that a flood of junk contexts pushed out). Tombstones are bounded in number (least recently
// buried dropped first) and count against the byte budget.
type tombstones struct {
	m     map[string]*Context // by context key
	list  lru                 // most recently buried at the head
	bytes int64
}

const (
	tombItemsPerGroup = 2
	tombField         = 256
)

// Tombstones returns the number of tombstones held.
func (t *Tracker) Tombstones() int { return len(t.tombs.m) }

// bury keeps a tombstone of c, a context being evicted, when it reported a chain whose evidence is
// still there.
func (t *Tracker) bury(c *Context) {
	if t.cfg.MaxTombstones <= 0 || c.FindingID == "" {
		return
	}
	_, sel, _ := rule(c, c.Items, t.ancestorsFunc(c))
	if len(sel) == 0 {
		return // its evidence has expired: nothing to continue
	}
	tc := &Context{Key: c.Key, Hash: c.Hash, Resource: c.Resource, ID: DisplayID(c), FindingID: c.FindingID,
		Level: c.Level, Sent: c.Sent, MaxTime: c.MaxTime, Facts: c.Facts}
	var n [evidence.NumGroups]int
	for _, strong := range [...]bool{true, false} {
		for _, i := range sel {
			it := &c.Items[i]
			g := it.Group
			if g >= evidence.NumGroups || n[g] >= tombItemsPerGroup || (it.Strength == evidence.Strong) != strong {
				continue
			}
			if !strong && sameKindKept(tc.Items, it) {
				continue // a second weak item only helps with another kind
			}
			n[g]++
			tc.Items = append(tc.Items, tombItem(it))
			if it.PID != 0 && tc.proc(it.PID, it.Start) == nil {
				if p := c.proc(it.PID, it.Start); p != nil {
					q := *p
					q.Start, q.Exe, q.ConnAddr = clipTo(p.Start, tombField), clipTo(p.Exe, tombField), clipTo(p.ConnAddr, tombField)
					q.Ancestors = append([]int64(nil), p.Ancestors...)
					tc.Procs = append(tc.Procs, q)
				}
			}
		}
	}
	if old := t.tombs.m[tc.Key]; old != nil {
		t.dropTomb(old)
	}
	tc.size = tc.estimate()
	t.tombs.m[tc.Key] = tc
	t.tombs.list.pushFront(tc)
	t.tombs.bytes += tc.size
	t.queueTomb(tc)
	for len(t.tombs.m) > t.cfg.MaxTombstones && t.dropOldestTomb() {
	}
}

func sameKindKept(kept []Item, it *Item) bool {
	for i := range kept {
		if kept[i].Group == it.Group && kept[i].Kind == it.Kind {
			return true
		}
	}
	return false
}

// tombItem copies an item with its strings cut to tombField.
func tombItem(it *Item) Item {
	e := it.Evidence
	e.Kind, e.Indicator, e.Source = clipTo(e.Kind, tombField), clipTo(e.Indicator, tombField), clipTo(e.Source, tombField)
	e.Endpoint, e.Wallet, e.Path = clipTo(e.Endpoint, tombField), clipTo(e.Wallet, tombField), clipTo(e.Path, tombField)
	e.Action, e.Command = clipTo(e.Action, tombField), clipTo(e.Command, tombField)
	o := Origin{}
	if it.Origin != nil {
		o = *it.Origin
	}
	o.Start, o.Exe, o.CmdLine, o.LinkedFrom = clipTo(o.Start, tombField), clipTo(o.Exe, tombField), clipTo(o.CmdLine, tombField), clipTo(o.LinkedFrom, tombField)
	return Item{Evidence: e, Origin: &o}
}

// clipTo is clip with a smaller bound.
func clipTo(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return clip(s)
}

// revive returns the context of key rebuilt from its tombstone (which is dropped), or nil.
func (t *Tracker) revive(key string) *Context {
	tc := t.tombs.m[key]
	if tc == nil {
		return nil
	}
	t.dropTomb(tc)
	c := &Context{Key: tc.Key, Hash: tc.Hash, Resource: tc.Resource, ID: tc.ID, FindingID: tc.FindingID,
		Level: tc.Level, Sent: tc.Sent, MaxTime: tc.MaxTime, Items: tc.Items, Procs: tc.Procs, Facts: tc.Facts}
	c.dirty = true
	t.seedFacts(c) // a tombstone restored from storage carries none
	return c
}

// reviveStored puts the context of a tombstone back into the tracker without new records, to offer
// its refused finding again.
func (t *Tracker) reviveStored(key string) *Context {
	c := t.revive(key)
	if c == nil {
		return nil
	}
	res, err := decodedResource(c.Resource)
	if err == nil {
		c.SelfID, c.ParentID, c.Boot, c.ParentBoot = lineageIDs(res)
	}
	t.insert(c)
	t.account(c, true)
	t.enforce(c)
	t.queue(c)
	return c
}

func (t *Tracker) dropTomb(tc *Context) {
	t.tombs.list.unlink(tc)
	delete(t.tombs.m, tc.Key)
	t.tombs.bytes -= tc.size
	if tc.saved {
		t.tombsRemoved = append(t.tombsRemoved, tc.Key)
		tc.saved = false
	}
}

// dropOldestTomb drops the least recently buried tombstone; false when there is none.
func (t *Tracker) dropOldestTomb() bool {
	tc := t.tombs.list.tail
	if tc == nil {
		return false
	}
	t.dropTomb(tc)
	return true
}

// sweepTombs drops the tombstones of chains whose evidence would have expired: past the window
// and no process of theirs running.
func (t *Tracker) sweepTombs(now int64) {
	cutoff := now - int64(t.cfg.Window)
	for tc := t.tombs.list.tail; tc != nil; {
		prev := tc.prev
		if tc.MaxTime < cutoff {
			alive := false
			for i := range tc.Procs {
				if !tc.Procs[i].Exited {
					alive = true
					break
				}
			}
			if !alive {
				t.dropTomb(tc)
			}
		}
		tc = prev
	}
}

func (t *Tracker) queueTomb(tc *Context) {
	if !tc.queued {
		tc.queued = true
		t.tombChanged = append(t.tombChanged, tc)
	}
}

// RestoreTomb keeps a tombstone loaded from storage. One whose context is open is stale: it is
// deleted.
func (t *Tracker) RestoreTomb(tc *Context) {
	t.sanitize(tc)
	tc.saved = true
	tc.Hash = HashKey([]byte(tc.Key))
	if t.cfg.MaxTombstones <= 0 || t.contexts[tc.Key] != nil {
		t.tombsRemoved = append(t.tombsRemoved, tc.Key)
		return
	}
	if old := t.tombs.m[tc.Key]; old != nil {
		t.dropTomb(old)
	}
	tc.size = tc.estimate()
	t.tombs.m[tc.Key] = tc
	t.tombs.list.pushFront(tc)
	t.tombs.bytes += tc.size
	for len(t.tombs.m) > t.cfg.MaxTombstones && t.dropOldestTomb() {
	}
	t.enforce(nil)
}
