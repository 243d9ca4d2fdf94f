package readback

import (
	"bytes"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cryptochain-otel/cryptochain/internal/minerconfig"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/event"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/masquerade"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/process"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/untrusted"
)

// maxRequesters bounds the execs one pending read reports for: one per distinct context, the
// first exec of each (the later ones of a context it already reports for are merged into it).
const maxRequesters = 16

// ConfigJob is one suspicious exec whose miner config files are looked for.
type ConfigJob struct {
	Event event.Event // the exec's process and time (Exec is not kept)
	Actor process.Actor
}

// configRead is one pending read of a set of candidate paths in one root, for every exec that
// asked for the same paths in the same root before it ran.
type configRead struct {
	key   string
	root  *Root
	paths []string
	for_  []ConfigJob
}

// ConfigReader reads miner config files off the hot path: the ring reader offers each suspicious
// exec, the worker reads the candidate files through the exec's own root (held from the moment the
// exec was handled, so a miner that exits at once is still read, and a container's files are its
// own), and every offered exec gets its read: identical pending reads are merged, never skipped.
// Safe for concurrent use.
type ConfigReader struct {
	maxBytes   int
	procfsRoot string
	hostRoot   string
	w          *Worker
	emit       func(job *ConfigJob, path string, res Result)
	mu         sync.Mutex
	pending    map[string]*configRead
	dropped    atomic.Uint64
}

// NewConfigReader reads at most maxBytes per file on w through the process roots under procfsRoot
// (for a host process already gone, under hostRoot) and hands each miner config found to emit,
// from a worker goroutine.
func NewConfigReader(maxBytes int, procfsRoot, hostRoot string, w *Worker, emit func(job *ConfigJob, path string, res Result)) *ConfigReader {
	return &ConfigReader{maxBytes: maxBytes, procfsRoot: procfsRoot, hostRoot: hostRoot, w: w, emit: emit, pending: map[string]*configRead{}}
}

// suspicious says whether an exec deserves a look for config files: weak miner evidence of its
// own (unusual location, masquerade) or an explicit -c/--config.
func suspicious(x *event.Exec, args []string, comm string) bool {
	exe := x.ExePath
	if exe == "" {
		exe = x.Filename
	}
	argv0 := ""
	if len(args) > 0 {
		argv0 = args[0]
	}
	return masquerade.UnusualLocation(exe, x.ExeMemfd, x.ExeDeleted) ||
		masquerade.NameMismatch(argv0, x.Filename, exe, x.Interpreter != "" && x.Interpreter != x.Filename) ||
		masquerade.KthreadLike(argv0) || masquerade.KthreadLike(comm) ||
		minerconfig.ConfigFlag(args) != ""
}

// mayBeSuspicious is false when suspicious is sure to be: no masquerade sign and no argument that
// could name a config file, judged on the raw argv.
func mayBeSuspicious(x *event.Exec, comm string) bool {
	for _, a := range x.Args[min(1, len(x.Args)):] {
		if bytes.HasPrefix(a, []byte("-c")) || bytes.HasPrefix(a, []byte("--config")) {
			return true
		}
	}
	var args [1]string
	if len(x.Args) > 0 {
		args[0] = untrusted.String(x.Args[0], 4096)
	}
	return suspicious(x, args[:min(1, len(x.Args))], comm)
}

// Offer queues a read for a suspicious exec. It never blocks; when the queue has no room the exec
// is counted in Dropped.
func (c *ConfigReader) Offer(ev *event.Event, actor process.Actor) {
	x := ev.Exec
	if !mayBeSuspicious(x, ev.Proc.Comm) {
		return // most execs: no copy of their argv
	}
	args := make([]string, 0, len(x.Args))
	for _, a := range x.Args {
		args = append(args, untrusted.String(a, 4096))
	}
	if !suspicious(x, args, ev.Proc.Comm) {
		return
	}
	exe := x.ExePath
	if exe == "" || exe == "/" {
		exe = x.Filename
	}
	home := ""
	for _, e := range x.Env {
		if v, ok := strings.CutPrefix(string(e), "HOME="); ok {
			home = v
			break
		}
	}
	if home == "" && ev.Proc.EUID == 0 {
		home = "/root"
	}
	paths := minerconfig.Candidates(exe, x.Cwd, home, args)
	if len(paths) == 0 {
		return
	}
	req := ConfigJob{Event: event.Event{Kind: event.KindExec, BootNS: ev.BootNS, Seq: ev.Seq, Proc: ev.Proc}, Actor: actor}
	req.Event.Proc.Comm = strings.Clone(ev.Proc.Comm)
	root := HoldRoot(c.procfsRoot, c.hostRoot, ev.Proc.PID, actor.Cgroup.ContainerID == "")
	if root == nil {
		// Gone before its root could be held, in a container: nothing reachable is its.
		c.dropped.Add(1)
		return
	}
	key := rootKey(root) + "\x00" + strings.Join(paths, "\x00")

	c.mu.Lock()
	if r, ok := c.pending[key]; ok {
		defer c.mu.Unlock()
		root.Close()
		for _, j := range r.for_ {
			if j.Actor.Context.ID == actor.Context.ID {
				return // this context gets the read already
			}
		}
		if len(r.for_) < maxRequesters {
			r.for_ = append(r.for_, req)
		}
		return
	}
	r := &configRead{key: key, root: root, paths: paths, for_: []ConfigJob{req}}
	c.pending[key] = r
	c.mu.Unlock()

	uid := ev.Proc.EUID
	if !c.w.q.offer(&job{uid: uid, release: root.Close, run: func(time.Time) { c.read(r) }}) {
		c.mu.Lock()
		delete(c.pending, key)
		n := len(r.for_)
		c.mu.Unlock()
		c.dropped.Add(uint64(n))
	}
}

// Dropped is the number of suspicious execs whose config files could not be read because the
// queue was full (or, in a container, the process was gone before its root could be held), so far.
func (c *ConfigReader) Dropped() uint64 { return c.dropped.Load() }

// read reads the candidates of r once and reports each miner config found for every exec merged in.
func (c *ConfigReader) read(r *configRead) {
	c.mu.Lock()
	delete(c.pending, r.key) // later execs start a new read
	reqs := r.for_
	c.mu.Unlock()
	for _, p := range r.paths {
		res := c.w.rd.read(r.root, p, c.maxBytes, AnyOwner)
		if res.Status != StatusOK || len(res.Content) == 0 {
			continue
		}
		out, ok := minerconfig.Sanitize(res.Content)
		if !ok {
			continue
		}
		res.Content = out
		for i := range reqs {
			c.emit(&reqs[i], p, res)
		}
	}
}
