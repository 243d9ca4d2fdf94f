//go:build linux && amd64

package kernel // import "github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/kernel"

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"
	"go.uber.org/zap"
	"golang.org/x/sys/unix"

	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/event"
)

// Source is the eBPF event source. Build it with New.
type Source struct {
	opts   event.Options
	logger *zap.Logger
	lim    decodeLimits

	mu      sync.Mutex
	coll    *ebpf.Collection
	links   []link.Link
	reader  *ringbuf.Reader // bulk ring
	life    *ringbuf.Reader // lifecycle ring, read first
	wake    *ringWait       // parks the reader until a ring's backlog wakes it or the poll interval ends
	started bool
	closed  bool

	parseErrors atomic.Uint64
}

var _ event.Source = (*Source)(nil)

// New checks opts and returns a Source that is not started yet. Zero values in opts take the
// defaults (4 MiB bulk ring, 8 MiB lifecycle ring, 100 ms polling, 4 KiB argv and env, /dev/cpu/ always watched).
func New(opts event.Options, logger *zap.Logger) (event.Source, error) {
	o, err := withDefaults(opts)
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = zap.NewNop()
	}
	return &Source{opts: o, logger: logger, lim: decodeLimits{maxArgs: o.ArgvMaxArgs, maxEnv: o.EnvMaxVars, comms: new(commCache), bufs: new(splitBufs)}}, nil
}

// Start loads and attaches every program of the enabled families. On error everything already
// attached is detached and the error names what is missing and how to fix it.
func (s *Source) Start() (err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("ebpf source: Start after Close")
	}
	if s.started {
		return errors.New("ebpf source: already started")
	}
	defer func() {
		if err != nil {
			s.release()
		}
	}()
	if err := checkCapabilities(); err != nil {
		return err
	}
	if err := checkBTF(); err != nil {
		return err
	}
	events, err := ensureTracefs()
	if err != nil {
		return err
	}
	cgroupRoot := s.opts.CgroupRoot
	if cgroupRoot == "" && s.needsCgroup() {
		if cgroupRoot, err = cgroup2Root(); err != nil {
			return err
		}
	}

	spec, err := loadProbes()
	if err != nil {
		return fmt.Errorf("reading the embedded BPF object: %w", err)
	}
	active, err := s.selectHooks(spec, events)
	if err != nil {
		return err
	}
	if err := s.configure(spec); err != nil {
		return err
	}
	coll, err := ebpf.NewCollectionWithOptions(spec, ebpf.CollectionOptions{})
	if err != nil {
		return loadError(err)
	}
	s.coll = coll
	if err := s.fillPrefixes(); err != nil {
		return err
	}
	for _, h := range active {
		l, err := attach(h, coll.Programs[h.prog], cgroupRoot)
		if err != nil {
			return err
		}
		s.links = append(s.links, l)
	}
	rd, err := ringbuf.NewReader(coll.Maps["events"])
	if err != nil {
		return fmt.Errorf("opening the bulk ring buffer reader: %w", err)
	}
	s.reader = rd
	if s.life, err = ringbuf.NewReader(coll.Maps["lifecycle"]); err != nil {
		return fmt.Errorf("opening the lifecycle ring buffer reader: %w", err)
	}
	if s.wake, err = newRingWait(coll.Maps["lifecycle"].FD(), coll.Maps["events"].FD()); err != nil {
		return err
	}
	s.started = true
	s.logger.Info("eBPF programs attached", zap.Int("programs", len(active)), zap.String("cgroup_root", cgroupRoot),
		zap.Int("ring_buffer_bytes", s.opts.RingBufferSize), zap.Int("lifecycle_ring_buffer_bytes", s.opts.LifecycleRingSize))
	return nil
}

func (s *Source) needsCgroup() bool {
	return s.opts.Network || s.opts.DNS || s.opts.Sysctl || s.opts.Payload
}

