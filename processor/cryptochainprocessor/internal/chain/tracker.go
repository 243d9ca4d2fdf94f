package chain

import (
	"crypto/rand"
	"encoding/hex"
	"hash/maphash"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/evidence"
)

// Config bounds the tracker.
type Config struct {
	Window      time.Duration // evidence of exited processes older than this expires
	MaxContexts int           // contexts holding evidence; least recently used evicted beyond
	MaxEvidence int           // evidence items per context; further items are dropped
	MaxLineage  int           // pid→parent entries remembered for records without ancestors
	MaxLinks    int           // persistence commands remembered for re-spawn linking
	// LongLived is how long a connection from a RandomX process must have been open (by record
	// time, the process still running) before it counts as Pool evidence when it came after the
	// RandomX event. A connection made before the RandomX event counts at once.
	LongLived time.Duration
	// MaxBytes bounds the estimated memory of the whole state (contexts, tombstones, the lineage
	// cache, re-spawn links, interned strings); 0 means no byte bound. Beyond it contexts are evicted
	// (budget.go).
	MaxBytes int64
	// MaxTombstones bounds the tombstones kept of evicted contexts that reported a chain.
	MaxTombstones int
	// ResourceKeys are resource attributes kept besides the built-in ones (the context keys).
	ResourceKeys []string
	// UpdateInterval is the least record time between a chain's finding and an update of it that
	// only adds response facts (updates.go); 0 means DefaultUpdateInterval.
	UpdateInterval time.Duration
}

// Tracker holds all contexts. It is not safe for concurrent use; the processor serialises calls.
type Tracker struct {
	cfg      Config
	contexts map[string]*Context
	lists    [numClasses]lru // contexts by eviction class, each least recently used at its tail
	procs    *procCache
	links    *links
	pending  *pendingExecs // execs that may be re-spawns of persistence not known yet
	maxTime  int64
	// interned holds one copy of evidence strings that repeat across contexts (kinds, sources, pool
	// endpoints, wallets, paths). Bounded; beyond the bound strings are kept as they are.
	interned map[string]string
	byID     map[uint64]*Context   // SelfID → context
	children map[uint64][]*Context // ParentID → contexts opened from it
	keep     map[string]bool       // resource attributes kept in state

	bytes       int64 // estimated bytes of the contexts (sum of Context.size)
	internBytes int64 // estimated bytes of the interned strings
	tombs       tombstones
	// retry holds the contexts whose finding awaits a (new) offer to the next consumer (deliver.go).
	retry map[string]retryState

	// Counters since the last TakeCounters call.
	evicted int64
	dropped int64
	// Changes since the last TakeChanges: contexts changed and keys of contexts dropped (evicted
	// or expired), so persisted copies can be written and deleted. spare* are the buffers handed
	// out by the previous TakeChanges, reused by the next.
	changed, spare        []*Context
	removed, spareRemoved []string
	// The same for tombstones: buried or changed, and keys of tombstones dropped or revived.
	tombChanged  []*Context
	tombsRemoved []string
	found        []*Finding // findings of the current Ingest
	// held holds the contexts whose update waits for the update interval, with the wall-clock time
	// (Unix ns) from which DueUpdates sends it anyway (0 until DueUpdates first saw it).
	held      map[*Context]int64
	facts     []Fact // scratch of evaluate
	coalesced int64  // evaluations folded into a waiting update, since TakeUpdateCounters
}

var seed = maphash.MakeSeed()

// HashKey hashes a context key; lineage entries of contexts without state are keyed by it.
func HashKey(key []byte) uint64 { return maphash.Bytes(seed, key) }

