package process

import (
	"time"

	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/event"
)

// learn finds the process a non-exec event is about: in the store, as a fork of a known parent,
// or in procfs.
func (t *Table) learn(ev *event.Event) (*Proc, bool) {
	proc, ok := t.procs.get(Key{PID: ev.Proc.PID, Start: ev.Proc.StartBootNS})
	if !ok {
		proc, ok = t.forked(ev)
	}
	if !ok {
		proc, ok = t.fromProcfs(ev.Proc.PID)
	}
	return proc, ok
}

// forked learns a process the table never saw exec whose parent it knows (from the event header's
// parent pid and start time): a fork that did not exec (yet) runs its parent's image, so it takes
// the parent's image and context. Learning it makes its later events cheap, and its own exec is
// then compared with that image like any re-exec.
func (t *Table) forked(ev *event.Event) (*Proc, bool) {
	if ev.Proc.PPID == 0 || ev.Proc.StartBootNS == 0 {
		return nil, false
	}
	parent, ok := t.procs.get(Key{PID: ev.Proc.PPID, Start: ev.Proc.ParentStartNS})
	if !ok {
		return nil, false
	}
	child := *parent
	child.Key = Key{PID: ev.Proc.PID, Start: ev.Proc.StartBootNS}
	child.Parent = parent.Key
	child.Comm = ev.Proc.Comm
	child.VPID = ev.Proc.VPID
	if !ev.Proc.Lean { // a lean header has no credentials: the fork keeps its parent's
		child.UID, child.EUID = ev.Proc.UID, ev.Proc.EUID
		child.LoginUID, child.SessionID = ev.Proc.LoginUID, ev.Proc.SessionID
	}
	if ev.Proc.CgroupID != 0 && ev.Proc.CgroupID != parent.Cgroup.ID {
		// Moved to another cgroup after the fork (a runtime's child entering a new container): that
		// crosses a boundary, so the rules decide, as for an exec.
		child.Cgroup = t.cgroupOf(ev)
		child.Context = t.contexts.decide(parent, &child, false)
	}
	child.exitedAt = time.Time{} // the parent may have exited; its fork lives
	t.procs.put(&child)
	t.missing.Remove(child.PID)
	return &child, true
}

// fromProcfs reads a process the table never saw (started before the snapshot's view, or whose
// exec was lost) and stores it with a context derived from its parent. Learning the parent may
// read the grandparent in turn: the climb stops at the first process the table knows, at pid 0,
// or at a pid procfs could not give lately.
func (t *Table) fromProcfs(pid uint32) (*Proc, bool) {
	if at, ok := t.missing.Get(pid); ok && time.Since(at) < missingFor {
		return nil, false
	}
	ev, err := t.procfs.process(pid)
	if err != nil {
		// Gone (or a kernel thread): a burst of its late events costs one read, not one each.
		t.missing.Add(pid, time.Now())
		return nil, false
	}
	return t.exec(ev, false), true
}

// ancestors returns the pids above k, nearest first, at most max. The walk stops at a parent the
// table does not know (its pid is still included) and at pid 0. A complete answer (ending at pid 0
// or at max) is kept on the image and reused, and a child's answer starts from its parent's: the
// ancestors of a process do not change, only a parent the table did not know yet can appear, so an
// unfinished answer is reused only until the store takes a new image. The returned slice is
// shared: callers must not modify it.
func (t *store) ancestors(k Key, max int) []int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	p, ok := t.getLocked(k)
	if !ok {
		return nil
	}
	if (p.ancestorsDone || p.ancestors != nil && p.ancestorsGen == t.gen) && cap(p.ancestors) >= max {
		return p.ancestors[:min(len(p.ancestors), max)]
	}
	var out []int64
	done := false
	if parent, ok := t.getLocked(p.Parent); ok && parent.ancestorsDone && parent.Key != p.Key && p.Parent.PID != 0 &&
		cap(parent.ancestors) >= max && !containsPID(parent.ancestors, p.PID) {
		out = make([]int64, 0, max)
		out = append(out, int64(p.Parent.PID))
		out = append(out, parent.ancestors[:min(len(parent.ancestors), max-1)]...)
		done = true
	} else {
		out, done = t.walk(p, max)
	}
	p.ancestors, p.ancestorsDone, p.ancestorsGen = out, done, t.gen
	return out
}

// walk climbs the table from p; done says the answer is final (it ended at pid 0 or at max).
func (t *store) walk(p *Proc, max int) ([]int64, bool) {
	out := make([]int64, 0, max)
	seen := map[Key]bool{p.Key: true}
	for len(out) < max {
		parent := p.Parent
		if parent.PID == 0 {
			return out, true
		}
		out = append(out, int64(parent.PID))
		next, ok := t.getLocked(parent)
		if !ok || seen[next.Key] {
			return out, false
		}
		seen[next.Key] = true
		p = next
	}
	return out, true
}

func containsPID(pids []int64, pid uint32) bool {
	for _, p := range pids {
		if p == int64(pid) {
			return true
		}
	}
	return false
}
