package readback

import (
	"strings"
	"sync/atomic"
	"time"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/event"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/process"
)

// Delay is how long after a write a persistence file is read back: long enough for the writer to
// have finished, short enough for the record to stay timely.
const Delay = 300 * time.Millisecond

// Write is a persistence write held until its content is read back.
type Write struct {
	Event event.Event // a copy: the source reuses its events
	Actor process.Actor
	Read  time.Time // when the event was read
}

// Persistence holds writes to persistence locations whose content the kernel did not copy, and has
// the worker read that content back once the writer is done, through the writer's root held since
// the event. Safe for concurrent use.
type Persistence struct {
	procfsRoot string
	hostRoot   string
	maxBytes   int // 0 = no read-back
	w          *Worker
	emit       func(w *Write, res Result)
	dropped    atomic.Uint64
}

// NewPersistence reads back at most maxBytes of each file (0 = off) on w, through the writer's root
// under procfsRoot (else, for a writer on the host that is already gone, under hostRoot), and
// hands each write with its content to emit, from a worker goroutine.
func NewPersistence(procfsRoot, hostRoot string, maxBytes int, w *Worker, emit func(w *Write, res Result)) *Persistence {
	return &Persistence{procfsRoot: procfsRoot, hostRoot: hostRoot, maxBytes: maxBytes, w: w, emit: emit}
}

// Hold takes a successful write to a persistence location for a later read-back and says so.
// When it is not held the event is to be mapped now, with status as its read status ("" when it
// is not such a write or read-back is off; StatusDropped when the queue had no room).
func (p *Persistence) Hold(ev *event.Event, actor *process.Actor, read time.Time) (held bool, status string) {
	f := ev.File
	if f == nil || p.maxBytes <= 0 || len(f.Content) != 0 || !isPersistenceWrite(f) {
		return false, ""
	}
	cp := *ev
	fc := *f
	cp.File = &fc
	cp.Proc.Comm = strings.Clone(ev.Proc.Comm)
	w := &Write{Event: cp, Actor: *actor, Read: read}
	uid, owner := writer(ev, actor)
	root := HoldRoot(p.procfsRoot, p.hostRoot, ev.Proc.PID, actor.Cgroup.ContainerID == "")
	ok := p.w.q.offer(&job{uid: uid, due: read.Add(Delay), release: root.Close, run: func(time.Time) {
		p.emit(w, p.w.rd.read(root, w.Event.File.Path, p.maxBytes, owner))
	}})
	if !ok {
		p.dropped.Add(1)
		return false, StatusDropped
	}
	return true, ""
}

// Dropped is the number of writes whose read-back found the queue full, so far.
func (p *Persistence) Dropped() uint64 { return p.dropped.Load() }

// writer is the acting user of a write (0 when unknown) and the owner its file must have to be read:
// any for root, the writer itself for anyone else, so an unprivileged writer cannot make the
// receiver read a file it could not read itself (a directory swapped for a link to /etc/shadow).
func writer(ev *event.Event, actor *process.Actor) (uid uint32, owner int64) {
	switch {
	case !ev.Proc.Lean:
		uid = ev.Proc.EUID
	case actor.Proc != nil:
		uid = actor.Proc.EUID
	default:
		return 0, AnyOwner
	}
	if uid == 0 {
		return 0, AnyOwner
	}
	return uid, int64(uid)
}

// isPersistenceWrite says whether a file event is a successful write-like operation on a
// persistence location: its content is worth reading back.
func isPersistenceWrite(f *event.File) bool {
	if f.Errno != 0 || f.Op == event.FileUnlink || f.Op == event.FileChmod || (f.Op == event.FileOpen && !f.WriteIntent) {
		return false
	}
	return isPersistenceLocation(f.Path)
}

// isPersistenceLocation says whether a path is in the persistence-location table of
// internal/contract: the places a program is made to start again from.
func isPersistenceLocation(path string) bool {
	_, ok := contract.PersistenceLocationOf(path)
	return ok
}