// New returns an empty tracker.
func New(cfg Config) *Tracker {
	if cfg.MaxLineage <= 0 {
		cfg.MaxLineage = 1 << 16
	}
	if cfg.MaxLinks <= 0 {
		cfg.MaxLinks = 1024
	}
	if cfg.LongLived <= 0 {
		cfg.LongLived = 30 * time.Second
	}
	if cfg.UpdateInterval <= 0 {
		cfg.UpdateInterval = DefaultUpdateInterval
	}
	keep := make(map[string]bool, len(keptResourceKeys)+len(cfg.ResourceKeys))
	for _, k := range keptResourceKeys {
		keep[k] = true
	}
	for _, k := range cfg.ResourceKeys {
		keep[k] = true
	}
	return &Tracker{
		cfg:      cfg,
		contexts: make(map[string]*Context),
		procs:    newProcCache(cfg.MaxLineage),
		links:    newLinks(cfg.MaxLinks),
		pending:  newPendingExecs(),
		interned: make(map[string]string),
		byID:     make(map[uint64]*Context),
		children: make(map[uint64][]*Context),
		keep:     keep,
		tombs:    tombstones{m: make(map[string]*Context)},
		retry:    make(map[string]retryState),
		held:     make(map[*Context]int64),
	}
}

// Len returns the number of contexts holding state.
func (t *Tracker) Len() int { return len(t.contexts) }

// TakeUpdateCounters returns and resets the count of evaluations folded into waiting updates and of
// re-spawn candidates dropped from full budgets (pending.go).
func (t *Tracker) TakeUpdateCounters() (coalesced, candidatesDropped int64) {
	coalesced, candidatesDropped = t.coalesced, t.pending.dropped
	t.coalesced, t.pending.dropped = 0, 0
	return
}

// TakeCounters returns and resets the eviction and evidence-drop counters.
func (t *Tracker) TakeCounters() (evicted, dropped int64) {
	evicted, dropped = t.evicted, t.dropped
	t.evicted, t.dropped = 0, 0
	return
}

// lookup returns the context with this key, or nil, marking it recently used. It does not allocate.
func (t *Tracker) lookup(key []byte) *Context {
	c := t.contexts[string(key)]
	if c != nil {
		t.moveToFront(c)
	}
	return c
}

// create adds a new context for key with the kept part of res, evicting when max_contexts is
// reached. A context that was evicted after reporting a chain comes back from its tombstone: same
// finding id, same reported level, the evidence that made the chain.
func (t *Tracker) create(key []byte, res pcommon.Resource) *Context {
	var c *Context
	if len(t.tombs.m) > 0 {
		c = t.revive(string(key))
	}
	if c == nil {
		c = &Context{Key: string(key), Hash: HashKey(key)}
	}
	c.Resource = t.keptResource(res)
	c.SelfID, c.ParentID, c.Boot, c.ParentBoot = lineageIDs(res)
	t.insert(c)
	t.account(c, true)
	return c
}

// Restore inserts a context loaded from storage (its Key and Resource set). Its stored copy exists:
// evicting it deletes that copy. It is evaluated again by the next Retry, so a finding emitted but
// never accepted before the restart is offered again.
func (t *Tracker) Restore(c *Context) {
	if old := t.contexts[c.Key]; old != nil {
		old.saved = false // replaced, not removed
		t.remove(old)
	}
	t.sanitize(c)
	c.saved = true
	c.Hash = HashKey([]byte(c.Key))
	res := pcommon.NewResource()
	if DecodeResource(c.Resource, res) == nil {
		c.SelfID, c.ParentID, c.Boot, c.ParentBoot = lineageIDs(res)
		c.Resource = t.keptResource(res) // a previous version kept the whole resource
	}
	if c.MaxTime > t.maxTime {
		t.maxTime = c.MaxTime
	}
	t.insert(c)
	t.seedFacts(c)
	t.account(c, true)
	t.enforce(c)
	if t.contexts[c.Key] == c {
		t.retry[c.Key] = retryState{}
	}
}

func (t *Tracker) insert(c *Context) {
	for t.cfg.MaxContexts > 0 && len(t.contexts) >= t.cfg.MaxContexts && t.evictOne(nil) {
	}
	t.contexts[c.Key] = c
	t.pushFront(c)
	if c.SelfID != 0 {
		t.byID[c.SelfID] = c
	}
	if c.ParentID != 0 {
		t.children[c.ParentID] = append(t.children[c.ParentID], c)
	}
}

