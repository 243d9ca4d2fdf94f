#!/usr/bin/env bash
# What the detector costs the machine it watches, per operation: exec, loopback connect and file-write
# storms with and without the collector on its default agent config (embedded:agent, findings to
# ./data under a scratch directory, nothing leaves the host), in interleaved rounds.
#
# Per round and storm it records the storm's rate and its own CPU time per operation (user+system of
# the storm process and its children, from getrusage), and with the collector the collector's CPU
# time over the storm and a settle window after it, minus its idle rate measured just before the
# storm, divided by the storm's operations. The collector's CPU time is the scheduler's runtime of
# its threads (/proc/<pid>/task/*/schedstat, nanoseconds): /proc/<pid>/stat counts in 10 ms ticks,
# which against an idle rate of about 1 % of a core made the per-operation figure swing by tens of
# microseconds. Before each measured storm an unmeasured warm-up storm of the same kind runs: a
# fresh collector's heap grows and its process tables fill (thousands of exited processes are kept
# for late orphans) during its first seconds of load, once, and that is not what an operation
# costs an agent that has been running.
# Every exec storm runs with the same environment, whoever starts the script: a login shell's 30
# variables (CC_COST_ENV=login, the default) or a service's 6 (CC_COST_ENV=service); each exec
# record carries its environment, so an inherited environment would make the figure depend on who
# ran the benchmark. It prints one markdown table of medians for BENCHMARKS.md.
#
# Run as root from anywhere:  bench/cost.sh [collector binary] [rounds] [seconds]
# (defaults: _build/otelcol-cryptochain, 10 rounds, 5 s per storm). CC_COST_MODES="exec connect file"
# picks storms; CC_COST_CONFIG overrides --config (default embedded:agent); CC_COST_BASELINE=<binary>
# adds a third side to every round, the same storms under another build, to compare two builds at
# the same moment.
set -euo pipefail
cd "$(dirname "$0")/.."
COL=$(realpath "${1:-_build/otelcol-cryptochain}")
BASE=${CC_COST_BASELINE:+$(realpath "$CC_COST_BASELINE")}
ROUNDS=${2:-10}
SECS=${3:-5}
MODES=${CC_COST_MODES:-exec connect file}
CONFIG=${CC_COST_CONFIG:-embedded:agent}
IDLE=3    # seconds of collector idle rate measured before each storm
SETTLE=1  # seconds after a storm for the collector to drain the ring and its batches
WARMUP=6  # seconds of unmeasured storm of each kind before the measured one (tables and heap fill)
PAUSE=2   # seconds after the warm-up before the idle rate is measured (its records drain)
ENVSET=${CC_COST_ENV:-login}
# The storm's environment (each exec passes it on). login: an SSH login shell's, 30 variables;
# service: what a systemd service or cron job gets.
case $ENVSET in
login) STORM_ENV=(SHELL=/bin/bash PWD=/home/user/projects LOGNAME=user XDG_SESSION_TYPE=tty HOME=/home/user
	LANG=C.UTF-8 "LS_COLORS=rs=0:di=01;34:ln=01;36:mh=00:pi=40;33:so=01;35:do=01;35:bd=40;33;01"
	"SSH_CONNECTION=192.0.2.10 52514 192.0.2.20 22" "LESSCLOSE=/usr/bin/lesspipe %s %s" XDG_SESSION_CLASS=user
	TERM=xterm-256color "LESSOPEN=| /usr/bin/lesspipe %s" USER=user SHLVL=1 XDG_SESSION_ID=42
	XDG_RUNTIME_DIR=/run/user/1000 "SSH_CLIENT=192.0.2.10 52514 22" XDG_DATA_DIRS=/usr/local/share:/usr/share
	PATH=/home/user/.local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
	DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/1000/bus SSH_TTY=/dev/pts/0 OLDPWD=/home/user
	EDITOR=vim PAGER=less GOPATH=/home/user/go HISTSIZE=10000 HISTCONTROL=ignoreboth
	MAIL=/var/mail/user COLORTERM=truecolor _=/tmp/cc-cost-storm) ;;
service) STORM_ENV=(LANG=C.UTF-8 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
	INVOCATION_ID=5d0b3c2a9e8f4f7c8b1a2d3e4f5a6b7c JOURNAL_STREAM=8:41227 SYSTEMD_EXEC_PID=4242 HOME=/root) ;;
