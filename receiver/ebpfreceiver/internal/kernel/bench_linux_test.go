//go:build linux && amd64

package kernel

// Benchmarks of the kernel side; bench/kernel.sh runs them with the settings recorded in
// BENCHMARKS.md. Durations and rounds come from the environment so that the same code serves a quick
// check and the 60 s storm:
//   CC_BENCH_SECONDS (default 5)  CC_BENCH_WORKERS (default 1)  CC_BENCH_ROUNDS (default 3)

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"go.uber.org/zap"
	"golang.org/x/sys/unix"

	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/event"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// benchSource starts a source with every family on and a reader that counts this process's exec
// children; stop it with the returned function.
func benchSource(b *testing.B, opts event.Options) (*Source, *atomic.Uint64, func()) {
	b.Helper()
	if os.Geteuid() != 0 {
		b.Skip("needs root")
	}
	src, err := New(opts, zap.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	s := src.(*Source)
	if err := s.Start(); err != nil {
		b.Fatal(err)
	}
	var mine atomic.Uint64
	me := uint32(os.Getpid())
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = s.Run(ctx, func(ev *event.Event) {
			if ev.Kind == event.KindExec && ev.Proc.PPID == me {
				mine.Add(1)
			}
		})
	}()
	return s, &mine, func() {
		time.Sleep(3 * s.opts.PollInterval) // let the reader drain
		cancel()
		wg.Wait()
		s.Close()
	}
}

