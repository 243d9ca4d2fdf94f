package ebpfreceiver // import "github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver"

import (
	"context"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/cryptochain-otel/cryptochain/internal/minerconfig"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/event"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/masquerade"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/records"
)

const (
	configQueue       = 64   // pending suspicious execs; more are dropped (and counted)
	configRecentExecs = 4096 // executables remembered for the per-executable rate limit
)

// configJob is one suspicious exec whose miner config files are to be looked for.
type configJob struct {
	ev    event.Event // the exec's process and time (Exec is not kept)
	actor records.Actor
	res   records.Resource
	paths []string
}

// configReader reads miner config files off the hot path: the ring reader only offers jobs to a
// bounded queue, one worker reads at most max_bytes per file through /proc/<pid>/root (so the
// process's own mount namespace is used: containers included), and each executable is looked at
// once per interval.
type configReader struct {
	cfg      ConfigFilesConfig
	procRoot string
	jobs     chan configJob
	mu       sync.Mutex
	recent   *lru.Cache[string, time.Time]
	dropped  atomic.Uint64
	reads    atomic.Uint64
}

func newConfigReader(cfg ConfigFilesConfig, procRoot string) *configReader {
	recent, _ := lru.New[string, time.Time](configRecentExecs)
	return &configReader{cfg: cfg, procRoot: procRoot, jobs: make(chan configJob, configQueue), recent: recent}
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

// offer queues a job for a suspicious exec unless its executable was looked at recently. It never
// blocks.
func (c *configReader) offer(ev *event.Event, actor records.Actor, res records.Resource, now time.Time) {
	x := ev.Exec
	args := make([]string, 0, len(x.Args))
	for _, a := range x.Args {
		args = append(args, records.SafeString(a, 4096))
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
	if last, ok := c.recent.Get(key); ok && now.Sub(last) < c.cfg.Interval {
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
	job := configJob{ev: event.Event{Kind: event.KindExec, BootNS: ev.BootNS, Seq: ev.Seq, Proc: ev.Proc}, actor: actor, res: res,
		paths: minerconfig.Candidates(exe, x.Cwd, home, args)}
	select {
	case c.jobs <- job:
	default:
		c.dropped.Add(1)
	}
}

// run reads queued jobs until ctx is done; emit receives each miner config found.
func (c *configReader) run(ctx context.Context, emit func(job *configJob, path string, content []byte)) {
	for {
		select {
		case <-ctx.Done():
			return
		case job := <-c.jobs:
			root := filepath.Join(c.procRoot, strconv.FormatUint(uint64(job.ev.Proc.PID), 10), "root")
			for _, p := range job.paths {
				if ctx.Err() != nil {
					return
				}
				b, err := readRegularHead(filepath.Join(root, path.Clean(p)), c.cfg.MaxBytes)
				c.reads.Add(1)
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
