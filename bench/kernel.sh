#!/usr/bin/env bash
# Kernel-side benchmarks of the ebpf receiver (BPF programs + ring-buffer reader, no collector).
# Run as root from the repository root:  bench/kernel.sh [quick]
# Figures go to BENCHMARKS.md, section "Receiver: kernel". The full run takes about 20 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
PKG=./receiver/ebpfreceiver/internal/kernel/
quick=${1:-}
storm=60; rounds=25; secs=2
if [[ $quick == quick ]]; then storm=10; rounds=7; secs=2; fi

bench() { # name, then env assignments
	local name=$1; shift
	echo "== $name ($*) at $(date -u +%H:%M:%S), load $(cut -d' ' -f1-3 /proc/loadavg)"
	env "$@" go test -count=1 -run XXX -bench "^${name}\$" -benchtime 1x -v "$PKG" | grep -E '^Benchmark|bench_linux_test' || true
}

# 1. sustained serial exec storm at the default 4 MiB ring: lost_all must be 0
bench BenchmarkExecStorm CC_BENCH_SECONDS=$storm CC_BENCH_WORKERS=1
# 2. two parallel workers: loss, if any, exactly counted (the benchmark fails if received+lost < execs)
bench BenchmarkExecStorm CC_BENCH_SECONDS=$((storm / 2)) CC_BENCH_WORKERS=2
# 3. throughput with vs without the source attached, interleaved rounds; then the same storms
#    against the skeleton (every hook attached, every program empty): the floor no program change
#    can remove
bench BenchmarkExecOverhead CC_BENCH_SECONDS=$secs CC_BENCH_ROUNDS=$rounds
bench BenchmarkExecFloor CC_BENCH_SECONDS=$secs CC_BENCH_ROUNDS=$rounds
bench BenchmarkConnectOverhead CC_BENCH_SECONDS=$secs CC_BENCH_ROUNDS=$rounds
bench BenchmarkConnectFloor CC_BENCH_SECONDS=$secs CC_BENCH_ROUNDS=$rounds
# 4. unrelated syscall cost (thread CPU time per call), and the floor: one empty program on one
#    other syscall's enter or exit tracepoint
bench BenchmarkGetppid CC_BENCH_ROUNDS=11
bench BenchmarkGetppidFloor CC_BENCH_ROUNDS=11
# 5. in-kernel cost per program (kernel.bpf_stats_enabled), per connect, and the floors: empty
#    programs and a bare ring record on the exec/exit hooks, an empty program on a syscall
bench BenchmarkHookCost
bench BenchmarkConnectStormCost CC_BENCH_SECONDS=5
bench BenchmarkHookFloor CC_BENCH_SECONDS=10
bench BenchmarkOpenFiltered
bench BenchmarkStatsFloor
echo "== done at $(date -u +%H:%M:%S), load $(cut -d' ' -f1-3 /proc/loadavg)"