// execLoop runs /bin/true from workers goroutines for d and returns how many ran.
func execLoop(b *testing.B, workers int, d time.Duration) uint64 {
	var n atomic.Uint64
	end := time.Now().Add(d)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(end) {
				if err := exec.Command("/bin/true").Run(); err != nil {
					b.Error(err)
					return
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	return n.Load()
}

// allOn enables every family, or only those named in CC_BENCH_FAMILIES (comma-separated:
// exec,exit,rename,network,dns,files,sysctl,kill,fpu,payload), to split an overhead by family.
func allOn() event.Options {
	o := allFamilies()
	if list := os.Getenv("CC_BENCH_FAMILIES"); list != "" {
		on := map[string]bool{}
		for _, f := range strings.Split(list, ",") {
			on[strings.TrimSpace(f)] = true
		}
		o = event.Options{Exec: on["exec"], Exit: on["exit"], Rename: on["rename"], Network: on["network"],
			DNS: on["dns"], Files: on["files"], Sysctl: on["sysctl"], Kill: on["kill"], FPU: on["fpu"], Payload: on["payload"]}
	}
	o.EnvMaxBytes = envInt("CC_BENCH_ENV_MAX", 0) // 0: the default bound
	o.WatchedPrefixes = []string{"/etc/cron", "/var/spool/cron/", "/etc/systemd/", "/proc/sys/vm/", "/sys/kernel/mm/hugepages/"}
	return o
}

// progStats returns run time per run for the programs that ran.
func progStats(s *Source) map[string]time.Duration {
	out := map[string]time.Duration{}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.coll == nil {
		return out
	}
	for name, p := range s.coll.Programs {
		st, err := p.Stats()
		if err != nil || st.RunCount == 0 {
			continue
		}
		out[name] = st.Runtime / time.Duration(st.RunCount)
		out[name+"#runs"] = time.Duration(st.RunCount)
	}
	return out
}

func reportProgs(b *testing.B, st map[string]time.Duration, names ...string) {
	for _, n := range names {
		if d, ok := st[n]; ok {
			b.ReportMetric(float64(d.Nanoseconds()), n+"_ns/run")
		}
	}
}

// BenchmarkExecStorm: sustained exec storm with the source attached; loss must be zero at the
// default ring with one worker, and exactly counted with two.
func BenchmarkExecStorm(b *testing.B) {
	seconds := envInt("CC_BENCH_SECONDS", 5)
	workers := envInt("CC_BENCH_WORKERS", 1)
	stats, err := ebpf.EnableStats(unix.BPF_STATS_RUN_TIME)
	if err != nil {
		b.Fatal(err)
	}
	defer stats.Close()
	s, mine, stop := benchSource(b, allOn())
	b.ResetTimer()
	n := execLoop(b, workers, time.Duration(seconds)*time.Second)
	b.StopTimer()
	ps := progStats(s)
	st := s.Stats()
	stop()
	var lost uint64
	for _, v := range st.Lost {
		lost += v
	}
	b.ReportMetric(float64(n)/float64(seconds), "exec/s")
	b.ReportMetric(float64(n), "execs")
	b.ReportMetric(float64(mine.Load()), "exec_events")
	b.ReportMetric(float64(st.Lost[event.KindExec]), "lost_exec")
	b.ReportMetric(float64(lost), "lost_all")
	reportProgs(b, ps, "handle_exec", "handle_exit", "handle_execve_exit", "handle_openat_enter",
		"handle_openat_exit", "handle_rename")
	if lost == 0 && mine.Load() != n {
		b.Errorf("no loss counted but %d exec events for %d execs", mine.Load(), n)
	}
	if mine.Load()+st.Lost[event.KindExec] < n {
		b.Errorf("received %d + lost %d < %d execs", mine.Load(), st.Lost[event.KindExec], n)
	}
}

// interleave runs work alternately without and with the source, rounds times, and reports the
// median rates and the slowdown.
func interleave(b *testing.B, unit string, work func(time.Duration) uint64) {
	interleaveWith(b, unit, func() func() {
		_, _, stop := benchSource(b, allOn())
		return stop
	}, work)
}

// interleaveWith is interleave with another thing attached in the "with" rounds.
func interleaveWith(b *testing.B, unit string, attach func() (stop func()), work func(time.Duration) uint64) {
	seconds := envInt("CC_BENCH_SECONDS", 5)
	rounds := envInt("CC_BENCH_ROUNDS", 3)
	d := time.Duration(seconds) * time.Second
	var without, with []float64
	for r := 0; r < rounds; r++ {
		without = append(without, float64(work(d))/d.Seconds())
		stop := attach()
		with = append(with, float64(work(d))/d.Seconds())
		stop()
	}
	mw, mo := median(with), median(without)
	b.ReportMetric(mo, unit+"_without")
	b.ReportMetric(mw, unit+"_with")
	b.ReportMetric(100*(mo-mw)/mo, "slowdown_%")
	// Each round's pair ran back to back, so the median of the per-pair slowdowns is less exposed
	// to the machine's slow drift (other guests on the host) than the difference of the medians.
	var pairs []float64
	for r := range with {
		pairs = append(pairs, 100*(without[r]-with[r])/without[r])
	}
	b.ReportMetric(median(pairs), "paired_slowdown_%")
	b.Logf("without %v\nwith    %v", without, with)
}

// minOf is the least disturbed of the rounds: interference from other load only ever adds time.
func minOf(v []float64) float64 {
	m := v[0]
	for _, x := range v[1:] {
		m = min(m, x)
	}
	return m
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}

// BenchmarkExecOverhead: exec throughput without vs with the source (kernel side + reader only).
func BenchmarkExecOverhead(b *testing.B) {
	interleave(b, "exec/s", func(d time.Duration) uint64 { return execLoop(b, 1, d) })
}

// BenchmarkConnectOverhead: loopback TCP connect+close throughput without vs with the source.
func BenchmarkConnectOverhead(b *testing.B) {
	interleave(b, "connect/s", connectLoop(b))
}

// connectLoop returns a loopback connect storm (dial and close against a local listener that
// accepts and closes), for the interleaved throughput benchmarks.
func connectLoop(b *testing.B) func(time.Duration) uint64 {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	addr := ln.Addr().String()
	return func(d time.Duration) uint64 {
		var n uint64
		for end := time.Now().Add(d); time.Now().Before(end); n++ {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				b.Fatal(err)
			}
			c.Close()
		}
		return n
	}
}

// BenchmarkConnectStormCost: where the in-kernel time of a loopback connect storm goes: for every
// program that ran, runs and nanoseconds per connect (bpf_stats), and their sum.
func BenchmarkConnectStormCost(b *testing.B) {
	stats, err := ebpf.EnableStats(unix.BPF_STATS_RUN_TIME)
	if err != nil {
		b.Fatal(err)
	}
	defer stats.Close()
	work := connectLoop(b)
	s, _, stop := benchSource(b, allOn())
	seconds := envInt("CC_BENCH_SECONDS", 5)
	n := work(time.Duration(seconds) * time.Second)
	ps := progStats(s)
	stop()
	var total time.Duration
	for name, per := range ps {
		if strings.HasSuffix(name, "#runs") {
			continue
		}
		runs := float64(ps[name+"#runs"])
		total += time.Duration(float64(per) * runs)
		b.Logf("%-24s %8.2f runs/connect %8.0f ns/connect", name, runs/float64(n), float64(per)*runs/float64(n))
	}
	b.ReportMetric(float64(n)/float64(seconds), "connect/s")
	b.ReportMetric(float64(total.Nanoseconds())/float64(n), "bpf_ns/connect")
}

// skeleton attaches every hook of every family with programs that do nothing (see emptyAll): the
// syscall slow path, the tracepoint and cgroup dispatch, and no work. Stop it with the result.
func skeleton(b *testing.B) func() {
	if os.Geteuid() != 0 {
		b.Skip("needs root")
	}
	src, err := New(allOn(), zap.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	events, err := ensureTracefs()
	if err != nil {
		b.Fatal(err)
	}
	root, err := cgroup2Root()
	if err != nil {
		b.Fatal(err)
	}
	spec, err := loadProbes()
	if err != nil {
		b.Fatal(err)
	}
	active, err := src.(*Source).selectHooks(spec, events)
	if err != nil {
		b.Fatal(err)
	}
	emptyAll(spec)
	coll, err := ebpf.NewCollection(spec)
	if err != nil {
		b.Fatal(err)
	}
	var links []link.Link
	stop := func() {
		for i := len(links) - 1; i >= 0; i-- {
			links[i].Close()
		}
		coll.Close()
	}
	for _, h := range active {
		l, err := attach(h, coll.Programs[h.prog], root)
		if err != nil {
			stop()
			b.Fatal(err)
		}
		links = append(links, l)
	}
	return stop
}

// emptyAll replaces every program by one that returns at once (cgroup programs allow the operation).
func emptyAll(spec *ebpf.CollectionSpec) {
	for _, p := range spec.Programs {
		ret := int64(0)
		switch p.Type {
		case ebpf.CGroupSKB, ebpf.CGroupSockAddr, ebpf.CGroupSysctl:
			ret = 1
		}
		p.Instructions = asm.Instructions{asm.Mov.Imm(asm.R0, int32(ret)), asm.Return()}
	}
}

// BenchmarkConnectFloor / BenchmarkExecFloor: the storms with vs without the skeleton, i.e. the
// part of BenchmarkConnectOverhead / BenchmarkExecOverhead that no change to our programs (nor to
// the reader) can remove while these hooks are used.
func BenchmarkConnectFloor(b *testing.B) {
	interleaveWith(b, "connect/s", func() func() { return skeleton(b) }, connectLoop(b))
}

func BenchmarkExecFloor(b *testing.B) {
	interleaveWith(b, "exec/s", func() func() { return skeleton(b) }, func(d time.Duration) uint64 { return execLoop(b, 1, d) })
}

// BenchmarkHookFloor: in-kernel cost (bpf_stats), in the same exec storm as BenchmarkExecStorm, of
// programs that do (almost) nothing on the hooks handle_exec and handle_exit use: an empty program
// on tp_btf/sched_process_exec and on tp_btf/sched_process_exit, and one on sched_process_exit
// that reserves and submits a 96-byte ring record (a header's size, nothing written). What the
// real programs measure above these floors is what they read and copy; the floors themselves
// are the price of the hook and the ring in this workload (cold caches after every exec).
func BenchmarkHookFloor(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root")
	}
	stats, err := ebpf.EnableStats(unix.BPF_STATS_RUN_TIME)
	if err != nil {
		b.Fatal(err)
	}
	defer stats.Close()
	ring, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.RingBuf, MaxEntries: 4 << 20})
	if err != nil {
		b.Fatal(err)
	}
	defer ring.Close()
	empty := asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()}
	record := asm.Instructions{
		asm.LoadMapPtr(asm.R1, ring.FD()),
		asm.Mov.Imm(asm.R2, 96),
		asm.Mov.Imm(asm.R3, 0),
		asm.FnRingbufReserve.Call(),
		asm.JEq.Imm(asm.R0, 0, "out"),
		asm.Mov.Reg(asm.R1, asm.R0),
		asm.Mov.Imm(asm.R2, 0),
		asm.FnRingbufSubmit.Call(),
		asm.Mov.Imm(asm.R0, 0).WithSymbol("out"),
		asm.Return(),
	}
	progs := []struct {
		name, hook string
		ins        asm.Instructions
	}{
		{"empty_exec", "sched_process_exec", empty},
		{"empty_exit", "sched_process_exit", empty},
		{"record_exit", "sched_process_exit", record},
	}
	var loaded []*ebpf.Program
	for _, p := range progs {
		prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.Tracing, AttachType: ebpf.AttachTraceRawTp,
			AttachTo: p.hook, License: "GPL", Instructions: p.ins})
		if err != nil {
			b.Fatal(p.name, err)
		}
		defer prog.Close()
		l, err := link.AttachTracing(link.TracingOptions{Program: prog})
		if err != nil {
			b.Fatal(p.name, err)
		}
		defer l.Close()
		loaded = append(loaded, prog)
	}
	seconds := envInt("CC_BENCH_SECONDS", 5)
	n := execLoop(b, 1, time.Duration(seconds)*time.Second)
	b.ReportMetric(float64(n)/float64(seconds), "exec/s")
	for i, p := range progs {
		st, err := loaded[i].Stats()
		if err != nil || st.RunCount == 0 {
			b.Fatalf("%s: no runs (%v)", p.name, err)
		}
		b.ReportMetric(float64(st.Runtime.Nanoseconds())/float64(st.RunCount), p.name+"_ns/run")
	}
}