func (t *Tracker) remove(c *Context) {
	t.release(c)
	t.unqueue(c)
	t.unlink(c)
	delete(t.contexts, c.Key)
	t.bytes -= c.size
	c.size, c.shape = 0, 0
	if c.SelfID != 0 && t.byID[c.SelfID] == c {
		delete(t.byID, c.SelfID)
	}
	if c.ParentID != 0 {
		kids := t.children[c.ParentID]
		for i, k := range kids {
			if k == c {
				kids = append(kids[:i], kids[i+1:]...)
				break
			}
		}
		if len(kids) == 0 {
			delete(t.children, c.ParentID)
		} else {
			t.children[c.ParentID] = kids
		}
	}
	if c.saved {
		t.removed = append(t.removed, c.Key)
		c.saved = false
	}
}

// each calls fn for every context, class by class, least recently used first.
func (t *Tracker) each(fn func(*Context)) {
	for i := range t.lists {
		for c := t.lists[i].tail; c != nil; {
			prev := c.prev
			fn(c)
			c = prev
		}
	}
}

// add records the evidence evs of event ev in context c. It returns how many items were kept.
func (t *Tracker) add(c *Context, ev *evidence.Event, evs []evidence.Evidence) int {
	ts := ev.Time.UnixNano()
	t.observeTime(c, ts)
	// Only processes that hold evidence are kept: a record whose items are all repeats or dropped
	// adds none (the process list stays bounded by the evidence budget).
	var p *Proc
	if ev.PID != 0 && c.proc(ev.PID, ev.Start) != nil {
		p = c.touchProc(ev)
	}
	kept := 0
	miner := false
	var origin *Origin // one per record, shared by its items
	// Grow once to the exact size: doubling would leave up to half the slice unused per context.
	if room := t.cfg.MaxEvidence - len(c.Items); room > 0 && cap(c.Items)-len(c.Items) < len(evs) {
		c.Items = slices.Grow(c.Items, min(len(evs), room))
	}
	for i := range evs {
		if t.duplicate(c, ev, &evs[i]) {
			continue
		}
		at, ok := t.place(c, &evs[i])
		if !ok {
			t.drop(c, 1)
			continue
		}
		if p == nil && ev.PID != 0 {
			p = c.touchProc(ev)
		}
		if origin == nil {
			origin = &Origin{Time: ts, Seen: ts, PID: ev.PID, CmdLine: clip(ev.CmdLine)}
			if p != nil {
				origin.Start, origin.Exe = p.Start, p.Exe
			}
			if origin.Exe != ev.Exe {
				origin.Exe = clip(ev.Exe)
			}
		}
		it := t.store(c, at, Item{Evidence: t.boundEvidence(evs[i]), Origin: origin})
		kept++
		if it.Group == evidence.Miner && !it.Failed {
			miner = true
		}
		if it.Group == evidence.Persistence && !it.Failed && it.Command != "" {
			t.links.remember(c, it)
		}
	}
	if kept > 0 {
		c.dirty = true
		if len(c.Procs) > 2*t.cfg.MaxEvidence+8 { // displaced items left processes behind
			c.pruneProcs()
			p = c.proc(ev.PID, ev.Start)
		}
	}
	if p != nil && miner && ev.Name == contract.EventFPURounding && !p.RandomX {
		p.RandomX, p.RandomXAt = true, ts
		c.dirty = true
		// A connection made before the RandomX behaviour showed, by a process still running.
		if p.ConnAddr == "" {
			if info, ok := t.procs.get(procKey{c.Hash, p.PID}); ok && info.addr != "" && info.at <= ts {
				p.ConnAddr, p.ConnPort, p.ConnTime = info.addr, info.port, info.at
			}
		}
		if p.ConnAddr != "" && p.ConnTime <= ts {
			t.randomXPool(c, p, ts)
		}
	}
	return kept
}

