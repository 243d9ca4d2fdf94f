package process

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"sync"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
)

// Kinds of contexts: the names of internal/contract (see rules.go for when each is opened).
const (
	KindBoot             = contract.ContextBoot
	KindCgroup           = contract.ContextCgroup
	KindLoginSession     = contract.ContextLoginSession
	KindInteractiveShell = contract.ContextInteractiveShell
	KindServiceShell     = contract.ContextServiceShell
	KindContainerExec    = contract.ContextContainerExec
	KindDaemonized       = contract.ContextDaemonized
	KindCron             = contract.ContextCron
	KindSystemd          = contract.ContextSystemd
	KindCIRunner         = contract.ContextCIRunner
)

// Context is one execution context: the attacker's entry point that children inherit.
type Context struct {
	ID       string
	Kind     string
	ParentID string
}

// contexts holds the context of each cgroup (for processes whose parent is unknown and for the
// several processes a runtime puts into a new container) and which cgroups run a workload (a
// process that is not a container runtime), which tells a `runc exec` from a container start.
type contexts struct {
	bootID   string // host boot id: ids are unique per boot and stable across receiver restarts
	mu       sync.Mutex
	cgroups  *lru.Cache[string, Context]
	workload *lru.Cache[uint64, struct{}]
}

// newContexts remembers at most size cgroups. bootID (the host's
// /proc/sys/kernel/random/boot_id) seeds the context ids.
func newContexts(size int, bootID string) *contexts {
	cg, _ := lru.New[string, Context](size)
	wl, _ := lru.New[uint64, struct{}](size)
	return &contexts{bootID: bootID, cgroups: cg, workload: wl}
}

// boot returns the context of a cgroup first seen by the start-up snapshot, minting a `boot`
// context on first use.
func (t *contexts) boot(cgroupPath string) Context {
	return t.cgroupContext(cgroupPath, KindBoot)
}

// enter returns the context of a process whose parent is unknown, seen live in cgroupPath: the
// cgroup's context if it has one, else a new `cgroup` context (a process appearing in a cgroup
// nobody was seen in has crossed into it).
func (t *contexts) enter(cgroupPath string) Context {
	return t.cgroupContext(cgroupPath, KindCgroup)
}

func (t *contexts) cgroupContext(cgroupPath, kind string) Context {
	t.mu.Lock()
	defer t.mu.Unlock()
	if c, ok := t.cgroups.Get(cgroupPath); ok {
		return c
	}
	c := Context{ID: cgroupContextID(t.bootID, kind, cgroupPath), Kind: kind}
	t.cgroups.Add(cgroupPath, c)
	return c
}

// decide returns the context of child. parent is the previous image of the same process or its
// real parent, nil when unknown; fromSnapshot says the child was found by the start-up snapshot
// rather than seen live.
func (t *contexts) decide(parent, child *Proc, fromSnapshot bool) Context {
	cgroupPath := child.Cgroup.Path
	t.mu.Lock()
	_, hasWorkload := t.workload.Get(child.Cgroup.ID)
	if child.Cgroup.ID != 0 && !isRuntime(child) {
		t.workload.Add(child.Cgroup.ID, struct{}{})
	}
	t.mu.Unlock()
	if parent == nil {
		if fromSnapshot {
			return t.boot(cgroupPath)
		}
		return t.enter(cgroupPath)
	}
	kind := rule(parent, child, hasWorkload)
	switch kind {
	case "":
		return parent.Context
	case KindCgroup:
		// Every process a runtime moves into a new container joins one context.
		t.mu.Lock()
		defer t.mu.Unlock()
		if c, ok := t.cgroups.Get(cgroupPath); ok && !hasWorkload && c.Kind == KindCgroup {
			return c
		}
		c := Context{ID: entryContextID(t.bootID, kind, child.PID, child.Start), Kind: kind, ParentID: parent.Context.ID}
		t.cgroups.Add(cgroupPath, c)
		return c
	}
	return Context{ID: entryContextID(t.bootID, kind, child.PID, child.Start), Kind: kind, ParentID: parent.Context.ID}
}

// tickNS is one USER_HZ clock tick: procfs gives start times at this precision, the kernel in ns,
// so an entry process's start is rounded down to it before hashing.
const tickNS = 10_000_000

// entryContextID is the id of a context of kind opened by the entry-point process pid started at
// start (ns since boot) on the boot bootID.
func entryContextID(bootID, kind string, pid uint32, start uint64) string {
	var b [12]byte
	binary.LittleEndian.PutUint32(b[:4], pid)
	binary.LittleEndian.PutUint64(b[4:], start/tickNS)
	return hashID(bootID, kind, b[:])
}

// cgroupContextID is the id of the per-cgroup context of kind (boot or cgroup) for cgroupPath.
func cgroupContextID(bootID, kind, cgroupPath string) string {
	return hashID(bootID, kind, []byte("cgroup\x00"+cgroupPath))
}

func hashID(bootID, kind string, identity []byte) string {
	h := sha256.New()
	h.Write([]byte(bootID))
	h.Write([]byte{0})
	h.Write([]byte(kind))
	h.Write([]byte{0})
	h.Write(identity)
	return kind + ":" + hex.EncodeToString(h.Sum(nil)[:8])
}
