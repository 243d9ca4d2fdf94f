package ebpfreceiver // import "github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver"

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receiverhelper"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/cryptochain-otel/cryptochain/internal/redact"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/event"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/metadata"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/process"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/records"
)

const (
	transport       = "ebpf"
	snapshotLimit   = 65536
	clockRefresh    = time.Minute
	lossCheckPeriod = time.Second
)

// sourceFactory builds the kernel event source; tests inject a fake.
type sourceFactory func(event.Options, *zap.Logger) (event.Source, error)

type ebpfReceiver struct {
	cfg       *Config
	set       receiver.Settings
	next      consumer.Logs
	newSource sourceFactory

	obs      *receiverhelper.ObsReport
	tb       *metadata.TelemetryBuilder
	src      event.Source
	pipe     *pipeline
	host     component.Host
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	flushMu  sync.Mutex // batches are queued in the order they were made
	out      *sender
	kindAttr [event.KindCount]metric.MeasurementOption

	eventCounts [event.KindCount]atomic.Uint64 // events read since the last flush, by kind

	// loss accounting, owned by the housekeeping goroutine
	lastLost          [event.KindCount]uint64
	lastSuppressed    [event.KindCount]uint64
	lastLifecycleLost uint64
	lastParse         uint64
	lossStatus        bool
	// read-back accounting: persistence, config_file
	readbackAttr [2]metric.MeasurementOption
	lastReadBack [2]uint64
	lastTimeouts uint64
}

func newReceiver(set receiver.Settings, cfg *Config, next consumer.Logs, newSource sourceFactory) (*ebpfReceiver, error) {
	if _, err := redact.New(cfg.redaction()); err != nil {
		return nil, fmt.Errorf("ebpf receiver: redaction: %w", err)
	}
	r := &ebpfReceiver{cfg: cfg, set: set, next: next, newSource: newSource}
	for k := event.Kind(0); k < event.KindCount; k++ {
		r.kindAttr[k] = metric.WithAttributeSet(attribute.NewSet(attribute.String("type", k.String())))
	}
	for i, kind := range [2]string{"persistence", "config_file"} {
		r.readbackAttr[i] = metric.WithAttributeSet(attribute.NewSet(attribute.String("kind", kind)))
	}
	return r, nil
}

// Start checks the kernel (in the source's Start, which returns one message naming what is missing),
// then reads the snapshot and the ring in the background.
func (r *ebpfReceiver) Start(_ context.Context, host component.Host) error {
	r.host = host
	var err error
	r.obs, err = receiverhelper.NewObsReport(receiverhelper.ObsReportSettings{ReceiverID: r.set.ID, Transport: transport, ReceiverCreateSettings: r.set})
	if err != nil {
		return err
	}
	r.tb, err = metadata.NewTelemetryBuilder(r.set.TelemetrySettings)
	if err != nil {
		return err
	}
	cgroupRoot := r.cfg.CgroupfsRoot
	if cgroupRoot == "" {
		cgroupRoot = process.FindCgroup2Mount(filepath.Join(r.cfg.ProcfsRoot, "mounts"))
	}
	if r.cfg.ConfigFiles.Interval != 0 {
		r.set.Logger.Warn("config_files.per_executable_interval is deprecated and ignored: every suspicious exec's config files are read")
	}
	r.pipe = newPipeline(r.cfg, hostInfo(r.cfg), metadata.ScopeName, cgroupRoot)
	r.out = newSender(r)
	r.initCounters()

	if r.cfg.kernelEnabled() {
		src, err := r.newSource(r.sourceOptions(cgroupRoot), r.set.Logger)
		if err != nil {
			return fmt.Errorf("ebpf receiver: %w", err)
		}
		if err := src.Start(); err != nil {
			_ = src.Close()
			return fmt.Errorf("ebpf receiver: %w", err)
		}
		r.src = src
	}
	if err := r.registerGauges(); err != nil {
		r.closeSource()
		return err
	}

	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	r.wg.Add(4)
	go r.read(ctx)
	go r.housekeeping(ctx)
	go func() {
		defer r.wg.Done()
		r.pipe.runReadBack(ctx)
	}()
	go func() {
		defer r.wg.Done()
		r.out.run(ctx)
	}()
	return nil
}

func (r *ebpfReceiver) sourceOptions(cgroupRoot string) event.Options {
	return event.Options{
		RingBufferSize: r.cfg.RingBufferSize, LifecycleRingSize: r.cfg.LifecycleRingBufferSize, PollInterval: r.cfg.PollInterval,
		ArgvMaxArgs: r.cfg.Argv.MaxArgs, ArgvMaxBytes: r.cfg.Argv.MaxBytes,
		EnvMaxVars: r.cfg.Env.MaxVars, EnvMaxBytes: r.cfg.Env.MaxBytes,
		Exec: r.cfg.Exec, Exit: r.cfg.Exit, Network: r.cfg.Network, DNS: r.cfg.DNS, Files: r.cfg.Files,
		Sysctl: r.cfg.Sysctl, Rename: r.cfg.Rename, Kill: r.cfg.Kill, FPU: r.cfg.FPU, Payload: r.cfg.Payload,
		WatchedPrefixes: r.cfg.watchedPrefixes(), AlwaysPrefixes: DefaultAlwaysPrefixes,
		ExcludePIDs: []uint32{uint32(os.Getpid())},
		CgroupRoot:  cgroupRoot,
		HostMountNS: process.HostMountNamespace(r.cfg.ProcfsRoot),
	}
}

