package chain

import (
	"slices"
	"strings"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/evidence"
)

// maxField bounds every string kept in state: a 1 MiB command line must not be retained.
const maxField = 4096

// Item is one piece of evidence kept for a context, with the facts of the record it came from.
type Item struct {
	evidence.Evidence
	*Origin // shared by the items of one record; never nil
	// Repeats counts later records that gave the same observation (evidence.SameIndicator; from the
	// same process for Miner and Pool, from any process of the context otherwise): counted, not
	// stored again, so repetition cannot fill the context's budgets.
	Repeats int64 `json:",omitempty"`
}

// Origin holds the facts of the record an item came from. Items of one record share it, which
// keeps a context with a typical miner exec (five items) small.
type Origin struct {
	Time int64 // record timestamp, Unix ns
	// Seen is the newest time the record's evidence was seen again (duplicates refresh it; for linked
	// items, the re-spawn): what expiry looks at.
	Seen    int64
	PID     int64  // acting process, 0 when unknown
	Start   string // process.creation.time of the acting process
	Exe     string
	CmdLine string
	// LinkedFrom names the context that wrote this persistence evidence when it was carried over
	// by a cron/systemd re-spawn; empty for evidence observed in this context. The origin is then
	// the re-spawned process (which keeps the evidence alive while it runs), Time the write.
	LinkedFrom string `json:",omitempty"`
}

// Proc is what a context remembers about a process that contributed evidence.
type Proc struct {
	PID       int64
	Start     string
	PPID      int64
	Ancestors []int64 // nearest first, from cryptochain.process.ancestors
	Exe       string
	ExeHash   string // SHA-256 of the executable, from its exec record
	Exited    bool
	CPU       float64 // seconds of CPU reported by process.exit
	HasCPU    bool
	RandomX   bool  // showed RandomX floating-point behaviour (process.fpu_rounding)
	RandomXAt int64 `json:",omitempty"` // record time of that behaviour (Unix ns)
	// A TCP connection seen from this process, kept so that RandomX behaviour can turn it into
	// Pool evidence (a miner's long-lived pool connection needs no name).
	ConnAddr string
	ConnPort int64
	ConnTime int64
	ConnUsed bool
}

// Context is the correlation state of one execution context.
type Context struct {
	Key  string // canonical key built from the context_keys values
	Hash uint64 // HashKey(Key)
	// Resource is the context's resource as OTLP protobuf (a ResourceLogs holding only it): compact,
	// and decoded only to render a finding.
	Resource []byte
	ID       string // display id (see DisplayID), set on first use
	Procs    []Proc
	Items    []Item
	MaxTime  int64 // newest record time seen (Unix ns): the context's "now"
	// SelfID and ParentID hash host.id with cryptochain.context.id / cryptochain.context.parent_id
	// (0 when absent): the context this one was opened from contributes its Persistence and
	// Optimization evidence (a login session that wrote the crontab and started the miner with nohup).
	SelfID, ParentID uint64
	// Boot marks a boot catch-all context (cryptochain.context.kind boot, or a `boot:` id): it
	// gathers everything whose ancestry the receiver did not see, so it is nobody's real parent and
	// contributes no evidence to the contexts opened from it. ParentBoot: the parent id is `boot:`.
	// (Declared after FindingID so that the small fields below pack into one word.)
	FindingID        string // set at the first emission
	Boot, ParentBoot bool
	// Level is the highest severity reported: emitted and accepted by the next consumer (Accepted).
	Level Level
	// Sent is the highest severity emitted and not yet accepted or refused; evaluation does not emit
	// it again meanwhile.
	Sent Level
	// Concealed is the number of concealment items the last emitted finding showed: a new one is
	// reported again at the same level.
	Concealed int32
	// Dropped counts the evidence items this context could not keep (its budgets were full and the
	// item was not more informative than the least informative one held, or it was displaced).
	Dropped int64
	// Facts are the sorted hashes of the response facts (facts.go) the last emitted finding showed: a
	// fact beyond them is reported again at the same level (an update). The prev* values are those
	// before that finding, put back when the next consumer refuses it, so it is offered again.
	Facts          []uint64 `json:",omitempty"`
	prevFacts      []uint64
	prevConcealed  int32
	reportedAt     int64 // newest record time (anywhere) when the last finding was emitted
	prevReportedAt int64
	// held marks new facts waiting for the update interval (Tracker.held); coalesced counts the
	// evaluations folded into that update meanwhile; flush lets the next evaluation send it.
	held, flush bool
	coalesced   int64
	// idx maps a pid to the index in Procs of its newest process; nil until needed (only for contexts
	// holding more than smallProcs processes; rebuilt after Procs is compacted or restored).
	idx map[int64]int32
	// dirty is set whenever the state changes; TakeChanges clears it.
	dirty bool
	// queued marks a context already among the changes to take, at index qidx.
	queued bool
	// saved marks a context (or tombstone) of which the store holds a copy: dropping it must delete it.
	saved bool
	class evClass // eviction class: which LRU list the context is on
	qidx  int32
	shape shape // what size and class were computed from
	size  int64 // estimated bytes held (budget.go), as of the last account

	prev, next *Context // LRU list of its class (a tombstone: the tombstone list), most recent at the head
}

