#!/usr/bin/env bash
# Kernel-side benchmarks of the ebpf receiver (BPF programs + ring-buffer reader, no collector).
# Run as root from the repository root:  bench/kernel.sh [quick]
# Figures go to BENCHMARKS.md, section "Receiver: kernel".
set -euo pipefail
cd "$(dirname "$0")/.."
PKG=./receiver/ebpfreceiver/internal/kernel/
quick=${1:-}
storm=60; rounds=5; secs=5
if [[ $quick == quick ]]; then storm=10; rounds=3; secs=3; fi

bench() { # name, then env assignments
	local name=$1; shift
	echo "== $name ($*)"
	env "$@" go test -count=1 -run XXX -bench "^${name}\$" -benchtime 1x "$PKG" | grep -E '^Benchmark|^\s+bench_' || true
}

uptime
# 1. sustained serial exec storm at the default 4 MiB ring: lost_all must be 0
bench BenchmarkExecStorm CC_BENCH_SECONDS=$storm CC_BENCH_WORKERS=1
# 2. two parallel workers: loss, if any, exactly counted (the benchmark fails if received+lost < execs)
bench BenchmarkExecStorm CC_BENCH_SECONDS=$((storm / 2)) CC_BENCH_WORKERS=2
# 3. throughput with vs without the source attached, interleaved rounds
bench BenchmarkExecOverhead CC_BENCH_SECONDS=$secs CC_BENCH_ROUNDS=$rounds
bench BenchmarkConnectOverhead CC_BENCH_SECONDS=$secs CC_BENCH_ROUNDS=$rounds
# 4. unrelated syscall cost (thread CPU time per call), and the floor: one empty program on one
#    other syscall's enter or exit tracepoint
bench BenchmarkGetppid CC_BENCH_ROUNDS=$((rounds * 2 + 1))
bench BenchmarkGetppidFloor CC_BENCH_ROUNDS=$((rounds * 2 + 1))
# 5. in-kernel cost per program (kernel.bpf_stats_enabled) and the accounting floor
bench BenchmarkHookCost
bench BenchmarkOpenFiltered
bench BenchmarkStatsFloor
uptime
