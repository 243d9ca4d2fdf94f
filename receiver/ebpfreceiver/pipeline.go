package ebpfreceiver // import "github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver"

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/cryptochain-otel/cryptochain/internal/redact"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/dnsparse"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/event"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/exehash"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/process"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/readback"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/records"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/usage"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/workload"
)

const dnsPending = 4096 // DNS queries waiting for their answer

// pipeline turns events into records: the process table names the actor, DNS answers are linked
// to their question, persistence writes wait for their content, and records are batched. It knows
// nothing about the Collector beyond pdata, so it is tested with a fake source. All methods are
// safe for concurrent use.
type pipeline struct {
	mu      sync.Mutex
	procs   *process.Table
	dns     *dnsparse.Matcher[event.Process]
	reads   *readback.Worker
	persist *readback.Persistence
	conf    *readback.ConfigReader // nil when config_files is off
	hashes  *exehash.Hasher
	mapper  *records.Mapper
	batch   *records.Batch
	usage   *usage.Watcher[usageProc] // nil when usage.interval is 0

	parseErrors uint64 // DNS packets that could not be decoded
}

func newPipeline(cfg *Config, host records.Host, scope string, cgroupRoot string) *pipeline {
	red, err := redact.New(cfg.redaction())
	if err != nil { // newReceiver refused this config already; never export with less redaction
		red = redact.Default()
	}
	p := &pipeline{
		procs: process.New(process.Options{ProcfsRoot: cfg.ProcfsRoot, CgroupRoot: cgroupRoot, Limits: process.Limits{
			MaxArgs: cfg.Argv.MaxArgs, MaxArgBytes: cfg.Argv.MaxBytes, MaxEnv: cfg.Env.MaxVars, MaxEnvBytes: cfg.Env.MaxBytes},
			Workload: newWorkload(cfg)}),
		dns:    dnsparse.NewMatcher[event.Process](dnsPending),
		reads:  readback.NewWorker(),
		hashes: exehash.New(cfg.ProcfsRoot, exehash.DefaultMaxBytes, exehash.DefaultBytesPerSec),
		mapper: &records.Mapper{
			Clock:    records.NewClock(),
			Redactor: red,
			MaxArgs:  cfg.Argv.MaxArgs, MaxArgBytes: cfg.Argv.MaxBytes,
			MaxEnv: cfg.Env.MaxVars, MaxEnvBytes: cfg.Env.MaxBytes,
		},
		batch: records.NewBatch(host, scope),
		usage: newUsage(cfg),
	}
	p.persist = readback.NewPersistence(cfg.ProcfsRoot, cfg.HostRoot, cfg.FileContentBytes, p.reads, p.emitPersistence)
	if cfg.ConfigFiles.Enabled {
		p.conf = readback.NewConfigReader(cfg.ConfigFiles.MaxBytes, cfg.ProcfsRoot, cfg.HostRoot, p.reads, p.emitConfig)
	}
	return p
}

// newWorkload makes the resolver of pod and image names, nil when both sources are off.
func newWorkload(cfg *Config) *workload.Resolver {
	opts := workload.Options{PodsDir: cfg.Workload.PodsDir, Refresh: cfg.Workload.RefreshInterval}
	if cfg.Workload.RuntimeState {
		opts.StateRoot = cfg.HostRoot
	}
	if opts.PodsDir == "" && opts.StateRoot == "" {
		return nil
	}
	return workload.New(opts)
}

// handle maps one event; it returns the number of records in the batch afterwards.
func (p *pipeline) handle(ev *event.Event, observed time.Time) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	var extra records.Extra
	var actor process.Actor
	switch {
	case ev.Exec != nil:
		actor = p.procs.Exec(ev)
		if p.conf != nil {
			p.conf.Offer(ev, actor)
		}
		extra.ExeHash, extra.ExeHashSkip = p.exeHash(ev)
	case ev.DNS != nil:
		extra.DNS = p.dnsMessage(ev)
		actor = p.procs.Actor(ev, observed)
	default:
		actor = p.procs.Actor(ev, observed)
	}
	if ev.Kill != nil {
		extra.KillTarget = p.procs.Name(ev.Kill.TargetPID)
	}
	p.watchUsage(ev, &actor)
	held, status := p.persist.Hold(ev, &actor, observed)
	if held {
		return p.batch.Len()
	}
	extra.FileReadStatus = status
	p.mapper.Fill(p.batch.NewRecord(&actor), ev, &actor, extra, observed)
	return p.batch.Len()
}