// getppidCPU returns the thread CPU time per getppid over calls calls: CPU time, not wall time, so
// that other engineers' builds on the same two vCPUs do not land in the figure while this thread
// waits for a CPU.
func getppidCPU(calls int) float64 {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var t0, t1 unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &t0)
	for i := 0; i < calls; i++ {
		unix.Getppid()
	}
	_ = unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &t1)
	return float64(t1.Nano()-t0.Nano()) / float64(calls)
}

// BenchmarkGetppid: cost of an unrelated syscall without and with the source (syscall tracepoints
// put every task on the slow syscall path).
func BenchmarkGetppid(b *testing.B) {
	rounds := envInt("CC_BENCH_ROUNDS", 3)
	const calls = 2_000_000
	loop := func() float64 { return getppidCPU(calls) }
	var without, with []float64
	for r := 0; r < rounds; r++ {
		without = append(without, loop())
		_, _, stop := benchSource(b, allOn())
		with = append(with, loop())
		stop()
	}
	b.ReportMetric(median(without), "ns/getppid_without")
	b.ReportMetric(median(with), "ns/getppid_with")
	b.ReportMetric(median(with)-median(without), "ns_added")
	b.ReportMetric(minOf(with)-minOf(without), "ns_added_min")
	b.Logf("without %v\nwith    %v", without, with)
}