func boolU32(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

// selectHooks drops the programs of disabled families and of optional tracepoints this kernel lacks,
// and fails on a missing required tracepoint.
func (s *Source) selectHooks(spec *ebpf.CollectionSpec, events string) ([]hook, error) {
	var active []hook
	known := map[string]bool{}
	for _, h := range hooks {
		known[h.prog] = true
		keep := hookOn(s.opts, h)
		if keep && h.kind == attachTracepoint {
			if _, err := os.Stat(filepath.Join(events, h.group, h.name)); err != nil {
				if !h.optional {
					return nil, fmt.Errorf("required tracepoint %s/%s is missing from %s: the kernel needs CONFIG_FTRACE_SYSCALLS", h.group, h.name, events)
				}
				s.logger.Info("optional tracepoint not available, hook skipped", zap.String("tracepoint", h.group+"/"+h.name))
				keep = false
			}
		}
		if keep {
			active = append(active, h)
		} else {
			delete(spec.Programs, h.prog)
		}
	}
	for name := range spec.Programs {
		if !known[name] {
			delete(spec.Programs, name) // a program without an attach rule is never loaded
		}
	}
	return active, nil
}

func (s *Source) configure(spec *ebpf.CollectionSpec) error {
	spec.Maps["events"].MaxEntries = uint32(s.opts.RingBufferSize)
	spec.Maps["lifecycle"].MaxEntries = uint32(s.opts.LifecycleRingSize)
	var excl [MaxExcludePIDs]uint32
	copy(excl[:], s.opts.ExcludePIDs)
	wake := uint64(min(s.opts.RingBufferSize, s.opts.LifecycleRingSize) / 4)
	if wake > 256<<10 {
		wake = 256 << 10
	}
	table, err := prefixTable(s.opts.WatchedPrefixes, s.opts.AlwaysPrefixes)
	if err != nil {
		return err
	}
	alwaysHeads, alwaysMasks, alwaysN := prefixHeads(table, pfxAlways)
	anyHeads, anyMasks, anyN := prefixHeads(table, 0)
	vars := map[string]any{
		"always_heads_n": alwaysN,
		"always_heads":   alwaysHeads,
		"always_masks":   alwaysMasks,
		"any_heads_n":    anyN,
		"any_heads":      anyHeads,
		"any_masks":      anyMasks,
		"exclude_tgids":  excl,
		"wakeup_bytes":   wake,
		"args_max":       uint32(s.opts.ArgvMaxBytes),
		"env_max":        uint32(s.opts.EnvMaxBytes),
		"payload_on":     boolU32(s.opts.Payload),
		"dns_on":         boolU32(s.opts.DNS),
		"connect_on":     boolU32(s.opts.Network),
		"host_mnt_ns":    s.opts.HostMountNS,
	}
	for name, v := range vars {
		vs, ok := spec.Variables[name]
		if !ok {
			return fmt.Errorf("BPF object has no variable %q (stale generated object? run make generate)", name)
		}
		if err := vs.Set(v); err != nil {
			return fmt.Errorf("setting BPF variable %s: %w", name, err)
		}
	}
	return nil
}

func (s *Source) fillPrefixes() error {
	m := s.coll.Maps["prefixes"]
	if m == nil {
		return nil
	}
	table, err := prefixTable(s.opts.WatchedPrefixes, s.opts.AlwaysPrefixes)
	if err != nil {
		return err
	}
	put := func(p string, flags uint32) error {
		key := probesLpmKey{Prefixlen: uint32(len(p) * 8)}
		copy(chars(key.Data[:]), p)
		return m.Put(&key, flags)
	}
	for p, flags := range table {
		if err := put(p, flags); err != nil {
			return fmt.Errorf("adding watched prefix %q: %w", p, err)
		}
	}
	anc := s.coll.Maps["ancestors"]
	if anc == nil {
		return nil
	}
	putDir := func(d string, kind uint8) error {
		var key probesAncKey
		copy(chars(key.Data[:]), d)
		return anc.Put(&key, kind)
	}
	dirs := prefixAncestors(table)
	if len(dirs) > MaxAncestors {
		return fmt.Errorf("watched prefixes: %d directories above them, at most %d", len(dirs), MaxAncestors)
	}
	for d, kind := range dirs {
		if err := putDir(d, kind); err != nil {
			return fmt.Errorf("adding the directory %q above watched prefixes: %w", d, err)
		}
	}
	s.lim.aliases = newAliasWatch(table, min(DefaultMaxAliasPrefixes, MaxPrefixes-len(table)), put, putDir)
	s.lim.aliases.onDrop = func(link string) {
		s.logger.Warn("symlinks to watched places: prefix budget spent, later links are reported but not followed",
			zap.String("link", link), zap.Int("budget", DefaultMaxAliasPrefixes))
	}
	return nil
}

func loadError(err error) error {
	var ve *ebpf.VerifierError
	if errors.As(err, &ve) {
		log := ve.Log
		if len(log) > 20 {
			log = log[len(log)-20:]
		}
		return fmt.Errorf("the kernel verifier refused a BPF program: %v\n%s", err, strings.Join(log, "\n"))
	}
	if errors.Is(err, os.ErrPermission) {
		return fmt.Errorf("loading BPF programs: %w (missing CAP_BPF/CAP_PERFMON, or lockdown forbids it)", err)
	}
	return fmt.Errorf("loading BPF programs: %w", err)
}

func attach(h hook, prog *ebpf.Program, cgroupRoot string) (link.Link, error) {
	if prog == nil {
		return nil, fmt.Errorf("program %s missing from the loaded collection", h.prog)
	}
	var (
		l   link.Link
		err error
	)
	switch h.kind {
	case attachTPBTF:
		l, err = link.AttachTracing(link.TracingOptions{Program: prog, AttachType: ebpf.AttachTraceRawTp})
		if err != nil {
			return nil, fmt.Errorf("attaching %s to BTF tracepoint %s: %w", h.prog, h.name, err)
		}
	case attachTracepoint:
		l, err = link.Tracepoint(h.group, h.name, prog, nil)
		if err != nil {
			return nil, fmt.Errorf("attaching %s to tracepoint %s/%s: %w", h.prog, h.group, h.name, err)
		}
	case attachCgroup:
		l, err = link.AttachCgroup(link.CgroupOptions{Path: cgroupRoot, Attach: cgroupAttachType(h.prog), Program: prog})
		if err != nil {
			return nil, fmt.Errorf("attaching %s to cgroup %s: %w", h.prog, cgroupRoot, err)
		}
	}
	return l, nil
}

func cgroupAttachType(prog string) ebpf.AttachType {
	switch prog {
	case "handle_connect4":
		return ebpf.AttachCGroupInet4Connect
	case "handle_connect6":
		return ebpf.AttachCGroupInet6Connect
	case "handle_dns_egress":
		return ebpf.AttachCGroupInetEgress
	case "handle_dns_ingress":
		return ebpf.AttachCGroupInetIngress
	case "handle_sysctl":
		return ebpf.AttachCGroupSysctl
	}
	return ebpf.AttachNone
}

// bulkBatch is how many bulk records are read between two looks at the lifecycle ring.
const bulkBatch = 256

// flushPeriod is how often the rate limiter's ended windows are collected.
const flushPeriod = time.Second

// Run reads records until ctx is done or the source is closed. The reader is not woken per record:
// it drains the lifecycle ring, then reads the bulk ring in batches, draining the lifecycle ring
// again between them, so that exec and exit records are read first whatever the bulk ring holds;
// then it parks until PollInterval has passed or the kernel wakes it because a ring has a backlog.
// Every read is nonblocking and the wait is the runtime's poller, so no thread sits in a blocking
// system call between polls.
func (s *Source) Run(ctx context.Context, fn func(*event.Event)) error {
	s.mu.Lock()
	rd, life, wake := s.reader, s.life, s.wake
	s.mu.Unlock()
	if rd == nil || life == nil || wake == nil {
		return errors.New("ebpf source: Run before Start")
	}
	defer context.AfterFunc(ctx, wake.interrupt)()
	var (
		rec       ringbuf.Record
		ev        event.Event
		lastFlush = time.Now()
	)
	deliver := func() {
		if err := decode(rec.RawSample, s.lim, &ev); err != nil {
			s.parseErrors.Add(1)
			return
		}
		fn(&ev)
	}
	past := time.Unix(0, 1) // a deadline in the past: read what is there, do not wait (zero means none)
	rd.SetDeadline(past)
	life.SetDeadline(past)
	// drain reads what r holds (at most max records when max > 0); done says whether the source is
	// closed or ctx is done.
	drain := func(r *ringbuf.Reader, max int) (n int, done bool, err error) {
		for max <= 0 || n < max {
			if err := r.ReadInto(&rec); err != nil {
				if errors.Is(err, os.ErrDeadlineExceeded) {
					return n, false, nil
				}
				if errors.Is(err, os.ErrClosed) || errors.Is(err, ringbuf.ErrFlushed) {
					return n, true, nil
				}
				return n, true, fmt.Errorf("reading the ring buffer: %w", err)
			}
			n++
			deliver()
			if ctx.Err() != nil {
				return n, true, nil
			}
		}
		return n, false, nil
	}
	for {
		if ctx.Err() != nil {
			return nil
		}
		if _, done, err := drain(life, 0); done || err != nil {
			return err
		}
		for {
			n, done, err := drain(rd, bulkBatch)
			if done || err != nil {
				return err
			}
			if life.AvailableBytes() > 0 {
				if _, done, err := drain(life, 0); done || err != nil {
					return err
				}
			}
			if n < bulkBatch {
				break
			}
		}
		if time.Since(lastFlush) >= flushPeriod {
			lastFlush = time.Now()
			s.flushSuppressed(fn)
		}
		if done, err := wake.wait(time.Now().Add(s.opts.PollInterval)); done || err != nil {
			return err
		}
	}
}

// flushSuppressed sends the summaries of rate-limit windows that ended with no record after them
// (the kernel sends a window's summary only when the next record of its kind and content comes),
// and deletes every entry idle that long, counted or not, so that the kernel's table (a plain hash,
// which never drops a count on its own) keeps room. An entry is taken once its window ended a whole
// window ago and nothing was counted in it since, so the kernel is not about to send it too.
func (s *Source) flushSuppressed(fn func(*event.Event)) {
	s.mu.Lock()
	var m *ebpf.Map
	if s.coll != nil {
		m = s.coll.Maps["ratelimit"]
	}
	s.mu.Unlock()
	if m == nil {
		return
	}
	now, err := bootNS()
	if err != nil {
		return
	}
	window := uint64(probesRecordBoundRL_WINDOW_MS) * uint64(time.Millisecond)
	var (
		key  []byte
		val  []byte
		keys [][]byte
		ev   event.Event
	)
	it := m.Iterate()
	for it.Next(&key, &val) {
		r := view[probesSuppressedRec](val)
		if r == nil || now < r.FirstNs+2*window || now < r.LastNs+window {
			continue
		}
		keys = append(keys, bytes.Clone(key))
	}
	for _, k := range keys {
		if err := m.LookupAndDelete(k, &val); err != nil {
			continue
		}
		if err := decode(bytes.Clone(val), s.lim, &ev); err != nil || ev.Suppressed == nil || ev.Suppressed.Count == 0 {
			continue
		}
		ev.BootNS = now
		fn(&ev)
	}
}

// bootNS is CLOCK_BOOTTIME, the clock of bpf_ktime_get_boot_ns.
func bootNS() (uint64, error) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		return 0, err
	}
	return uint64(ts.Nano()), nil
}