// dataLoss adds a data_loss record (no process, no context) for n records of kind k lost in ring.
func (p *pipeline) dataLoss(ring string, k event.Kind, n uint64, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mapper.FillDataLoss(p.batch.NewRecord(&process.Actor{}), ring, k, n, now)
}

// dnsMessage decodes a DNS packet and attributes an answer to the process that asked, when the
// hook saw no process or saw a different one (an answer read by another thread of a resolver
// daemon). It returns nil for a packet that cannot be decoded.
func (p *pipeline) dnsMessage(ev *event.Event) *dnsparse.Message {
	msg, err := dnsparse.Parse(ev.DNS.Payload)
	if err != nil {
		p.parseErrors++
		return nil
	}
	if ev.DNS.Egress && ev.Proc.PID != 0 {
		p.dns.Query(ev.DNS.SrcPort, msg.ID, ev.Proc)
	}
	if !ev.DNS.Egress {
		if who, ok := p.dns.Answer(ev.DNS.DstPort, msg.ID); ok && (ev.Proc.PID == 0 || ev.Proc.PID != who.PID) {
			ev.Proc = who
		}
	}
	return &msg
}

// emitPersistence maps a held persistence write with what its read-back found; records are
// emitted later than the write they describe (their timestamp is the write's).
func (p *pipeline) emitPersistence(w *readback.Write, res readback.Result) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mapper.Fill(p.batch.NewRecord(&w.Actor), &w.Event, &w.Actor,
		records.Extra{FileContent: res.Content, FileReadStatus: res.Status, FileReadRoot: res.Root}, w.Read)
}

// emitConfig adds a process.config_file record for a miner config found by the config reader.
func (p *pipeline) emitConfig(job *readback.ConfigJob, filePath string, res readback.Result) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mapper.FillConfigFile(p.batch.NewRecord(&job.Actor), &job.Event, &job.Actor, filePath, res.Content, res.Root, time.Now())
}

// runReadBack reads persistence files and miner config files back until ctx is done, then reads
// what is still queued at once and returns (a shutdown still reports every write it accepted).
func (p *pipeline) runReadBack(ctx context.Context) {
	p.reads.Run(ctx)
}

// readBackDropped is the number of persistence writes and of suspicious execs whose read-back
// found the queue full, so far.
func (p *pipeline) readBackDropped() (persistence, configFiles uint64) {
	persistence = p.persist.Dropped()
	if p.conf != nil {
		configFiles = p.conf.Dropped()
	}
	return persistence, configFiles
}

// dnsParseErrors is the number of DNS packets that could not be decoded so far.
func (p *pipeline) dnsParseErrors() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.parseErrors
}

// snapshot reads the processes running now from procfs, as exec events to handle.
func (p *pipeline) snapshot(exclude map[uint32]bool, limit int) ([]*event.Event, error) {
	return p.procs.Snapshot(exclude, limit)
}

// take returns the batch (and its size) and starts a new one.
func (p *pipeline) take() (plog.Logs, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.batch.Len()
	if n == 0 {
		return plog.Logs{}, 0
	}
	return p.batch.Take(), n
}

// housekeeping forgets processes that exited more than a grace period ago.
func (p *pipeline) housekeeping(now time.Time) {
	p.procs.Sweep(now)
}

// refreshClock re-measures the boot clock's offset (the wall clock can be stepped).
func (p *pipeline) refreshClock() {
	p.mapper.Clock.Refresh()
}
