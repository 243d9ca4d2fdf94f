//go:build linux && amd64

package kernel

import (
	"fmt"
	"os/exec"
	"testing"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// BenchmarkExecArgvCost: in-kernel run time of the exec (and, when present, fork) programs per
// exec, for a short argv and for one of 3000 filler arguments (about 40 KiB) where the end of argv
// is read too. Execs are serial; CC_BENCH_EXECS sets how many per kind (default 2000).
func BenchmarkExecArgvCost(b *testing.B) {
	stats, err := ebpf.EnableStats(unix.BPF_STATS_RUN_TIME)
	if err != nil {
		b.Fatal(err)
	}
	defer stats.Close()
	s, _, stop := benchSource(b, allOn())
	defer stop()
	n := envInt("CC_BENCH_EXECS", 2000)
	padded := []string{}
	for i := 0; i < 3000; i++ {
		padded = append(padded, fmt.Sprintf("--filler-%d", i))
	}
	padded = append(padded, "-o", "pool.example.test:443", "-u", "W")
	progs := []string{"handle_exec", "handle_fork"}
	for _, kind := range []struct {
		name string
		args []string
	}{{"short", []string{"x"}}, {"padded", padded}} {
		before := runStats(s, progs)
		for i := 0; i < n; i++ {
			if err := exec.Command("/bin/true", kind.args...).Run(); err != nil {
				b.Fatal(err)
			}
		}
		after := runStats(s, progs)
		for _, p := range progs {
			d := after[p].Runtime - before[p].Runtime
			c := after[p].RunCount - before[p].RunCount
			if c > 0 {
				b.ReportMetric(float64(d.Nanoseconds())/float64(c), kind.name+"_"+p+"_ns/run")
			}
		}
	}
}

func runStats(s *Source, names []string) map[string]ebpf.ProgramStats {
	out := map[string]ebpf.ProgramStats{}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range names {
		if p := s.coll.Programs[n]; p != nil {
			if st, err := p.Stats(); err == nil {
				out[n] = *st
			}
		}
	}
	return out
}