// Stats returns the kernel-side loss per kind, parse errors and ring fill.
func (s *Source) Stats() event.Stats {
	st := event.Stats{ParseErrors: s.parseErrors.Load(), RingSize: uint64(s.opts.RingBufferSize),
		LifecycleSize: uint64(s.opts.LifecycleRingSize)}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.coll == nil || s.closed {
		return st
	}
	sumPerCPU(s.coll.Maps["lost"], &st.Lost)
	sumPerCPU(s.coll.Maps["suppressed"], &st.Suppressed)
	for k := event.Kind(0); k < event.KindCount; k++ {
		if k.Lifecycle() {
			st.LifecycleLost += st.Lost[k]
		}
	}
	if s.reader != nil {
		st.RingUsed = uint64(s.reader.AvailableBytes())
	}
	if s.life != nil {
		st.LifecycleUsed = uint64(s.life.AvailableBytes())
	}
	return st
}

// sumPerCPU adds up a per-CPU array of counters indexed by kind.
func sumPerCPU(m *ebpf.Map, out *[event.KindCount]uint64) {
	if m == nil {
		return
	}
	for k := uint32(0); k < uint32(event.KindCount); k++ {
		var per []uint64
		if err := m.Lookup(k, &per); err == nil {
			for _, v := range per {
				out[k] += v
			}
		}
	}
}

// Close detaches everything; it is safe to call more than once and without Start.
func (s *Source) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return s.release()
}

// release closes the reader, links and collection (reverse order of Start). Caller holds mu.
func (s *Source) release() error {
	var errs []error
	if s.wake != nil {
		errs = append(errs, s.wake.close())
		s.wake = nil
	}
	if s.reader != nil {
		errs = append(errs, s.reader.Close())
		s.reader = nil
	}
	if s.life != nil {
		errs = append(errs, s.life.Close())
		s.life = nil
	}
	for i := len(s.links) - 1; i >= 0; i-- {
		errs = append(errs, s.links[i].Close())
	}
	s.links = nil
	if s.coll != nil {
		s.coll.Close()
		s.coll = nil
	}
	s.started = false
	return errors.Join(errs...)
}