// BenchmarkHookCost: in-kernel cost per program for the other families, from bpf_stats, driven by a
// mix of connects, DNS-port sends, watched-file writes, sysctl reads/writes and renames.
func BenchmarkHookCost(b *testing.B) {
	stats, err := ebpf.EnableStats(unix.BPF_STATS_RUN_TIME)
	if err != nil {
		b.Fatal(err)
	}
	defer stats.Close()
	dir := b.TempDir()
	opts := allOn()
	opts.WatchedPrefixes = append(opts.WatchedPrefixes, dir+"/")
	s, _, stop := benchSource(b, opts)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	u, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer u.Close()
	dns, err := net.Dial("udp", "127.0.0.1:53")
	if err != nil {
		b.Fatal(err)
	}
	defer dns.Close()
	const n = 5000
	for i := 0; i < n; i++ {
		if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
			c.Close()
		}
		_, _ = dns.Write(dnsQuery)
		p := fmt.Sprintf("%s/f%d", dir, i%10)
		_ = os.WriteFile(p, []byte("x"), 0o644)
		_, _ = os.ReadFile("/etc/hostname") // unrelated open: filtered in the kernel
		_, _ = os.ReadFile("/proc/sys/vm/swappiness")
	}
	ps := progStats(s)
	stop()
	reportProgs(b, ps, "handle_connect4", "handle_connect_enter", "handle_connect_exit", "handle_dns_egress",
		"handle_dns_ingress", "handle_openat_enter", "handle_openat_exit", "handle_sysctl", "handle_exit")
	for k, v := range ps {
		b.Logf("%-28s %v", k, v)
	}
}

