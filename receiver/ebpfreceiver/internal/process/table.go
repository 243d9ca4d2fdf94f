package process

import (
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/event"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/untrusted"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/workload"
)

const (
	tableSize      = 32768
	exitGrace      = 5 * time.Second // an exited process is kept this long for its children's late events
	maxAncestors   = 8
	contextCgroups = 8192
	missingPIDs    = 1024
	missingFor     = 2 * time.Second // a reused pid is asked about again after this
	ruleArgs       = 4               // argv elements the context rules look at
	ruleArgBytes   = 256
	ciMarkerBytes  = 64 // an env entry longer than this is not a CI marker's name
)

// Options say where the host's procfs and cgroup2 mount are and how much of argv and environ a
// procfs read keeps.
type Options struct {
	ProcfsRoot string // the host's /proc, possibly mounted elsewhere
	CgroupRoot string // the host's cgroup2 mount, "" when there is none
	Limits     Limits
	Workload   *workload.Resolver // names pods and images of containers; nil = none
}

// Table is the receiver's one view of processes: Exec and Actor are its doors, everything else
// (the bounded store, the context rules, cgroup and procfs lookups) happens behind them. Its
// methods are safe for concurrent use, but Exec and Actor are meant to be called in event order
// from one goroutine.
type Table struct {
	procs    *store
	contexts *contexts
	cgroups  *cgroupResolver
	procfs   *procfsReader
	workload *workload.Resolver
	missing  *lru.Cache[uint32, time.Time] // pids procfs could not give us lately: not asked again soon
}

// New makes an empty table; context ids are seeded with the boot id read under opts.ProcfsRoot.
func New(opts Options) *Table {
	missing, err := lru.New[uint32, time.Time](missingPIDs)
	if err != nil {
		panic(err) // only for a non-positive size
	}
	t := &Table{
		procs:    newStore(tableSize, exitGrace),
		contexts: newContexts(contextCgroups, bootID(opts.ProcfsRoot)),
		cgroups:  newCgroupResolver(opts.CgroupRoot),
		workload: opts.Workload,
		missing:  missing,
	}
	t.procfs = &procfsReader{root: opts.ProcfsRoot, clockTicks: 100, limits: opts.Limits, cgroupID: t.cgroupID}
	return t
}

// Exec records the new image an exec event shows, decides its context and returns it as the
// event's actor. An exec found by the start-up snapshot gets its cgroup's boot context when its
// parent is unknown.
func (t *Table) Exec(ev *event.Event) Actor {
	proc := t.exec(ev, ev.Exec.FromSnapshot)
	completeLean(&ev.Proc, proc)
	return t.actorOf(proc)
}

// Actor returns the process a non-exec event is about, learning it from its parent or procfs
// when the table never saw it exec. It applies what the event says about the process (a new comm,
// an exit) and completes a lean kernel header (credentials, namespaced pid) from what is known.
func (t *Table) Actor(ev *event.Event, now time.Time) Actor {
	if ev.Exit != nil {
		defer t.procs.exit(Key{PID: ev.Proc.PID, Start: ev.Proc.StartBootNS}, now)
	}
	if ev.Proc.PID == 0 {
		return Actor{Context: t.contexts.enter("")}
	}
	proc, ok := t.learn(ev)
	if !ok {
		cg := t.cgroupOf(ev)
		return Actor{Context: t.contexts.enter(cg.Path), Cgroup: Cgroup{Path: cg.Path, ContainerID: cg.ContainerID, PodUID: cg.PodUID, Runtime: cg.Runtime, Workload: cg.Workload}}
	}
	completeLean(&ev.Proc, proc)
	if ev.Rename != nil {
		proc.Comm = ev.Rename.NewComm
	}
	return t.actorOf(proc)
}

// Name returns the executable name (or comm) of the latest process with pid, "" when unknown.
func (t *Table) Name(pid uint32) string {
	p, ok := t.procs.get(Key{PID: pid})
	if !ok {
		return ""
	}
	if p.Exe != "" {
		return path.Base(p.Exe)
	}
	return p.Comm
}

