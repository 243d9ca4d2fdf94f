package chain

import (
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/evidence"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/shellcmd"
)

// links remembers persistence evidence that names a command (a cron line, an ExecStart), keyed by
// the command and by its executable, so that the context in which cron or systemd later runs that
// command receives the evidence: the re-spawned chain carries the persistence of its writer.
type links struct {
	m     map[linkKey]*link
	ring  []linkKey
	next  int
	dirty bool  // changed since the persistence layer last saved it
	bytes int64 // estimated bytes held (budget.go)
	// fresh holds the links remembered during the current Ingest, to be matched against the
	// pending execs (records may arrive out of order).
	fresh []*link
}

// linkKey is a command (cmd) or an executable path (exe); a struct key looks up without allocating.
type linkKey struct {
	exe bool
	s   string
}

type link struct {
	item    Item   // the persistence evidence as observed by the writer
	fromKey string // writer context key
	from    string // writer context display id
	size    int64  // estimated bytes, counted once per key naming it
}

func newLinks(n int) *links {
	return &links{m: make(map[linkKey]*link), ring: make([]linkKey, 0, n)}
}

func (l *links) put(k linkKey, v *link) {
	if old, ok := l.m[k]; ok {
		l.bytes -= old.size
	} else {
		if len(l.ring) < cap(l.ring) {
			l.ring = append(l.ring, k)
		} else {
			if old := l.m[l.ring[l.next]]; old != nil {
				l.bytes -= old.size
			}
			delete(l.m, l.ring[l.next])
			l.ring[l.next] = k
			l.next = (l.next + 1) % len(l.ring)
		}
	}
	l.m[k] = v
	l.bytes += v.size
}

func (l *links) remember(c *Context, it *Item) {
	l.add(&link{item: *it, fromKey: c.Key, from: DisplayID(c)})
}

func (l *links) add(v *link) {
	o := *v.item.Origin
	v.item.Origin = &o
	v.size = mapEntryBytes + 2*mapEntryBytes + itemBytes + evidenceBytes(&v.item.Evidence) + originSize(&o) +
		strBytes(v.fromKey) + strBytes(v.from)
	l.dirty = true
	l.fresh = append(l.fresh, v)
	cmd := strings.TrimSpace(v.item.Command)
	l.put(linkKey{s: cmd}, v)
	if exe := shellcmd.Executable(cmd); strings.HasPrefix(exe, "/") {
		l.put(linkKey{exe: true, s: exe}, v)
	}
}

// match returns the link an exec runs, if any, written by a context other than key.
func (l *links) match(key []byte, ev *evidence.Event) *link {
	if len(l.m) == 0 || ev.Name != contract.EventExec {
		return nil
	}
	if v := l.get(key, true, ev.Exe); v != nil {
		return v
	}
	if ev.Filename != ev.Exe {
		if v := l.get(key, true, ev.Filename); v != nil {
			return v
		}
	}
	if a0 := first(ev.Args); a0 != ev.Exe {
		if v := l.get(key, true, a0); v != nil {
			return v
		}
	}
	if len(ev.Args) == 0 { // a record without argv: the command line is all there is
		if v := l.get(key, false, strings.TrimSpace(ev.CmdLine)); v != nil {
			return v
		}
	}
	// cron runs `/bin/sh -c <command>`: the argument after -c is the written command.
	for i := 0; i+1 < len(ev.Args); i++ {
		if ev.Args[i] == "-c" {
			if v := l.get(key, false, strings.TrimSpace(ev.Args[i+1])); v != nil {
				return v
			}
			return l.get(key, true, shellcmd.Executable(ev.Args[i+1]))
		}
	}
	return nil
}

func (l *links) get(key []byte, exe bool, s string) *link {
	if s == "" {
		return nil
	}
	if v := l.m[linkKey{exe: exe, s: s}]; v != nil && v.fromKey != string(key) {
		return v
	}
	return nil
}

func (l *links) apply(t *Tracker, c *Context, ev *evidence.Event) int {
	v := l.match([]byte(c.Key), ev)
	if v == nil {
		return 0
	}
	return t.applyLink(c, v, ev)
}

// applyLink gives c the persistence evidence of link v, carried by the re-spawned exec ev.
func (t *Tracker) applyLink(c *Context, v *link, ev *evidence.Event) int {
	for i := range c.Items {
		it := &c.Items[i]
		if it.LinkedFrom == v.from && it.Path == v.item.Path && it.Command == v.item.Command {
			return 0
		}
	}
	at, ok := t.place(c, &v.item.Evidence)
	if !ok {
		t.drop(c, 1)
		return 0
	}
	it := v.item
	// The re-spawned process carries the linked evidence and keeps it alive while it runs.
	o := &Origin{Time: v.item.Time, Seen: ev.Time.UnixNano(), PID: ev.PID, Exe: clip(ev.Exe), CmdLine: clip(ev.CmdLine), LinkedFrom: v.from}
	if ev.PID != 0 {
		o.Start = c.touchProc(ev).Start
	}
	it.Origin = o
	it.Repeats = 0
	t.store(c, at, it)
	return 1
}

func first(a []string) string {
	if len(a) == 0 {
		return ""
	}
	return a[0]
}

// DisplayID names a context for humans: its cryptochain.context.id when present, else its key
// values joined with '|'.
// It is computed on first use (a finding, a re-spawn link) so contexts that never report pay nothing.
func DisplayID(c *Context) string {
	if c.ID == "" {
		res := pcommon.NewResource()
		_ = DecodeResource(c.Resource, res)
		c.ID = displayID(c.Key, res)
	}
	return c.ID
}

// Link is the stored form of a remembered persistence command.
type Link struct {
	Item    Item   `json:"item"`
	FromKey string `json:"from_key"`
	From    string `json:"from"`
}

// snapshot returns the remembered persistence commands, oldest first.
func (l *links) snapshot() []Link {
	seen := make(map[*link]bool, len(l.ring))
	out := make([]Link, 0, len(l.ring))
	for i := range l.ring {
		k := l.ring[(l.next+i)%len(l.ring)]
		if v := l.m[k]; v != nil && !seen[v] {
			seen[v] = true
			out = append(out, Link{Item: v.item, FromKey: v.fromKey, From: v.from})
		}
	}
	return out
}

// RestoreLinks remembers links loaded from storage.
func (t *Tracker) RestoreLinks(ls []Link) {
	for i := range ls {
		if ls[i].Item.Origin == nil {
			ls[i].Item.Origin = &Origin{}
		}
		t.links.add(&link{item: ls[i].Item, fromKey: ls[i].FromKey, from: ls[i].From})
	}
	t.links.dirty = false
	t.links.fresh = t.links.fresh[:0]
}
