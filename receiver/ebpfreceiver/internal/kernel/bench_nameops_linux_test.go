//go:build linux && amd64

package kernel

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// BenchmarkNameOpsUnwatched: what the file hooks cost a rename or chmod of an unwatched path (the
// constant traffic of editors and build tools, never reported): CPU time of the calling thread per
// operation and the hooks' own run time (bpf_stats). CC_BENCH_NAMEOP picks the operation: rename
// (absolute paths, the default), rename-rel (relative to the cwd), chmod (absolute), unlink, or
// none (the same loop with the source not attached, for the floor).
func BenchmarkNameOpsUnwatched(b *testing.B) {
	stats, err := ebpf.EnableStats(unix.BPF_STATS_RUN_TIME)
	if err != nil {
		b.Fatal(err)
	}
	defer stats.Close()
	op := os.Getenv("CC_BENCH_NAMEOP")
	if op == "" {
		op = "rename"
	}
	dir, err := filepath.EvalSymlinks(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	work := filepath.Join(dir, "build", "obj")
	if err := os.MkdirAll(work, 0o755); err != nil {
		b.Fatal(err)
	}
	a, c := filepath.Join(work, "main.o.tmp"), filepath.Join(work, "main.o")
	if err := os.WriteFile(a, nil, 0o644); err != nil {
		b.Fatal(err)
	}
	var s *Source
	stop := func() {}
	if op != "none-rename" && op != "none-chmod" {
		s, _, stop = benchSource(b, allOn())
	}
	wd, _ := os.Getwd()
	if err := os.Chdir(work); err != nil {
		b.Fatal(err)
	}
	defer os.Chdir(wd)
	n := envInt("CC_BENCH_OPS", 200_000)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var t0, t1 unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &t0)
	for i := 0; i < n; i++ {
		switch op {
		case "rename", "none-rename":
			if i%2 == 0 {
				err = unix.Rename(a, c)
			} else {
				err = unix.Rename(c, a)
			}
		case "rename-rel":
			if i%2 == 0 {
				err = unix.Rename("main.o.tmp", "main.o")
			} else {
				err = unix.Rename("main.o", "main.o.tmp")
			}
		case "chmod", "none-chmod":
			err = unix.Chmod(a, 0o644)
		case "unlink":
			_ = unix.Unlink(c) // ENOENT: the hook's cost only
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	_ = unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &t1)
	b.ReportMetric(float64(t1.Nano()-t0.Nano())/float64(n), "cpu_ns/op")
	if s != nil {
		ps := progStats(s)
		stop()
		// x/sys/unix calls renameat, fchmodat and unlinkat (bpf_stats count every process's calls)
		reportProgs(b, ps, "handle_renameat_enter", "handle_renameat_exit", "handle_fchmodat_enter",
			"handle_fchmodat_exit", "handle_unlinkat_enter", "handle_unlinkat_exit")
	}
}
