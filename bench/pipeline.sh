#!/usr/bin/env bash
# Full-pipeline overhead: exec-storm and loopback connect-storm throughput with the collector
# (ebpf receiver -> cryptochain processor -> debug exporter) running versus not running, as
# interleaved runs, plus the collector's peak resident memory during the storm.
# Run as root:  bench/pipeline.sh _build/otelcol-cryptochain [rounds] [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
COL=${1:?usage: bench/pipeline.sh <collector binary> [rounds] [seconds]}
ROUNDS=${2:-5}
SECS=${3:-10}
go build -o /tmp/cc-execstorm ./bench/execstorm
work=$(mktemp -d)
trap 'kill "${cpid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT

start_collector() {
	"$COL" --config "$PWD/bench/collector-pipeline.yaml" >"$work/collector.log" 2>&1 &
	cpid=$!
	# wait until the receiver has attached its programs
	for _ in $(seq 100); do
		grep -q "eBPF programs attached\|Everything is ready" "$work/collector.log" && break
		kill -0 $cpid 2>/dev/null || { cat "$work/collector.log"; exit 1; }
		sleep 0.2
	done
	sleep 1
}
stop_collector() {
	kill -INT $cpid; wait $cpid 2>/dev/null || true
}
rate() { /tmp/cc-execstorm -mode "$1" -seconds "$SECS" | sed 's/.*: \([0-9.]*\)\/s/\1/'; }

for mode in exec connect; do
	without=(); with=(); rss=()
	for r in $(seq "$ROUNDS"); do
		without+=("$(rate $mode)")
		start_collector
		with+=("$(rate $mode)")
		rss+=("$(awk '/VmHWM/ {print $2}' /proc/$cpid/status)")
		stop_collector
	done
	python3 - "$mode" "${without[*]}" "${with[*]}" "${rss[*]}" <<'PY'
import statistics, sys
mode, wo, wi, rss = sys.argv[1], [float(x) for x in sys.argv[2].split()], [float(x) for x in sys.argv[3].split()], [int(x) for x in sys.argv[4].split()]
mwo, mwi = statistics.median(wo), statistics.median(wi)
print(f"{mode}: without {wo} with {wi}")
# each round's pair ran back to back: the median of per-pair slowdowns is less exposed to drift
paired = statistics.median([100 * (a - b) / a for a, b in zip(wo, wi)])
print(f"{mode}: median without {mwo:.1f}/s, with {mwi:.1f}/s, slowdown {100*(mwo-mwi)/mwo:.1f}% (paired {paired:.1f}%), collector peak RSS {max(rss)/1024:.1f} MiB")
PY
done