// duplicate reports whether the same observation is already held, counting it (Item.Repeats) so
// repeated events (a miner reconnecting every minute, a burst of identical failing opens) do not
// fill the budgets. Miner and Pool are judged per process line, so there it must be the same
// process; elsewhere any process of the context (in a boot catch-all, whose processes are
// unrelated, the same process too).
func (t *Tracker) duplicate(c *Context, ev *evidence.Event, e *evidence.Evidence) bool {
	perProcess := e.Group == evidence.Miner || e.Group == evidence.Pool || c.Boot
	for i := range c.Items {
		it := &c.Items[i]
		if evidence.SameIndicator(&it.Evidence, e) && it.LinkedFrom == "" &&
			(!perProcess || sameProc(it.PID, it.Start, ev.PID, ev.Start)) {
			it.Repeats++
			if ts := ev.Time.UnixNano(); ts > it.Seen {
				it.Seen = ts // still active: keep it from expiring
			}
			return true
		}
	}
	return false
}

// randomXPool turns the remembered connection of a RandomX process into weak Pool evidence.
func (t *Tracker) randomXPool(c *Context, p *Proc, ts int64) {
	if p.ConnUsed || p.Exited {
		return
	}
	p.ConnUsed = true
	ep := joinHostPort(p.ConnAddr, p.ConnPort)
	for i := range c.Items { // the classifier may have reported the same connection already
		if it := &c.Items[i]; it.Group == evidence.Pool && it.Endpoint == ep && sameProc(it.PID, it.Start, p.PID, p.Start) {
			return
		}
	}
	e := evidence.Evidence{
		Group: evidence.Pool, Strength: evidence.Weak, Kind: "randomx_connection",
		Indicator: ep, Endpoint: ep, Source: "behaviour: long-lived connection of a RandomX process",
		Action: "connect " + ep,
	}
	at, ok := t.place(c, &e)
	if !ok {
		t.drop(c, 1)
		return
	}
	t.store(c, at, Item{Evidence: e, Origin: &Origin{Time: p.ConnTime, Seen: ts, PID: p.PID, Start: p.Start, Exe: p.Exe}})
}

// observe feeds an event that produced no evidence. c may be nil (context without state); hash is
// HashKey of the context key. It returns true when c changed.
func (t *Tracker) observe(c *Context, hash uint64, ev *evidence.Event) bool {
	ts := ev.Time.UnixNano()
	if ts > t.maxTime {
		t.maxTime = ts
	}
	switch ev.Name {
	case contract.EventExec:
		if len(ev.Ancestors) == 0 && ev.PID != 0 && ev.PPID != 0 {
			t.procs.putParent(procKey{hash, ev.PID}, ev.PPID)
		}
	case contract.EventConnect:
		if ev.PID != 0 && ev.Transport != "udp" && ev.Port != 53 && ev.Address != "" && !ev.Failed {
			var p *Proc
			if c != nil {
				p = c.proc(ev.PID, ev.Start)
			}
			if p != nil && p.RandomX {
				if !p.ConnUsed {
					p.ConnAddr, p.ConnPort, p.ConnTime = clip(ev.Address), ev.Port, ts
					c.dirty = true
					// Records of different kinds travel different rings and may arrive out of order:
					// a connection made before the RandomX behaviour counts at once, as it would
					// have had it arrived first; one made after counts once it has lasted (observeTime).
					if p.RandomXAt != 0 && ts <= p.RandomXAt {
						t.randomXPool(c, p, max(ts, p.RandomXAt))
					}
				}
			} else { // remembered in case RandomX behaviour shows later
				t.procs.putConn(procKey{hash, ev.PID}, ev.Address, ev.Port, ts)
			}
		}
	}
	if c == nil {
		return false
	}
	changed := t.observeTime(c, ts)
	if ev.Name == contract.EventExit && ev.PID != 0 {
		if p := c.proc(ev.PID, ev.Start); p != nil && !p.Exited {
			p.Exited = true
			if ev.CPUSeconds > 0 {
				p.CPU, p.HasCPU = ev.CPUSeconds, true
			}
			c.dirty, changed = true, true
		}
	}
	return changed
}