// read reports the snapshot, then delivers kernel events until ctx is done.
func (r *ebpfReceiver) read(ctx context.Context) {
	defer r.wg.Done()
	if r.cfg.Snapshot {
		r.snapshot(ctx)
	}
	if r.src == nil {
		<-ctx.Done()
		return
	}
	// Loading the BPF objects (the kernel's BTF) and the snapshot leave tens of MiB of garbage;
	// the runtime would give those pages back a few at a time (each an madvise with a TLB
	// shootdown), paced by the work the collector does next, that is on the event path. Give them
	// back once, now, at the end of start-up.
	debug.FreeOSMemory()
	err := r.src.Run(ctx, func(ev *event.Event) {
		r.countEvent(ev)
		if r.pipe.handle(ev, time.Now()) >= r.cfg.Batch.Size {
			r.flush(ctx)
		}
	})
	if err != nil && ctx.Err() == nil {
		r.set.Logger.Error("ebpf ring buffer reader stopped", zap.Error(err))
		componentstatus.ReportStatus(r.host, componentstatus.NewPermanentErrorEvent(fmt.Errorf("ebpf ring buffer reader stopped: %w", err)))
	}
}

func (r *ebpfReceiver) snapshot(ctx context.Context) {
	exclude := map[uint32]bool{uint32(os.Getpid()): true}
	evs, err := r.pipe.snapshot(exclude, snapshotLimit)
	if err != nil {
		r.set.Logger.Warn("procfs snapshot failed", zap.Error(err))
		return
	}
	for _, ev := range evs {
		if ctx.Err() != nil {
			return
		}
		r.countEvent(ev)
		if r.pipe.handle(ev, time.Now()) >= r.cfg.Batch.Size {
			r.flush(ctx)
		}
	}
	r.flush(ctx)
}

// housekeeping flushes on the batch timeout, accounts for loss and keeps the process table and the
// clock fresh.
func (r *ebpfReceiver) housekeeping(ctx context.Context) {
	defer r.wg.Done()
	tick := time.NewTicker(min(r.cfg.Batch.Timeout, lossCheckPeriod))
	defer tick.Stop()
	lastFlush, lastLoss, lastClock, lastUsage := time.Now(), time.Now(), time.Now(), time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			if now.Sub(lastFlush) >= r.cfg.Batch.Timeout {
				r.flush(ctx)
				lastFlush = now
			}
			if now.Sub(lastLoss) >= lossCheckPeriod {
				r.checkLoss()
				r.pipe.housekeeping(now)
				lastLoss = now
			}
			if r.cfg.Usage.Interval > 0 && now.Sub(lastUsage) >= r.cfg.Usage.Interval {
				r.pipe.sampleUsage(now)
				lastUsage = now
			}
			if now.Sub(lastClock) >= clockRefresh {
				r.pipe.refreshClock()
				lastClock = now
			}
		}
	}
}

// flush queues the current batch for the next consumer; it never waits for the consumer.
func (r *ebpfReceiver) flush(ctx context.Context) {
	r.flushMu.Lock()
	defer r.flushMu.Unlock()
	if r.tb != nil {
		r.reportEventCounts(ctx)
	}
	ld, n := r.pipe.take()
	if n == 0 {
		return
	}
	r.out.enqueue(batch{ld: ld, n: n})
}

// consume makes one attempt to hand a batch to the next consumer (each attempt is one receiver
// operation in the standard receiver telemetry: accepted or refused records).
func (r *ebpfReceiver) consume(ctx context.Context, b batch) error {
	opCtx := r.obs.StartLogsOp(ctx)
	err := r.next.ConsumeLogs(opCtx, b.ld)
	r.obs.EndLogsOp(opCtx, transport, b.n, err)
	if err == nil {
		r.tb.EbpfRecordsEmitted.Add(ctx, int64(b.n))
	}
	return err
}

// Shutdown detaches every program and waits for the reader; what was batched is still sent.
func (r *ebpfReceiver) Shutdown(ctx context.Context) error {
	if r.cancel != nil {
		r.cancel()
	}
	err := r.closeSource()
	r.wg.Wait() // the read-back workers have read what was queued
	if r.pipe != nil {
		r.flush(ctx)
		r.out.drain(ctx)
	}
	if r.tb != nil {
		r.tb.Shutdown()
	}
	return err
}

func (r *ebpfReceiver) closeSource() error {
	if r.src == nil {
		return nil
	}
	err := r.src.Close()
	if err != nil {
		return fmt.Errorf("ebpf receiver: detaching: %w", err)
	}
	return nil
}

// hostInfo reads host.name and host.id (the machine id) under the host root.
func hostInfo(cfg *Config) records.Host {
	var h records.Host
	for _, f := range []string{"etc/machine-id", "var/lib/dbus/machine-id"} {
		if b, err := os.ReadFile(filepath.Join(cfg.HostRoot, f)); err == nil {
			h.ID = strings.TrimSpace(string(b))
			break
		}
	}
	if cfg.HostRoot != "/" {
		if b, err := os.ReadFile(filepath.Join(cfg.HostRoot, "etc/hostname")); err == nil {
			h.Name = strings.TrimSpace(string(b))
		}
	}
	if h.Name == "" {
		h.Name, _ = os.Hostname()
	}
	return h
}
