package cryptochainprocessor

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/metadata"
)

const (
	benchContexts   = 10000
	benchBatch      = 1000 // records per ConsumeLogs
	benchPerContext = 10   // records per ResourceLogs (one context's burst)
)

// benchResource fills the resource of context i the way the ebpf receiver does.
func benchResource(res pcommon.Resource, i int) {
	a := res.Attributes()
	a.PutStr("host.id", "5f0c3e2b9a7d4c1e8f6a2b3c4d5e6f70")
	a.PutStr("host.name", "node-17")
	a.PutStr("container.id", fmt.Sprintf("%064x", i/4))
	a.PutStr("process.linux.cgroup", fmt.Sprintf("0::/kubepods/burstable/pod%08x/%064x", i/4, i/4))
	a.PutStr("cryptochain.context.id", fmt.Sprintf("interactive_shell:%016x", i))
	a.PutStr("cryptochain.context.kind", "interactive_shell")
}

// benchRecord writes record n of a context: 95 % benign exec/connect/DNS/file records, 5 %
// indicator records (miner exec, pool DNS, cron write, hugepages) that build real chains.
func benchRecord(lr plog.LogRecord, n, pid int) {
	lr.SetTimestamp(pcommon.NewTimestampFromTime(base.Add(time.Duration(n) * time.Millisecond)))
	a := lr.Attributes()
	a.PutInt("process.pid", int64(pid))
	a.PutStr("process.creation.time", "2026-11-27T03:00:00.123456789Z")
	a.PutInt("process.parent_pid", 1000)
	anc := a.PutEmptySlice("cryptochain.process.ancestors")
	anc.AppendEmpty().SetInt(1000)
	anc.AppendEmpty().SetInt(1)
	a.PutStr("cryptochain.process.comm", "worker")
	switch k := n % 100; {
	case k == 0:
		lr.SetEventName("cryptochain.process.exec")
		a.PutStr("process.executable.path", "/tmp/.x/kworker")
		args := a.PutEmptySlice("process.command_args")
		for _, s := range []string{"/tmp/.x/kworker", "-o", "stratum+tcp://pool.supportxmr.com:3333", "-u", "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A", "--donate-level", "1"} {
			args.AppendEmpty().SetStr(s)
		}
		a.PutStr("process.command_line", "/tmp/.x/kworker -o stratum+tcp://pool.supportxmr.com:3333 -u 44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A --donate-level 1")
	case k == 1:
		lr.SetEventName("cryptochain.dns.query")
		a.PutStr("process.executable.path", "/tmp/.x/kworker")
		a.PutStr("dns.question.name", "pool.supportxmr.com")
		a.PutStr("cryptochain.dns.question.type", "A")
	case k == 2:
		lr.SetEventName("cryptochain.file.write")
		a.PutStr("process.executable.path", "/usr/bin/crontab")
		a.PutStr("file.path", "/var/spool/cron/crontabs/root")
		a.PutStr("cryptochain.file.operation", "rename")
		a.PutStr("cryptochain.file.result", "ok")
		a.PutStr("cryptochain.file.content", "* * * * * /tmp/.x/kworker -c /tmp/.x/config.json\n")
	case k == 3:
		lr.SetEventName("cryptochain.sysctl.write")
		a.PutStr("process.executable.path", "/usr/sbin/sysctl")
		a.PutStr("cryptochain.sysctl.name", "vm.nr_hugepages")
		a.PutStr("cryptochain.sysctl.value", "1280")
		a.PutStr("file.path", "/proc/sys/vm/nr_hugepages")
	case k == 4:
		lr.SetEventName("cryptochain.process.exit")
		a.PutInt("process.exit.code", 0)
		a.PutDouble("cryptochain.process.cpu.time", 12.5)
	case k < 40:
		lr.SetEventName("cryptochain.process.exec")
		a.PutStr("process.executable.path", "/usr/bin/git")
		args := a.PutEmptySlice("process.command_args")
		for _, s := range []string{"git", "-C", "/home/dev/src/project", "status", "--porcelain"} {
			args.AppendEmpty().SetStr(s)
		}
		a.PutStr("process.command_line", "git -C /home/dev/src/project status --porcelain")
		a.PutStr("process.working_directory", "/home/dev/src/project")
		a.PutInt("process.user.id", 1000)
		a.PutStr("process.environment_variable.PATH", "/usr/local/bin:/usr/bin:/bin")
		a.PutStr("process.environment_variable.HOME", "/home/dev")
		a.PutStr("process.environment_variable.LANG", "C.UTF-8")
	case k < 65:
		lr.SetEventName("cryptochain.network.connect")
		a.PutStr("process.executable.path", "/usr/bin/curl")
		a.PutStr("server.address", "203.0.113.10")
		a.PutInt("server.port", 443)
		a.PutStr("network.transport", "tcp")
		a.PutStr("network.type", "ipv4")
		a.PutStr("cryptochain.connect.result", "ok")
	case k < 85:
		lr.SetEventName("cryptochain.dns.query")
		a.PutStr("process.executable.path", "/usr/bin/curl")
		a.PutStr("dns.question.name", "api.github.com")
		a.PutStr("cryptochain.dns.question.type", "A")
		a.PutInt("cryptochain.dns.id", 4711)
	default:
		lr.SetEventName("cryptochain.file.write")
		a.PutStr("process.executable.path", "/usr/bin/vim")
		a.PutStr("file.path", "/home/dev/src/project/main.go")
		a.PutStr("cryptochain.file.operation", "open")
		a.PutStr("cryptochain.file.result", "ok")
		a.PutInt("cryptochain.file.flags", 577)
	}
}

