package readback

import (
	"path/filepath"
	"strings"
	"time"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/event"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/process"
)

const (
	// Delay is how long after a write a persistence file is read back: long enough for the writer
	// to have finished, short enough for the record to stay timely.
	Delay      = 300 * time.Millisecond
	maxPending = 256
)

// Write is a persistence write held until its content is read back.
type Write struct {
	Event event.Event // a copy: the source reuses its events
	Actor process.Actor
	Read  time.Time // when the event was read
	due   time.Time
}

// Persistence holds writes to persistence locations whose content the kernel did not copy, and
// reads that content back once the writer is done. Not safe for concurrent use.
type Persistence struct {
	procfsRoot string
	hostRoot   string
	maxBytes   int // 0 = no read-back
	pending    []Write
}

// NewPersistence reads back at most maxBytes of each file (0 = off), through the writer's root
// under procfsRoot while it lives, else under hostRoot.
func NewPersistence(procfsRoot, hostRoot string, maxBytes int) *Persistence {
	return &Persistence{procfsRoot: procfsRoot, hostRoot: hostRoot, maxBytes: maxBytes}
}

// Hold keeps a successful write to a persistence location for a later read-back and says so;
// false means the event is to be mapped now (not such a write, content already there, read-back
// off, or too many writes pending).
func (p *Persistence) Hold(ev *event.Event, actor *process.Actor, read time.Time) bool {
	f := ev.File
	if f == nil || p.maxBytes <= 0 || len(f.Content) != 0 || !isPersistenceWrite(f) || len(p.pending) >= maxPending {
		return false
	}
	cp := *ev
	fc := *f
	cp.File = &fc
	cp.Proc.Comm = strings.Clone(ev.Proc.Comm)
	p.pending = append(p.pending, Write{Event: cp, Actor: *actor, Read: read, due: read.Add(Delay)})
	return true
}

// Due hands each held write whose read-back time has come (all of them when force) to emit,
// with the file's first bytes (nil when it could not be read).
func (p *Persistence) Due(now time.Time, force bool, emit func(w *Write, content []byte)) {
	keep := p.pending[:0]
	for i := range p.pending {
		w := p.pending[i]
		if !force && now.Before(w.due) {
			keep = append(keep, w)
			continue
		}
		content := readHead(filepath.Join(rootOf(p.procfsRoot, w.Event.Proc.PID), w.Event.File.Path), p.maxBytes)
		if content == nil {
			content = readHead(filepath.Join(p.hostRoot, w.Event.File.Path), p.maxBytes)
		}
		emit(&w, content)
	}
	for i := len(keep); i < len(p.pending); i++ {
		p.pending[i] = Write{}
	}
	p.pending = keep
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