// BenchmarkStatsFloor: what bpf_stats reports for an empty program on a syscall tracepoint on this
// machine. The per-hook figures include this floor (run-time accounting, VM and host load).
func BenchmarkStatsFloor(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root")
	}
	stats, err := ebpf.EnableStats(unix.BPF_STATS_RUN_TIME)
	if err != nil {
		b.Fatal(err)
	}
	defer stats.Close()
	if _, err := ensureTracefs(); err != nil {
		b.Fatal(err)
	}
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.TracePoint, License: "GPL",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()}})
	if err != nil {
		b.Fatal(err)
	}
	defer prog.Close()
	l, err := link.Tracepoint("syscalls", "sys_enter_getppid", prog, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	for i := 0; i < 1_000_000; i++ {
		unix.Getppid()
	}
	st, err := prog.Stats()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(st.Runtime.Nanoseconds())/float64(st.RunCount), "empty_prog_ns/run")
}

// noopTracepoint attaches an empty program to syscalls/<name>; close the returned link and program.
func noopTracepoint(b *testing.B, name string) func() {
	b.Helper()
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.TracePoint, License: "GPL",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()}})
	if err != nil {
		b.Fatal(err)
	}
	l, err := link.Tracepoint("syscalls", name, prog, nil)
	if err != nil {
		prog.Close()
		b.Fatal(err)
	}
	return func() { l.Close(); prog.Close() }
}

// BenchmarkGetppidFloor: what an unrelated syscall pays when a single empty program sits on some
// other syscall's tracepoint (enter, exit, both): the syscall slow path every task takes as soon as
// one syscalls/* tracepoint is enabled, independent of what the programs do or how many there are.
func BenchmarkGetppidFloor(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root")
	}
	if _, err := ensureTracefs(); err != nil {
		b.Fatal(err)
	}
	rounds := envInt("CC_BENCH_ROUNDS", 3)
	const calls = 2_000_000
	loop := func() float64 { return getppidCPU(calls) }
	var none, enter, exit, both []float64
	for r := 0; r < rounds; r++ {
		none = append(none, loop())
		stop := noopTracepoint(b, "sys_enter_kill")
		enter = append(enter, loop())
		stop2 := noopTracepoint(b, "sys_exit_kill")
		both = append(both, loop())
		stop()
		exit = append(exit, loop())
		stop2()
	}
	b.ReportMetric(median(none), "ns/getppid_none")
	b.ReportMetric(median(enter)-median(none), "ns_added_1_enter_noop")
	b.ReportMetric(median(exit)-median(none), "ns_added_1_exit_noop")
	b.ReportMetric(median(both)-median(none), "ns_added_enter+exit_noop")
	b.ReportMetric(minOf(both)-minOf(none), "ns_added_enter+exit_noop_min")
	b.ReportMetric(minOf(enter)-minOf(none), "ns_added_1_enter_noop_min")
	b.ReportMetric(minOf(exit)-minOf(none), "ns_added_1_exit_noop_min")
	b.Logf("none  %v\nenter %v\nexit  %v\nboth  %v", none, enter, exit, both)
}

// BenchmarkOpenFiltered: in-kernel cost of the openat hooks for opens that are filtered out (the
// common case): read-only opens of an unwatched file and read-write opens of /dev/null.
func BenchmarkOpenFiltered(b *testing.B) {
	stats, err := ebpf.EnableStats(unix.BPF_STATS_RUN_TIME)
	if err != nil {
		b.Fatal(err)
	}
	defer stats.Close()
	s, _, stop := benchSource(b, allOn())
	const n = 100_000
	for i := 0; i < n; i++ {
		if fd, err := unix.Open("/etc/hostname", unix.O_RDONLY, 0); err == nil {
			unix.Close(fd)
		}
		if fd, err := unix.Open("/dev/null", unix.O_RDWR, 0); err == nil {
			unix.Close(fd)
		}
	}
	ps := progStats(s)
	stop()
	reportProgs(b, ps, "handle_openat_enter", "handle_openat_exit")
}
