// Command costprof runs the agent's event path in one process (the ebpf receiver on its default
// config, attached to the real kernel, feeding the cryptochain processor with forward: none) and
// writes a CPU profile of it while a storm runs, to see where the collector's time per event goes.
// It must run as root. Start a storm (bench/execstorm) beside it:
//
//	go build -o /tmp/costprof ./bench/costprof
//	/tmp/costprof -seconds 20 -cpuprofile /tmp/exec.pprof & /tmp/cc-execstorm -mode exec -seconds 20
//	go tool pprof -top /tmp/costprof /tmp/exec.pprof
//
// With -memprofile it also writes what the event path allocated while profiling (subtract the
// start-up with -base): go tool pprof -sample_index=alloc_space -base /tmp/exec.alloc.base -top /tmp/costprof /tmp/exec.alloc
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"syscall"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver"
)

func main() {
	seconds := flag.Float64("seconds", 20, "how long to profile")
	profile := flag.String("cpuprofile", "", "write a CPU profile here")
	hz := flag.Int("hz", 100, "CPU profile sampling rate (the runtime warns once when it is not 100)")
	memProfile := flag.String("memprofile", "", "write a profile of what was allocated while profiling here (go tool pprof -sample_index=alloc_space)")
	flag.Parse()
	if *memProfile != "" {
		runtime.MemProfileRate = 4096
	}
	if err := run(time.Duration(*seconds*float64(time.Second)), *profile, *memProfile, *hz); err != nil {
		fmt.Fprintln(os.Stderr, "costprof:", err)
		os.Exit(1)
	}
}

func run(d time.Duration, profile, memProfile string, hz int) error {
	ctx := context.Background()
	host := componenttest.NewNopHost()
	sink := new(consumertest.LogsSink)

	pf := cryptochainprocessor.NewFactory()
	pcfg := pf.CreateDefaultConfig().(*cryptochainprocessor.Config)
	pcfg.Forward = cryptochainprocessor.ForwardNone
	proc, err := pf.CreateLogs(ctx, processortest.NewNopSettings(pf.Type()), pcfg, sink)
	if err != nil {
		return err
	}
	counts := map[string]int{}
	var mu sync.Mutex
	count, err := consumer.NewLogs(func(ctx context.Context, ld plog.Logs) error {
		mu.Lock()
		for i := 0; i < ld.ResourceLogs().Len(); i++ {
			sl := ld.ResourceLogs().At(i).ScopeLogs()
			for j := 0; j < sl.Len(); j++ {
				lr := sl.At(j).LogRecords()
				for k := 0; k < lr.Len(); k++ {
					counts[lr.At(k).EventName()]++
				}
			}
		}
		mu.Unlock()
		return proc.ConsumeLogs(ctx, ld)
	})
	if err != nil {
		return err
	}
	rf := ebpfreceiver.NewFactory()
	rcv, err := rf.CreateLogs(ctx, receivertest.NewNopSettings(rf.Type()), rf.CreateDefaultConfig(), count)
	if err != nil {
		return err
	}
	if err := proc.Start(ctx, host); err != nil {
		return err
	}
	if err := rcv.Start(ctx, host); err != nil {
		return err
	}
	time.Sleep(2 * time.Second) // snapshot
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if hz != 100 {
			// StartCPUProfile asks for 100 Hz; a rate set before it wins.
			runtime.SetCPUProfileRate(hz)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	mu.Lock()
	clear(counts)
	mu.Unlock()
	if memProfile != "" { // what start-up allocated, to subtract: go tool pprof -base <memprofile>.base
		if err := writeAllocs(memProfile + ".base"); err != nil {
			return err
		}
	}
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	c0 := cpu()
	time.Sleep(d)
	c1 := cpu()
	runtime.ReadMemStats(&m1)
	if profile != "" {
		pprof.StopCPUProfile()
	}
	if memProfile != "" {
		if err := writeAllocs(memProfile); err != nil {
			return err
		}
	}
	fmt.Printf("allocated=%d bytes in %d objects, gc cycles=%d, released to the OS=%d bytes\n",
		m1.TotalAlloc-m0.TotalAlloc, m1.Mallocs-m0.Mallocs, m1.NumGC-m0.NumGC, m1.HeapReleased)
	mu.Lock()
	fmt.Printf("cpu=%.4f seconds=%.3f findings=%d records=%v\n", c1-c0, d.Seconds(), sink.LogRecordCount(), counts)
	mu.Unlock()
	if err := rcv.Shutdown(ctx); err != nil {
		return err
	}
	return proc.Shutdown(ctx)
}

func cpu() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

func writeAllocs(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