// observeTime advances the context's clock; it returns true when a pending RandomX connection
// became long-lived evidence.
func (t *Tracker) observeTime(c *Context, ts int64) bool {
	if ts > t.maxTime {
		t.maxTime = ts
	}
	if ts <= c.MaxTime {
		return false
	}
	c.MaxTime = ts
	changed := false
	for i := range c.Procs {
		p := &c.Procs[i]
		if p.RandomX && !p.ConnUsed && p.ConnAddr != "" && !p.Exited && ts-p.ConnTime >= int64(t.cfg.LongLived) {
			t.randomXPool(c, p, ts)
			changed = true
		}
	}
	return changed
}

// linkRespawn gives context c the persistence evidence of other contexts whose written command ev
// runs (a cron or systemd re-spawn). It returns the number of items added.
func (t *Tracker) linkRespawn(c *Context, ev *evidence.Event) int {
	return t.links.apply(t, c, ev)
}

// linkable reports whether ev (a process.exec) runs a command some other context wrote into a
// persistence location; key is the acting context's key. It spares ordinary execs any state.
func (t *Tracker) linkable(key []byte, ev *evidence.Event) bool {
	return t.links.match(key, ev) != nil
}

// expire drops evidence of c older than the window unless its process is still running, and the
// processes left without evidence. It returns true when something was dropped.
func (t *Tracker) expire(c *Context) bool {
	return t.expireAt(c, c.MaxTime)
}

func (t *Tracker) expireAt(c *Context, now int64) bool {
	cutoff := now - int64(t.cfg.Window)
	n := 0
	for i := range c.Items {
		it := &c.Items[i]
		if it.Seen >= cutoff || c.alive(it.PID, it.Start) {
			c.Items[n] = *it
			n++
		}
	}
	if n == len(c.Items) {
		return false
	}
	clear(c.Items[n:])
	c.Items = c.Items[:n]
	m := 0
	for i := range c.Procs {
		p := &c.Procs[i]
		keep := false
		for j := range c.Items {
			if sameProc(c.Items[j].PID, c.Items[j].Start, p.PID, p.Start) {
				keep = true
				break
			}
		}
		if keep {
			c.Procs[m] = *p
			m++
		}
	}
	clear(c.Procs[m:])
	c.Procs = c.Procs[:m]
	c.idx = nil
	c.dirty = true
	return true
}

// Sweep expires evidence in every context against the newest record time seen anywhere, and drops
// contexts left empty; the changes are kept for TakeChanges. It returns the number of contexts dropped.
// Sizes are recomputed in full, tombstones of chains past the window are dropped, and the byte
// budget is enforced.
func (t *Tracker) Sweep() int {
	now := t.maxTime
	dropped := 0
	t.each(func(c *Context) {
		t.expireAt(c, max(now, c.MaxTime))
		if len(c.Items) == 0 {
			t.remove(c)
			dropped++
			return
		}
		t.account(c, true)
	})
	t.each(t.queue)
	t.sweepTombs(now)
	t.enforce(nil)
	return dropped
}

func newFindingID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func (t *Tracker) pushFront(c *Context) { t.lists[c.class].pushFront(c) }

func (t *Tracker) unlink(c *Context) { t.lists[c.class].unlink(c) }

func (t *Tracker) moveToFront(c *Context) {
	l := &t.lists[c.class]
	if l.head == c {
		return
	}
	l.unlink(c)
	l.pushFront(c)
}

const (
	maxInterned    = 4096
	maxInternedLen = 256 // longer strings are rarely shared; interning them would pin them
)

