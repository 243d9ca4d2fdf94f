//go:build linux && amd64

package kernel

import (
	"runtime"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/event"
)

// BenchmarkFailingOpenFlood: in-kernel cost of a flood of failing write-opens of one watched path
// (the cheapest way for any user to produce file records), and how many records reach the reader.
// CPU time per open is the calling thread's (user+system), so other load on the machine counts less.
func BenchmarkFailingOpenFlood(b *testing.B) {
	stats, err := ebpf.EnableStats(unix.BPF_STATS_RUN_TIME)
	if err != nil {
		b.Fatal(err)
	}
	defer stats.Close()
	dir := b.TempDir()
	opts := allOn()
	opts.WatchedPrefixes = append(opts.WatchedPrefixes, dir+"/")
	s, _, stop := benchSource(b, opts)
	path := dir + "/missing/x" // ENOENT
	n := envInt("CC_BENCH_OPENS", 200_000)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var t0, t1 unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &t0)
	start := time.Now()
	for i := 0; i < n; i++ {
		if fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CREAT, 0o644); err == nil {
			unix.Close(fd)
		}
	}
	wall := time.Since(start)
	_ = unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &t1)
	time.Sleep(300 * time.Millisecond)
	ps := progStats(s)
	st := s.Stats()
	stop()
	reportProgs(b, ps, "handle_openat_enter", "handle_openat_exit")
	b.ReportMetric(float64(t1.Nano()-t0.Nano())/float64(n), "cpu_ns/open")
	b.ReportMetric(float64(wall.Nanoseconds())/float64(n), "wall_ns/open")
	b.ReportMetric(float64(st.Lost[event.KindFile]), "file_lost")
}
