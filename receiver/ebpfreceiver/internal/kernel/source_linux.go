//go:build linux && amd64

package kernel // import "github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/kernel"

import (
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
	reader  *ringbuf.Reader
	started bool
	closed  bool

	parseErrors atomic.Uint64
}

var _ event.Source = (*Source)(nil)

// New checks opts and returns a Source that is not started yet. Zero values in opts take the
// defaults (4 MiB ring, 100 ms polling, 4 KiB argv and env, /dev/cpu/ always watched).
func New(opts event.Options, logger *zap.Logger) (event.Source, error) {
	o, err := withDefaults(opts)
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = zap.NewNop()
	}
	return &Source{opts: o, logger: logger, lim: decodeLimits{maxArgs: o.ArgvMaxArgs, maxEnv: o.EnvMaxVars}}, nil
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
		return fmt.Errorf("opening the ring buffer reader: %w", err)
	}
	s.reader = rd
	s.started = true
	s.logger.Info("eBPF programs attached", zap.Int("programs", len(active)), zap.String("cgroup_root", cgroupRoot),
		zap.Int("ring_buffer_bytes", s.opts.RingBufferSize))
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
	var excl [MaxExcludePIDs]uint32
	copy(excl[:], s.opts.ExcludePIDs)
	wake := uint64(s.opts.RingBufferSize / 4)
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
	for p, flags := range table {
		key := probesLpmKey{Prefixlen: uint32(len(p) * 8)}
		copy(chars(key.Data[:]), p)
		if err := m.Put(&key, flags); err != nil {
			return fmt.Errorf("adding watched prefix %q: %w", p, err)
		}
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

// Run reads records until ctx is done or the source is closed. The reader is not woken per record:
// it drains the ring every PollInterval (and sooner when the kernel sees a backlog).
func (s *Source) Run(ctx context.Context, fn func(*event.Event)) error {
	s.mu.Lock()
	rd := s.reader
	s.mu.Unlock()
	if rd == nil {
		return errors.New("ebpf source: Run before Start")
	}
	var (
		rec ringbuf.Record
		ev  event.Event
	)
	for {
		if ctx.Err() != nil {
			return nil
		}
		rd.SetDeadline(time.Now().Add(s.opts.PollInterval))
		for {
			err := rd.ReadInto(&rec)
			if err != nil {
				if errors.Is(err, os.ErrDeadlineExceeded) {
					break
				}
				if errors.Is(err, os.ErrClosed) || errors.Is(err, ringbuf.ErrFlushed) {
					return nil
				}
				return fmt.Errorf("reading the ring buffer: %w", err)
			}
			if err := decode(rec.RawSample, s.lim, &ev); err != nil {
				s.parseErrors.Add(1)
				continue
			}
			fn(&ev)
			if ctx.Err() != nil {
				return nil
			}
		}
	}
}

// Stats returns the kernel-side loss per kind, parse errors and ring fill.
func (s *Source) Stats() event.Stats {
	st := event.Stats{ParseErrors: s.parseErrors.Load(), RingSize: uint64(s.opts.RingBufferSize)}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.coll == nil || s.closed {
		return st
	}
	if m := s.coll.Maps["lost"]; m != nil {
		for k := uint32(0); k < uint32(event.KindCount); k++ {
			var per []uint64
			if err := m.Lookup(k, &per); err == nil {
				for _, v := range per {
					st.Lost[k] += v
				}
			}
		}
	}
	if s.reader != nil {
		st.RingUsed = uint64(s.reader.AvailableBytes())
	}
	return st
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
	if s.reader != nil {
		errs = append(errs, s.reader.Close())
		s.reader = nil
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