// Bytes returns the estimated memory the context holds, as of the last time the tracker accounted it.
func (c *Context) Bytes() int64 { return c.size }

func sameProc(pid1 int64, s1 string, pid2 int64, s2 string) bool {
	return pid1 == pid2 && (s1 == "" || s2 == "" || s1 == s2)
}

// proc returns the process with the given identity, or nil. Cost O(1): through the pid index,
// scanning only when the pid was reused within the context.
func (c *Context) proc(pid int64, start string) *Proc {
	if i := c.procAt(pid, start); i >= 0 {
		return &c.Procs[i]
	}
	return nil
}

// procAt returns the index in Procs of the process with the given identity, or -1.
func (c *Context) procAt(pid int64, start string) int {
	i := len(c.Procs) - 1
	if len(c.Procs) > smallProcs {
		j, ok := c.index()[pid]
		if !ok {
			return -1
		}
		i = int(j)
	}
	for j := i; j >= 0; j-- {
		if sameProc(c.Procs[j].PID, c.Procs[j].Start, pid, start) {
			return j
		}
	}
	return -1
}

// procByPID returns the newest process with that pid, or nil.
func (c *Context) procByPID(pid int64) *Proc {
	if len(c.Procs) > smallProcs {
		if i, ok := c.index()[pid]; ok {
			return &c.Procs[i]
		}
		return nil
	}
	for i := len(c.Procs) - 1; i >= 0; i-- {
		if c.Procs[i].PID == pid {
			return &c.Procs[i]
		}
	}
	return nil
}

// smallProcs is the process count up to which a scan is cheaper than the index (and most contexts
// never hold more: the index costs memory only where a context holds many).
const smallProcs = 8

// index returns the pid index, building it when Procs changed behind its back.
func (c *Context) index() map[int64]int32 {
	if c.idx == nil || len(c.idx) > len(c.Procs) {
		c.idx = make(map[int64]int32, len(c.Procs))
		for i := range c.Procs {
			c.idx[c.Procs[i].PID] = int32(i)
		}
	}
	return c.idx
}