// benchBatches builds enough batches to cycle through all contexts.
func benchBatches() []plog.Logs {
	var out []plog.Logs
	ctxPerBatch := benchBatch / benchPerContext
	n := 0
	for first := 0; first < benchContexts; first += ctxPerBatch {
		ld := plog.NewLogs()
		for c := first; c < first+ctxPerBatch; c++ {
			rl := ld.ResourceLogs().AppendEmpty()
			benchResource(rl.Resource(), c)
			lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
			for r := 0; r < benchPerContext; r++ {
				benchRecord(lrs.AppendEmpty(), n, 20000+c)
				n++
			}
		}
		out = append(out, ld)
	}
	return out
}

func newBenchProcessor(b *testing.B, cfg *Config) processor.Logs {
	set := processortest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = componenttest.NewNopTelemetrySettings()
	p, err := NewFactory().CreateLogs(context.Background(), set, cfg, consumertest.NewNop())
	require.NoError(b, err)
	require.NoError(b, p.Start(context.Background(), componenttest.NewNopHost()))
	b.Cleanup(func() { require.NoError(b, p.Shutdown(context.Background())) })
	return p
}

// BenchmarkConsumeLogs measures the realistic mix through ConsumeLogs with the real classifier.
// One op is one batch of benchBatch records; ns/record and allocs/op are reported (allocs/record =
// allocs/op / 1000).
//
// "hot" variants: like a receiver's fresh batch, each batch is a new copy made just before the call
// (outside the timer), so it is in the CPU caches as it would be in a pipeline, and the collector of
// those copies runs outside the timer too (GC is paused while timing and run every 64 batches with
// the timer stopped): the figure is the processor's own cost. "cold" replays the same 100 prepared
// batches (150 MB, never in cache) without copying: a pessimistic bound dominated by memory latency.
func BenchmarkConsumeLogs(b *testing.B) {
	batches := benchBatches()
	run := func(b *testing.B, forward string, hot bool) {
		cfg := createDefaultConfig().(*Config)
		cfg.Forward = forward
		p := newBenchProcessor(b, cfg)
		if hot {
			defer debug.SetGCPercent(debug.SetGCPercent(-1))
		}
		var cpu time.Duration // process CPU time spent inside ConsumeLogs (robust on a shared machine)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; b.Loop(); i++ {
			ld := batches[i%len(batches)]
			if hot {
				b.StopTimer()
				if i%64 == 0 {
					runtime.GC()
				}
				ld = plog.NewLogs()
				batches[i%len(batches)].CopyTo(ld)
				b.StartTimer()
			}
			c0 := cpuTime()
			if err := p.ConsumeLogs(context.Background(), ld); err != nil {
				b.Fatal(err)
			}
			cpu += cpuTime() - c0
		}
		b.StopTimer()
		ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N*benchBatch)
		b.ReportMetric(ns, "ns/record")
		b.ReportMetric(1e9/ns, "records/s")
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*benchBatch), "cpu-ns/record")
	}
	b.Run("forward=indicators/hot", func(b *testing.B) { run(b, ForwardIndicators, true) })
	b.Run("forward=all/hot", func(b *testing.B) { run(b, ForwardAll, true) })
	b.Run("forward=all/cold", func(b *testing.B) { run(b, ForwardAll, false) })
}

// BenchmarkMemoryPerContext fills 100,000 contexts with one piece of Miner evidence each and
// reports the heap growth per context; benign-only contexts are measured too (they keep no state).
func BenchmarkMemoryPerContext(b *testing.B) {
	const contexts = 100000
	for _, tc := range []struct {
		name     string
		evidence bool
		record   int // benchRecord kind: 1 = pool DNS query (one item), 0 = miner exec (several items)
	}{{"pool_dns_evidence", true, 1}, {"miner_exec_evidence", true, 0}, {"benign_only", false, 10}} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				cfg := createDefaultConfig().(*Config)
				cfg.MaxContexts = contexts
				cfg.MaxStateBytes = 1 << 40 // unbounded: the cost of one context, not the budget's bound
				p := newBenchProcessor(b, cfg)
				// Measured from before the input exists, so the input's memory never counts.
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				var batches []plog.Logs
				for first := 0; first < contexts; first += 1000 {
					ld := plog.NewLogs()
					for c := first; c < first+1000; c++ {
						rl := ld.ResourceLogs().AppendEmpty()
						benchResource(rl.Resource(), c)
						lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
						benchRecord(lr, tc.record, 20000+c)
					}
					batches = append(batches, ld)
				}
				for _, ld := range batches {
					if err := p.ConsumeLogs(context.Background(), ld); err != nil {
						b.Fatal(err)
					}
				}
				batches = nil
				runtime.GC()
				runtime.ReadMemStats(&after)
				if f := os.Getenv("CRYPTOCHAIN_HEAP_PROFILE"); f != "" && tc.record == 0 {
					w, _ := os.Create(f)
					_ = pprof.WriteHeapProfile(w)
					_ = w.Close()
				}
				grown := float64(after.HeapAlloc) - float64(before.HeapAlloc)
				b.ReportMetric(grown/contexts, "B/context")
				impl := p.(deliveringLogs).p
				impl.mu.Lock()
				b.ReportMetric(float64(impl.tracker.Bytes())/contexts, "estimate-B/context")
				impl.mu.Unlock()
				b.ReportMetric(grown/(1<<20), "MiB/100k")
				runtime.KeepAlive(p)
			}
		})
	}
}

// cpuTime is the CPU time (user + system) the process has used. With -cpu 1 the garbage collector
// runs on the same P, so it is charged too; time spent descheduled on a busy machine is not.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