func (t *Tracker) intern(s string) string {
	if s == "" {
		return s
	}
	if v, ok := t.interned[s]; ok {
		return v
	}
	if len(t.interned) < maxInterned && len(s) <= maxInternedLen {
		t.interned[s] = s
		t.internBytes += mapEntryBytes + strBytes(s)
	}
	return s
}

// maxContextDepth bounds how far up the context tree evidence is inherited and escalations travel.
const maxContextDepth = 3

// lineageIDs returns the hashes of host.id with the context's id and with its parent's id, whether
// the context is a boot catch-all and whether its parent id names one.
func lineageIDs(res pcommon.Resource) (self, parent uint64, boot, parentBoot bool) {
	attrs := res.Attributes()
	host := ""
	if v, ok := attrs.Get(contract.ResourceHostID); ok {
		host = v.AsString()
	}
	str := func(k string) string {
		v, ok := attrs.Get(k)
		if !ok || v.Type() != pcommon.ValueTypeStr {
			return ""
		}
		return v.Str()
	}
	id := func(s string) uint64 {
		if s == "" {
			return 0
		}
		return HashKey([]byte(host + "\x00" + s))
	}
	selfID, parentID := str(contract.ResourceContextID), str(contract.ResourceContextParentID)
	boot = str(contract.ResourceContextKind) == bootKind || strings.HasPrefix(selfID, bootPrefix)
	return id(selfID), id(parentID), boot, strings.HasPrefix(parentID, bootPrefix)
}

// bootKind and bootPrefix recognise the per-cgroup catch-all context of processes with unknown
// ancestry (docs/events.md): not an entry point, never a source of inherited evidence.
const (
	bootKind   = "boot"
	bootPrefix = "boot:"
)

// descendants returns the contexts opened from c (up to maxContextDepth levels) that already report
// a chain: new Persistence or Optimization evidence in c may escalate them.
func (t *Tracker) descendants(c *Context) []*Context {
	if c.SelfID == 0 || c.Boot || len(t.children) == 0 {
		return nil
	}
	var out []*Context
	level := []uint64{c.SelfID}
	for d := 0; d < maxContextDepth && len(level) > 0; d++ {
		var next []uint64
		for _, id := range level {
			for _, k := range t.children[id] {
				if k == c {
					continue
				}
				if max(k.Level, k.Sent) >= Medium {
					out = append(out, k)
				}
				if k.SelfID != 0 {
					next = append(next, k.SelfID)
				}
			}
		}
		level = next
	}
	return out
}

// inherited returns copies of the Persistence, Optimization and concealment evidence of the
// contexts c was opened from, marked with the context they were observed in, when the ancestor's own
// processes produced it: never evidence of a daemon acting for others (Evidence.Delegated: a
// container runtime unpacking an image, a package manager). The walk stops at a boot catch-all
// context (its evidence belongs to unrelated processes), and an ancestor's item counts only while
// it would still count in c: seen within the window of c's own clock, or its process still alive
// (an ancestor that has been quiet is not expired against the child's newer records).
func (t *Tracker) inherited(c *Context) []Item {
	if c.ParentBoot {
		return nil
	}
	var out []Item
	cutoff := c.MaxTime - int64(t.cfg.Window)
	id := c.ParentID
	for d := 0; d < maxContextDepth && id != 0; d++ {
		a := t.byID[id]
		if a == nil || a == c || a.Boot {
			break
		}
		for i := range a.Items {
			it := a.Items[i]
			if it.Group != evidence.Persistence && it.Group != evidence.Optimization && it.Group != evidence.Concealment {
				continue
			}
			if it.Delegated {
				continue // a container runtime or package manager acted for others: not this chain's actor
			}
			if it.Seen < cutoff && !a.alive(it.PID, it.Start) {
				continue
			}
			o := *it.Origin
			if o.LinkedFrom == "" {
				o.LinkedFrom = DisplayID(a)
			}
			it.Origin = &o
			out = append(out, it)
		}
		if a.ParentBoot {
			break
		}
		id = a.ParentID
	}
	return out
}