// touchProc returns the process of ev, creating it from ev's facts when new.
func (c *Context) touchProc(ev *evidence.Event) *Proc {
	if p := c.proc(ev.PID, ev.Start); p != nil {
		if p.Start == "" && ev.Start != "" {
			p.Start = clip(ev.Start)
		}
		if len(ev.Ancestors) > 0 && !slices.Equal(p.Ancestors, clipAncestors(ev.Ancestors)) {
			p.Ancestors = append(p.Ancestors[:0], clipAncestors(ev.Ancestors)...)
		}
		if p.PPID == 0 {
			p.PPID = ev.PPID
		}
		if ev.Name == contract.EventExec && ev.Exe != "" {
			// exec in place (a shell's `exec ./miner`): the process now runs the new image, whose
			// hash (or its absence) replaces the old one.
			p.Exe, p.ExeHash = clip(ev.Exe), ev.ExeHash
		} else {
			if p.Exe == "" && ev.Exe != "" {
				p.Exe = clip(ev.Exe)
			}
			if ev.ExeHash != "" {
				p.ExeHash = ev.ExeHash
			}
		}
		return p
	}
	c.Procs = append(c.Procs, Proc{
		PID:       ev.PID,
		Start:     clip(ev.Start),
		PPID:      ev.PPID,
		Ancestors: append([]int64(nil), clipAncestors(ev.Ancestors)...),
		Exe:       clip(ev.Exe),
		ExeHash:   ev.ExeHash,
	})
	if c.idx != nil {
		c.idx[ev.PID] = int32(len(c.Procs) - 1)
	}
	return &c.Procs[len(c.Procs)-1]
}

// pruneProcs forgets the processes no item refers to any more (their items were displaced). A
// process holding evidence is pinned. O(processes + items).
func (c *Context) pruneProcs() {
	keep := make([]bool, len(c.Procs))
	for i := range c.Items {
		it := &c.Items[i]
		if it.PID == 0 {
			continue
		}
		if j := c.procAt(it.PID, it.Start); j >= 0 {
			keep[j] = true
		}
	}
	m := 0
	for i := range c.Procs {
		if keep[i] {
			c.Procs[m] = c.Procs[i]
			m++
		}
	}
	clear(c.Procs[m:])
	c.Procs = c.Procs[:m]
	c.idx = nil
	c.dirty = true
}

func (c *Context) alive(pid int64, start string) bool {
	if pid == 0 {
		return false
	}
	p := c.proc(pid, start)
	return p != nil && !p.Exited
}

// hasMiner reports whether the process has Miner evidence in this context.
func (c *Context) hasMiner(pid int64, start string) bool {
	for i := range c.Items {
		it := &c.Items[i]
		if it.Group == evidence.Miner && !it.Failed && sameProc(it.PID, it.Start, pid, start) {
			return true
		}
	}
	return false
}

func clipAncestors(a []int64) []int64 {
	if len(a) > 16 {
		return a[:16]
	}
	return a
}

// clip copies s (so no decoder or pdata memory is retained), bounds it and makes it valid UTF-8.
func clip(s string) string {
	if s == "" {
		return ""
	}
	if len(s) > maxField {
		s = s[:maxField] // a rune cut in half becomes U+FFFD below
	}
	if !utf8.ValidString(s) {
		return strings.ToValidUTF8(s, "\uFFFD")
	}
	return strings.Clone(s)
}

// bound is clip for strings that are already private copies (the classifier clones evidence
// strings, and Kind/Source are constants): it copies only when it must cut or repair.
func bound(s string) string {
	if len(s) <= maxField && utf8.ValidString(s) {
		return s
	}
	return clip(s)
}

func (t *Tracker) boundEvidence(e evidence.Evidence) evidence.Evidence {
	// Kinds and sources are few; pool endpoints, wallets, URLs and persistence paths repeat across
	// the contexts of one campaign: one copy each.
	e.Kind = t.intern(bound(e.Kind))
	e.Indicator = t.intern(bound(e.Indicator))
	e.Source = t.intern(bound(e.Source))
	e.Endpoint = t.intern(bound(e.Endpoint))
	e.Wallet = t.intern(bound(e.Wallet))
	e.Path = t.intern(bound(e.Path))
	e.Action = t.intern(bound(e.Action))
	e.Command = bound(e.Command)
	return e
}

// EncodeResource returns the OTLP protobuf form of res kept in Context.Resource.
func EncodeResource(res pcommon.Resource) []byte {
	ld := plog.NewLogs()
	res.CopyTo(ld.ResourceLogs().AppendEmpty().Resource())
	b, err := (&plog.ProtoMarshaler{}).MarshalLogs(ld)
	if err != nil {
		return nil
	}
	return b
}

