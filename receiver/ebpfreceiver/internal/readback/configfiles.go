package readback

import (
	"context"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/cryptochain-otel/cryptochain/internal/minerconfig"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/event"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/masquerade"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/process"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/untrusted"
)

const (
	configQueue       = 64   // pending suspicious execs; more are dropped
	configRecentExecs = 4096 // executables remembered for the per-executable rate limit
)

// ConfigJob is one suspicious exec whose miner config files are to be looked for.
type ConfigJob struct {
	Event event.Event // the exec's process and time (Exec is not kept)
	Actor process.Actor
	paths []string
}

// ConfigReader reads miner config files off the hot path: the ring reader only offers jobs to a
// bounded queue, one worker reads at most max_bytes per file through /proc/<pid>/root (so the
// process's own mount namespace is used: containers included), and each executable is looked at
// once per interval.
type ConfigReader struct {
	maxBytes   int
	interval   time.Duration
	procfsRoot string
	jobs       chan ConfigJob
	mu         sync.Mutex
	recent     *lru.Cache[string, time.Time]
}

// NewConfigReader reads at most maxBytes per file through the process roots under procfsRoot,
// and looks at an executable again only interval after its last look.
func NewConfigReader(maxBytes int, interval time.Duration, procfsRoot string) *ConfigReader {
	recent, _ := lru.New[string, time.Time](configRecentExecs)
	return &ConfigReader{maxBytes: maxBytes, interval: interval, procfsRoot: procfsRoot, jobs: make(chan ConfigJob, configQueue), recent: recent}
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

// Offer queues a job for a suspicious exec unless its executable was looked at recently. It never
// blocks.
func (c *ConfigReader) Offer(ev *event.Event, actor process.Actor, now time.Time) {
	x := ev.Exec
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
	key := exe + "\x00" + minerconfig.ConfigFlag(args)
	c.mu.Lock()
	if last, ok := c.recent.Get(key); ok && now.Sub(last) < c.interval {
		c.mu.Unlock()
		return
	}
	c.recent.Add(key, now)
	c.mu.Unlock()

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
	job := ConfigJob{Event: event.Event{Kind: event.KindExec, BootNS: ev.BootNS, Seq: ev.Seq, Proc: ev.Proc}, Actor: actor,
		paths: minerconfig.Candidates(exe, x.Cwd, home, args)}
	select {
	case c.jobs <- job:
	default: // the worker is behind: this exec is not looked at
	}
}

// Run reads queued jobs until ctx is done; emit receives each miner config found.
func (c *ConfigReader) Run(ctx context.Context, emit func(job *ConfigJob, path string, content []byte)) {
	for {
		select {
		case <-ctx.Done():
			return
		case job := <-c.jobs:
			root := rootOf(c.procfsRoot, job.Event.Proc.PID)
			for _, p := range job.paths {
				if ctx.Err() != nil {
					return
				}
				b, err := readRegularHead(filepath.Join(root, path.Clean(p)), c.maxBytes)
				if err != nil || len(b) == 0 {
					continue
				}
				if out, ok := minerconfig.Sanitize(b); ok {
					emit(&job, p, out)
				}
			}
		}
	}
}
