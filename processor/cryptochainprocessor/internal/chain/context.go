package chain

import (
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
	RandomX   bool // showed RandomX floating-point behaviour (process.fpu_rounding)
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

// proc returns the process with the given identity, or nil.
func (c *Context) proc(pid int64, start string) *Proc {
	for i := len(c.Procs) - 1; i >= 0; i-- {
		if sameProc(c.Procs[i].PID, c.Procs[i].Start, pid, start) {
			return &c.Procs[i]
		}
	}
	return nil
}

// procByPID returns the newest process with that pid, or nil.
func (c *Context) procByPID(pid int64) *Proc {
	for i := len(c.Procs) - 1; i >= 0; i-- {
		if c.Procs[i].PID == pid {
			return &c.Procs[i]
		}
	}
	return nil
}

// touchProc returns the process of ev, creating it from ev's facts when new.
func (c *Context) touchProc(ev *evidence.Event) *Proc {
	if p := c.proc(ev.PID, ev.Start); p != nil {
		if p.Start == "" && ev.Start != "" {
			p.Start = clip(ev.Start)
		}
		if len(ev.Ancestors) > 0 {
			p.Ancestors = append(p.Ancestors[:0], clipAncestors(ev.Ancestors)...)
		}
		if p.PPID == 0 {
			p.PPID = ev.PPID
		}
		if p.Exe == "" && ev.Exe != "" {
			p.Exe = clip(ev.Exe)
		}
		if ev.ExeHash != "" {
			p.ExeHash = ev.ExeHash
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
	return &c.Procs[len(c.Procs)-1]
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