// DecodeResource copies the resource kept by EncodeResource into dst.
func DecodeResource(b []byte, dst pcommon.Resource) error {
	ld, err := (&plog.ProtoUnmarshaler{}).UnmarshalLogs(b)
	if err != nil {
		return err
	}
	if ld.ResourceLogs().Len() > 0 {
		ld.ResourceLogs().At(0).Resource().CopyTo(dst)
	}
	return nil
}

// displayID names a context for humans: its cryptochain.context.id when present, else its key
// values joined with '|'.
func displayID(key string, res pcommon.Resource) string {
	if v, ok := res.Attributes().Get(contract.ResourceContextID); ok && v.Type() == pcommon.ValueTypeStr && v.Str() != "" {
		return clip(v.Str())
	}
	return clip(strings.Trim(strings.ReplaceAll(key, "\x00", "|"), "|"))
}

// Budgets of one context, derived from max_evidence_per_context (total): no group may hold more
// than a quarter of it and no kind more than an eighth, so a flood of one kind (hundreds of failing
// MSR opens, writes into a missing cron directory) or of one group leaves room for the rest of the
// chain; identical observations are counted (Item.Repeats), not stored.
func budgetsOf(total int) (group, kind int) {
	return max(total/4, 2), max(total/8, 1)
}

// place decides where evidence e of a record goes in c: the index of the item it replaces, or
// len(c.Items) to append; ok is false when it is dropped. When a budget (kind, then group, then
// total) is full, the least informative item within it goes if e is more informative: a higher
// evidence.Rank, or the same rank while the held item's process has exited (a burst of short-lived
// processes cannot hold slots against a running one). Strong evidence is therefore never displaced
// by weak or failed-attempt evidence. Cost O(items), paid only by records that produce evidence.
func (t *Tracker) place(c *Context, e *evidence.Evidence) (int, bool) {
	group, kind := budgetsOf(t.cfg.MaxEvidence)
	if len(c.Items) < t.cfg.MaxEvidence && len(c.Items) < kind {
		return len(c.Items), true // no budget can be full yet
	}
	nKind, nGroup := 0, 0
	vKind, vGroup, vAny := -1, -1, -1
	var kKind, kGroup, kAny worth
	for i := range c.Items {
		it := &c.Items[i]
		w := worth{rank: evidence.Rank(&it.Evidence), seen: it.Seen}
		w.alive = c.alive(it.PID, it.Start)
		if it.Group == e.Group {
			nGroup++
			if vGroup < 0 || w.less(kGroup) {
				vGroup, kGroup = i, w
			}
			if it.Kind == e.Kind {
				nKind++
				if vKind < 0 || w.less(kKind) {
					vKind, kKind = i, w
				}
			}
		}
		if vAny < 0 || w.less(kAny) {
			vAny, kAny = i, w
		}
	}
	v, held := -1, worth{}
	switch {
	case nKind >= kind:
		v, held = vKind, kKind
	case nGroup >= group:
		v, held = vGroup, kGroup
	case len(c.Items) >= t.cfg.MaxEvidence:
		v, held = vAny, kAny
	default:
		return len(c.Items), true
	}
	if r := evidence.Rank(e); r > held.rank || (r == held.rank && !held.alive) {
		return v, true
	}
	return -1, false
}

// worth is how informative a held item is: its rank; at equal rank a running process's item before
// an exited one's, then the newer.
type worth struct {
	rank  int
	alive bool
	seen  int64
}

func (a worth) less(b worth) bool {
	if a.rank != b.rank {
		return a.rank < b.rank
	}
	if a.alive != b.alive {
		return b.alive
	}
	return a.seen < b.seen
}

// store puts it into c at index i from place (replacing the item there, counted as dropped).
func (t *Tracker) store(c *Context, i int, it Item) *Item {
	if i < len(c.Items) {
		c.Dropped++
		t.dropped++
		c.Items[i] = it
	} else {
		c.Items = append(c.Items, it)
	}
	c.dirty = true
	return &c.Items[i]
}

// drop counts evidence c could not keep.
func (t *Tracker) drop(c *Context, n int) {
	c.Dropped += int64(n)
	t.dropped += int64(n)
}
