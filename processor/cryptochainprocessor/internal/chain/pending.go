package chain

import (
	"strings"
	"time"
	"unsafe"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/evidence"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/shellcmd"
)

// OrderWindow is how far apart in record time an exec and the persistence write whose command it
// runs are still linked when they arrive in the wrong order: the content of a written cron table
// arrives with its read-back, about 300 ms after the write, and cron may run the new entry before
// that; records are also reordered by batching. Findings must not depend on order within it.
const OrderWindow = 10 * time.Second

// maxPending bounds the execs remembered for late links, maxPendingField each string kept of one
// (a persisted command is at most 1 KiB: the classifier cuts it there).
const (
	maxPending      = 1024
	maxPendingField = 1024
)

// pendingExec is an exec that could be a re-spawn (it ran a "sh -c" command, was started by pid 1,
// or gave evidence itself) but matched no remembered persistence command when it arrived.
type pendingExec struct {
	key  string         // its context
	ev   evidence.Event // the facts links.match and applyLink read, copied and bounded
	size int64          // estimated bytes held (budget.go)
}

var pendingBytes = int64(unsafe.Sizeof(pendingExec{})) + mapEntryBytes

// clipPending copies s bounded to maxPendingField.
func clipPending(s string) string {
	if len(s) > maxPendingField {
		s = s[:maxPendingField]
	}
	return clip(s)
}

// pendingExecs is a ring of recent re-spawn candidates, with a count per context so that creating
// a context costs one map lookup when none of its execs is pending.
type pendingExecs struct {
	ring  []pendingExec
	next  int
	byKey map[string]int32
	bytes int64 // estimated bytes held, counted in Tracker.Bytes
}

func newPendingExecs() *pendingExecs {
	return &pendingExecs{ring: make([]pendingExec, 0, maxPending), byKey: make(map[string]int32)}
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

// remember keeps ev (an exec of the context key) for links that arrive after it.
func (pe *pendingExecs) remember(key []byte, ev *evidence.Event) {
	e := pendingExec{ev: evidence.Event{
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
	pe.bytes += e.size
	if len(pe.ring) < cap(pe.ring) {
		e.key = string(key)
		pe.ring = append(pe.ring, e)
	} else {
		old := &pe.ring[pe.next]
		pe.bytes -= old.size
		if pe.byKey[old.key]--; pe.byKey[old.key] <= 0 {
			delete(pe.byKey, old.key)
		}
		if old.key == string(key) {
			e.key = old.key
		} else {
			e.key = string(key)
		}
		*old = e
		pe.next = (pe.next + 1) % len(pe.ring)
	}
	pe.byKey[e.key]++
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
	if t.pending.byKey[c.Key] == 0 {
		return 0
	}
	n := 0
	for i := range t.pending.ring {
		p := &t.pending.ring[i]
		if p.key != c.Key || t.maxTime-p.ev.Time.UnixNano() > int64(OrderWindow) {
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