*) echo "bench/cost.sh: CC_COST_ENV must be login or service" >&2; exit 1 ;;
esac
[ "$(id -u)" = 0 ] || { echo "bench/cost.sh: needs root (the receiver loads eBPF programs)" >&2; exit 1; }
[ -x "$COL" ] || { echo "bench/cost.sh: no collector binary at $COL (make build)" >&2; exit 1; }
[ -z "$BASE" ] || [ -x "$BASE" ] || { echo "bench/cost.sh: no baseline binary at $BASE" >&2; exit 1; }
go build -o /tmp/cc-cost-storm ./bench/execstorm
work=$(mktemp -d)
cpid=""
cleanup() {
	if [ -n "$cpid" ]; then kill -INT "$cpid" 2>/dev/null || true; wait "$cpid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

start_collector() {
	rm -rf "$work/data"
	(cd "$work" && exec "$1" --config "$CONFIG" >"$work/collector.log" 2>&1) &
	cpid=$!
	for _ in $(seq 150); do
		grep -q "Everything is ready" "$work/collector.log" && break
		kill -0 "$cpid" 2>/dev/null || { cat "$work/collector.log" >&2; exit 1; }
		sleep 0.2
	done
	grep -q "Everything is ready" "$work/collector.log" || { echo "collector did not start" >&2; exit 1; }
	sleep 2 # snapshot and first batches
}
stop_collector() {
	kill -INT "$cpid"; wait "$cpid" 2>/dev/null || true; cpid=""
}
# collector CPU seconds so far: the runtime of its threads, in nanoseconds (a Go collector's threads
# live as long as it does)
col_cpu() { cat /proc/"$cpid"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.9f\n", s / 1e9 }'; }
uptime_s() { awk '{print $1}' /proc/uptime; }

# storm MODE SIDE -> appends "mode side ops secs stormcpu colcpu_net idle_rate" to $work/rows;
# side is none (no collector), new ($COL) or base ($CC_COST_BASELINE)
storm() {
	local mode=$1 with=$2 idle_rate=0 c0 c1 t0 t1 out
	if [ "$with" != none ]; then
		c0=$(col_cpu); t0=$(uptime_s); sleep "$IDLE"; c1=$(col_cpu); t1=$(uptime_s)
		idle_rate=$(python3 -c "print(($c1-$c0)/($t1-$t0))")
		c0=$(col_cpu); t0=$(uptime_s)
	fi
	out=$(env -i "${STORM_ENV[@]}" /tmp/cc-cost-storm -mode "$mode" -seconds "$SECS" -cpu)
	local colnet=0
	if [ "$with" != none ]; then
		sleep "$SETTLE"
		c1=$(col_cpu); t1=$(uptime_s)
		colnet=$(python3 -c "print(($c1-$c0) - $idle_rate*($t1-$t0))")
	fi
	# out: ops=N seconds=S cpu=C
	echo "$mode $with $(echo "$out" | sed 's/[a-z]*=//g') $colnet $idle_rate" >>"$work/rows"
}

echo "load before: $(uptime)" >&2
for r in $(seq "$ROUNDS"); do
	# rotate which side runs first, so drift of the machine does not favour one side
	sides="none new${BASE:+ base}"
	for _ in $(seq $((r % $(echo $sides | wc -w)))); do sides="${sides#* } ${sides%% *}"; done
	for with in $sides; do
		case $with in new) start_collector "$COL" ;; base) start_collector "$BASE" ;; esac
		for mode in $MODES; do
			env -i "${STORM_ENV[@]}" /tmp/cc-cost-storm -mode "$mode" -seconds "$WARMUP" >/dev/null
			sleep "$PAUSE"
			storm "$mode" "$with"
		done
		[ "$with" = none ] || stop_collector
	done
	echo "round $r/$ROUNDS done, $(uptime)" >&2
done
echo "load after: $(uptime)" >&2

python3 - "$work/rows" "$ROUNDS" "$SECS" "$ENVSET" <<'PY'
import statistics as st, sys, collections
rows = [l.split() for l in open(sys.argv[1])]
rounds, secs, envset = sys.argv[2], sys.argv[3], sys.argv[4]
by = collections.defaultdict(list)  # (mode, side) -> [(rate, stormcpu/op, colcpu/op, idle)] in round order
for mode, side, ops, el, cpu, col, idle in rows:
    ops, el, cpu, col, idle = int(ops), float(el), float(cpu), float(col), float(idle)
    by[(mode, side)].append((ops / el, cpu / ops * 1e6, col / ops * 1e6, idle))
names = {"new": "collector", "base": "baseline collector"}
print(f"{rounds} interleaved rounds of {secs} s per storm (after a warm-up storm), exec storms with the {envset} environment; medians")
print()
print("| Storm | Side | ops/s without → with | slowdown (paired median) | storm CPU/op without → with | collector CPU/op (range) | collector idle |")
print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
for mode in ["exec", "connect", "file"]:
    wo = by.get((mode, "none"))
    for side in ["new", "base"]:
        wi = by.get((mode, side))
        if not wo or not wi:
            continue
        rwo, rwi = st.median(x[0] for x in wo), st.median(x[0] for x in wi)
        paired = st.median(100 * (a[0] - b[0]) / a[0] for a, b in zip(wo, wi))
        cwo, cwi = st.median(x[1] for x in wo), st.median(x[1] for x in wi)
        col = [x[2] for x in wi]
        idle = st.median(x[3] for x in wi) * 100
        print(f"| {mode} | {names[side]} | {rwo:,.0f} → {rwi:,.0f} | **{paired:.1f} %** (medians {100*(rwo-rwi)/rwo:.1f} %) | "
              f"{cwo:.1f} → {cwi:.1f} µs ({100*(cwi-cwo)/cwo:+.1f} %) | **{st.median(col):.1f} µs** "
              f"({min(col):.1f}–{max(col):.1f}) | {idle:.2f} % of a core |")
PY