// Snapshot reads the processes running now from procfs as exec events, parents before their
// children, except those in exclude and at most limit (0 = all).
func (t *Table) Snapshot(exclude map[uint32]bool, limit int) ([]*event.Event, error) {
	return t.procfs.snapshot(exclude, limit)
}

// Sweep forgets the processes that exited more than the grace period before now.
func (t *Table) Sweep(now time.Time) { t.procs.sweep(now) }

// Len is the number of processes held.
func (t *Table) Len() int { return t.procs.len() }

func (t *Table) actorOf(proc *Proc) Actor {
	return Actor{Proc: proc, Ancestors: t.procs.ancestors(proc.Key, maxAncestors), Context: proc.Context, Cgroup: proc.Cgroup}
}

// exec stores the image an exec event shows and decides its context. atStart says the process was
// found by the start-up snapshot (its cgroup then gets a boot context), not while running.
func (t *Table) exec(ev *event.Event, atStart bool) *Proc {
	key := Key{PID: ev.Proc.PID, Start: ev.Proc.StartBootNS}
	proc := &Proc{
		Key:    key,
		Parent: Key{PID: ev.Proc.PPID, Start: ev.Proc.ParentStartNS},
		Exe:    ev.Exec.ExePath, Comm: ev.Proc.Comm,
		VPID: ev.Proc.VPID,
		UID:  ev.Proc.UID, EUID: ev.Proc.EUID, LoginUID: ev.Proc.LoginUID, SessionID: ev.Proc.SessionID,
		TTY: ev.Exec.TTY, SID: ev.Exec.SID, PGID: ev.Exec.PGID,
	}
	if proc.Exe == "" {
		proc.Exe = ev.Exec.Filename
	}
	if n := min(len(ev.Exec.Args), ruleArgs); n > 0 {
		proc.Args = make([]string, 0, n)
		for _, a := range ev.Exec.Args[:n] {
			proc.Args = append(proc.Args, untrusted.String(a, ruleArgBytes))
		}
	}
	for _, e := range ev.Exec.Env {
		if hasCIMarkerBytes(e[:min(len(e), ciMarkerBytes)]) {
			proc.CI = true
			break
		}
	}
	proc.Cgroup = t.cgroupOf(ev)

	// The context is decided against the previous image of this process when it exec'd before,
	// otherwise against its creator recorded at fork (the process whose image it ran: an orphan of a
	// double fork keeps it whatever its parent is now), otherwise against its parent (found in
	// procfs if the table never saw it). A known creator is also its parent in the lineage.
	parent, ok := t.procs.get(key)
	if !ok && ev.Exec.CreatorPID != 0 {
		creator := Key{PID: ev.Exec.CreatorPID, Start: ev.Exec.CreatorStart}
		if parent, ok = t.procs.creator(creator); ok {
			proc.Parent = creator
		}
	}
	if !ok {
		parent, ok = t.procs.get(proc.Parent)
		if !ok && !atStart && proc.Parent.PID != 0 {
			parent, ok = t.fromProcfs(proc.Parent.PID)
		}
	}
	if !ok {
		parent = nil
	}
	proc.Context = t.contexts.decide(parent, proc, atStart)
	t.procs.put(proc)
	t.missing.Remove(proc.PID)
	return proc
}

// completeLean fills what a lean kernel header leaves out from the process's image. A fork learned
// from a lean header has no namespaced pid of its own (VPID stays 0 and is not reported).
func completeLean(ev *event.Process, p *Proc) {
	if !ev.Lean || p.PID != ev.PID || p.Start != ev.StartBootNS {
		return
	}
	ev.VPID = p.VPID
	ev.UID, ev.EUID = p.UID, p.EUID
	ev.LoginUID, ev.SessionID = p.LoginUID, p.SessionID
}

// bootID reads the host's boot id under the procfs root; context ids are derived from it.
func bootID(procfsRoot string) string {
	b, err := os.ReadFile(filepath.Join(procfsRoot, "sys/kernel/random/boot_id"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
