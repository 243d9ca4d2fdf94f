package cryptochainprocessor

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

var update = flag.Bool("update", false, "regenerate testdata/golden (inputs from the scenarios below, expected findings from the processor)")

const wallet = "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A"

// scenario is a whole chain (or a look-alike) replayed record by record.
type scenario struct {
	name string
	recs []rec
}

func exec(ctx string, at time.Duration, pid int64, anc []int64, exe string, args ...string) rec {
	cmd := ""
	for i, a := range args {
		if i > 0 {
			cmd += " "
		}
		cmd += a
	}
	return rec{ctx: ctx, name: "cryptochain.process.exec", at: at, pid: pid, anc: anc, attrs: map[string]any{
		"process.executable.path": exe, "process.executable.name": filepath.Base(exe),
		"process.command_args": args, "process.command_line": cmd, "process.parent_pid": anc[0],
	}}
}

func dnsQuery(ctx string, at time.Duration, pid int64, anc []int64, exe, name string) rec {
	return rec{ctx: ctx, name: "cryptochain.dns.query", at: at, pid: pid, anc: anc, attrs: map[string]any{
		"process.executable.path": exe, "dns.question.name": name, "cryptochain.dns.question.type": "A",
		"server.address": "127.0.0.53", "server.port": int64(53), "network.transport": "udp"}}
}

func dnsAnswer(ctx string, at time.Duration, pid int64, anc []int64, exe, name string, answers ...string) rec {
	return rec{ctx: ctx, name: "cryptochain.dns.answer", at: at, pid: pid, anc: anc, attrs: map[string]any{
		"process.executable.path": exe, "dns.question.name": name, "cryptochain.dns.question.type": "A",
		"dns.answers": answers, "cryptochain.dns.rcode": "NOERROR"}}
}

func connect(ctx string, at time.Duration, pid int64, anc []int64, exe, addr string, port int64) rec {
	return rec{ctx: ctx, name: "cryptochain.network.connect", at: at, pid: pid, anc: anc, attrs: map[string]any{
		"process.executable.path": exe, "server.address": addr, "server.port": port,
		"network.transport": "tcp", "network.type": "ipv4", "cryptochain.connect.result": "ok"}}
}

func fileWrite(ctx string, at time.Duration, pid int64, anc []int64, exe, path, op, content string) rec {
	r := rec{ctx: ctx, name: "cryptochain.file.write", at: at, pid: pid, anc: anc, attrs: map[string]any{
		"process.executable.path": exe, "file.path": path, "cryptochain.file.operation": op,
		"cryptochain.file.result": "ok"}}
	if content != "" {
		r.attrs["cryptochain.file.content"] = content
	}
	return r
}

func sysctl(ctx string, at time.Duration, pid int64, anc []int64, name, value string) rec {
	return rec{ctx: ctx, name: "cryptochain.sysctl.write", at: at, pid: pid, anc: anc, attrs: map[string]any{
		"process.executable.path": "/usr/sbin/sysctl", "cryptochain.sysctl.name": name, "cryptochain.sysctl.value": value,
		"file.path": "/proc/sys/" + dotsToSlashes(name)}}
}

func exit(ctx string, at time.Duration, pid int64, cpu float64) rec {
	return rec{ctx: ctx, name: "cryptochain.process.exit", at: at, pid: pid, attrs: map[string]any{
		"process.exit.code": int64(0), "cryptochain.process.cpu.user": cpu * 0.9, "cryptochain.process.cpu.system": cpu * 0.1,
		"cryptochain.process.cpu.time": cpu}}
}

func dotsToSlashes(s string) string {
	b := []byte(s)
	for i := range b {
		if b[i] == '.' {
			b[i] = '/'
		}
	}
	return string(b)
}

var (
	sh        = []int64{900, 1}        // ancestors of a shell's children
	xmrig     = "/tmp/.cache/.x/xmrig" // a dropped miner
	pool      = "pool.supportxmr.com"  // a public Monero pool from the embedded list
	poolA     = "198.51.100.23"        // documentation address standing in for the pool
	minerArgs = []string{xmrig, "-o", "stratum+tcp://" + pool + ":3333", "-u", wallet, "-k", "--donate-level", "1", "-B"}
)

func minerRun(ctx string, at time.Duration) []rec {
	return []rec{
		exec(ctx, at, 1000, sh, xmrig, minerArgs...),
		dnsQuery(ctx, at+100*time.Millisecond, 1000, sh, xmrig, pool),
		dnsAnswer(ctx, at+120*time.Millisecond, 1000, sh, xmrig, pool, poolA),
		connect(ctx, at+130*time.Millisecond, 1000, sh, xmrig, poolA, 3333),
	}
}

func scenarios() []scenario {
	var s []scenario
	s = append(s, scenario{"medium_xmrig_command_line", minerRun("ssh:1", 0)})

	high := []rec{
		exec("ssh:2", 0, 950, sh, "/usr/bin/crontab", "crontab", "-"),
		fileWrite("ssh:2", 10*time.Millisecond, 950, sh, "/usr/bin/crontab", "/var/spool/cron/crontabs/root", "rename",
			"*/5 * * * * "+xmrig+" -o stratum+tcp://"+pool+":3333 -u "+wallet+" -B >/dev/null 2>&1\n"),
		exit("ssh:2", 20*time.Millisecond, 950, 0.01),
	}
	s = append(s, scenario{"high_cron_persistence", append(high, minerRun("ssh:2", time.Second)...)})

	// The first miner run ends after 50 minutes (its CPU time is reported); the attacker then makes
	// it persistent and tunes the host: each step escalates the same finding.
	crit := append(minerRun("ssh:3", 0),
		exit("ssh:3", 50*time.Minute, 1000, 2990.5),
		fileWrite("ssh:3", 51*time.Minute, 960, sh, "/usr/bin/tee", "/etc/systemd/system/sysupdate.service", "create",
			"[Unit]\nDescription=update\n[Service]\nExecStart="+xmrig+" --config /tmp/.cache/.x/config.json\nRestart=always\n[Install]\nWantedBy=multi-user.target\n"),
		exec("ssh:3", 52*time.Minute, 980, sh, "/usr/sbin/modprobe", "modprobe", "msr", "allow_writes=on"),
		sysctl("ssh:3", 52*time.Minute+time.Second, 970, sh, "vm.nr_hugepages", "1280"),
	)
	s = append(s, scenario{"critical_escalation", crit})

	s = append(s, scenario{"medium_with_optimization", append([]rec{
		sysctl("ssh:4", 0, 970, sh, "vm.nr_hugepages", "1168"),
	}, minerRun("ssh:4", time.Second)...)})

	respawn := []rec{
		exec("ssh:5", 0, 950, sh, "/usr/bin/tee", "tee", "/etc/cron.d/0systemd"),
		fileWrite("ssh:5", 10*time.Millisecond, 950, sh, "/usr/bin/tee", "/etc/cron.d/0systemd", "open",
			"* * * * * root /var/tmp/.sys/kthreadd -c /var/tmp/.sys/c.json\n"),
		exit("ssh:5", 20*time.Millisecond, 950, 0.01),
		exec("cron:6", time.Minute, 2000, []int64{1999, 1}, "/bin/dash", "/bin/sh", "-c", "/var/tmp/.sys/kthreadd -c /var/tmp/.sys/c.json"),
		exec("cron:6", time.Minute+10*time.Millisecond, 2001, []int64{2000, 1999, 1}, "/var/tmp/.sys/kthreadd",
			"/var/tmp/.sys/kthreadd", "-c", "/var/tmp/.sys/c.json", "-o", "stratum+tcp://"+pool+":443", "-u", wallet),
		dnsQuery("cron:6", time.Minute+20*time.Millisecond, 2001, []int64{2000, 1999, 1}, "/var/tmp/.sys/kthreadd", pool),
	}
	s = append(s, scenario{"cron_respawn_linked", respawn})

	randomx := []rec{
		exec("daemon:7", 0, 3000, []int64{1}, "/usr/lib/systemd/systemd-networkd-helper", "/usr/lib/systemd/systemd-networkd-helper"),
		connect("daemon:7", time.Second, 3000, []int64{1}, "/usr/lib/systemd/systemd-networkd-helper", "203.0.113.77", 443),
		{ctx: "daemon:7", name: "cryptochain.process.fpu_rounding", at: 30 * time.Second, pid: 3000, anc: []int64{1}, attrs: map[string]any{
			"process.executable.path": "/usr/lib/systemd/systemd-networkd-helper", "cryptochain.fpu.mxcsr": int64(0x5fa0),
			"cryptochain.fpu.nondefault": int64(26), "cryptochain.fpu.samples": int64(35)}},
	}
	s = append(s, scenario{"medium_randomx_behaviour_no_strings", randomx})

	// A renamed miner with no command line at all speaks plaintext stratum to a bare IP on 443.
	upd := "/usr/bin/.updater"
	s = append(s, scenario{"medium_stratum_payload_bare_ip_443", []rec{
		exec("daemon:8", 0, 3100, []int64{1}, upd, upd),
		connect("daemon:8", time.Second, 3100, []int64{1}, upd, "192.0.2.99", 443),
		{ctx: "daemon:8", name: "cryptochain.network.payload", at: time.Second + 5*time.Millisecond, pid: 3100, anc: []int64{1}, attrs: map[string]any{
			"process.executable.path": upd, "server.address": "192.0.2.99", "server.port": int64(443), "network.transport": "tcp",
			"cryptochain.network.payload": `{"id":1,"jsonrpc":"2.0","method":"login","params":{"login":"` + wallet +
				`","pass":"x","agent":"XMRig/6.21.0 (Linux x86_64) libuv/1.44.2 gcc/12.2.0","algo":["rx/0"]}}`}},
	}})

	// A miner configured only by its config.json, made persistent by a systemd unit.
	kd := "/var/tmp/.k/kdevtmpfsi"
	s = append(s, scenario{"high_config_file_miner_systemd", []rec{
		exec("ssh:9", 0, 3200, sh, kd, kd),
		{ctx: "ssh:9", name: "cryptochain.process.config_file", at: 50 * time.Millisecond, pid: 3200, anc: sh, attrs: map[string]any{
			"process.executable.path": kd, "file.path": "/var/tmp/.k/config.json",
			"cryptochain.file.content": `{"autosave":true,"cpu":{"enabled":true,"huge-pages":true},"randomx":{"1gb-pages":true},` +
				`"pools":[{"url":"pool.hashvault.pro:443","user":"` + wallet + `","pass":"x","tls":true,"keepalive":true}]}`}},
		dnsQuery("ssh:9", 100*time.Millisecond, 3200, sh, kd, "pool.hashvault.pro"),
		fileWrite("ssh:9", time.Second, 3210, sh, "/usr/bin/cp", "/etc/systemd/system/kdevtmpfsi.service", "create",
			"[Service]\nExecStart="+kd+"\nRestart=always\n[Install]\nWantedBy=multi-user.target\n"),
	}})

	// The attacker's login session writes the crontab and tunes the host; the miner runs under nohup in
	// a daemonized context opened from that session: its chain carries the session's evidence.
	nohup := func(r rec) rec { r.parent = "ssh:15"; return r }
	s = append(s, scenario{"critical_parent_session_nohup_miner", []rec{
		exec("ssh:15", 0, 950, sh, "/usr/bin/crontab", "crontab", "-"),
		fileWrite("ssh:15", 10*time.Millisecond, 950, sh, "/usr/bin/crontab", "/var/spool/cron/crontabs/root", "rename",
			"@reboot "+xmrig+" -o stratum+tcp://"+pool+":3333 -u "+wallet+"\n"),
		sysctl("ssh:15", time.Second, 970, sh, "vm.nr_hugepages", "1280"),
		nohup(exec("daemonized:16", 2*time.Second, 1000, sh, xmrig, minerArgs...)),
		nohup(dnsQuery("daemonized:16", 2*time.Second+100*time.Millisecond, 1000, sh, xmrig, pool)),
	}})

	// A miner in a context opened from a boot catch-all (its parent was not seen): the catch-all's
	// unrelated MSR open and cron job are not the chain's, so it stays Medium with Miner and Pool.
	fromBoot := func(r rec) rec { r.parent = "boot:20"; return r }
	bootChild := []rec{
		fileWrite("boot:20", 0, 300, []int64{1}, "/usr/sbin/rdmsr", "/dev/cpu/0/msr", "open", ""),
		fileWrite("boot:20", time.Second, 301, []int64{1}, "/usr/bin/tee", "/etc/cron.d/backup", "create", "0 3 * * * root /usr/local/bin/backup.sh\n"),
	}
	for _, r := range minerRun("daemonized:21", 2*time.Second) {
		bootChild = append(bootChild, fromBoot(r))
	}
	s = append(s, scenario{"medium_opened_from_boot_context", bootChild})

	// Cron runs the new entry 1 s after the write, before the table's read-back reached the
	// processor: the write record (with its content) arrives last, and still links the re-spawn.
	rb := "/var/tmp/.sys/kthreadd -c /var/tmp/.sys/c.json"
	rbAnc := []int64{2100, 2099, 1}
	s = append(s, scenario{"high_cron_runs_before_readback", []rec{
		exec("cron:22", time.Second, 2100, []int64{2099, 1}, "/bin/dash", "/bin/sh", "-c", rb),
		exec("cron:22", time.Second+10*time.Millisecond, 2101, rbAnc, "/var/tmp/.sys/kthreadd",
			"/var/tmp/.sys/kthreadd", "-c", "/var/tmp/.sys/c.json", "-o", "stratum+tcp://"+pool+":443", "-u", wallet),
		dnsQuery("cron:22", time.Second+20*time.Millisecond, 2101, rbAnc, "/var/tmp/.sys/kthreadd", pool),
		fileWrite("ssh:23", 0, 950, sh, "/usr/bin/tee", "/etc/cron.d/0systemd", "open", "* * * * * root "+rb+"\n"),
	}})

	// A Medium chain that then hides itself (libprocesshider in ld.so.preload, the preload made
	// immutable, history wiped): still Medium, reported again with the concealment shown.
	s = append(s, scenario{"medium_concealment_added", append(minerRun("ssh:24", 0),
		fileWrite("ssh:24", time.Second, 960, sh, "/usr/bin/tee", "/etc/ld.so.preload", "open", "/usr/local/lib/libprocesshider.so\n"),
		exec("ssh:24", 2*time.Second, 961, sh, "/usr/bin/chattr", "chattr", "+i", "/etc/ld.so.preload"),
		exec("ssh:24", 3*time.Second, 962, sh, "/bin/bash", "bash", "-c", "history -c; rm -f /root/.bash_history"),
	)})

	// A Critical chain whose attacker then adds a second foothold: another cron table (reported at
	// once: the last finding is older than update_interval), then a re-spawned miner with a new pool
	// and ten more miner pids within a second (held, then folded into one update once later records
	// show the interval has passed). Same id and severity each time, marked as updates.
	foothold := append(minerRun("ssh:30", 0),
		fileWrite("ssh:30", 10*time.Second, 960, sh, "/usr/bin/tee", "/etc/cron.d/0sys", "open",
			"*/5 * * * * root "+xmrig+" -o stratum+tcp://"+pool+":3333 -u "+wallet+"\n"),
		sysctl("ssh:30", 11*time.Second, 970, sh, "vm.nr_hugepages", "1280"),
		fileWrite("ssh:30", 20*time.Second, 961, sh, "/usr/bin/crontab", "/var/spool/cron/crontabs/root", "rename",
			"@reboot /var/tmp/.sys/kthreadd -o stratum+tcp://pool.hashvault.pro:443 -u "+wallet+"\n"),
	)
	for i := range 11 {
		kt, at, pid := "/var/tmp/.sys/kthreadd", 21*time.Second+time.Duration(i)*100*time.Millisecond, int64(1100+i)
		foothold = append(foothold, exec("ssh:30", at, pid, sh, kt, kt, "-o", "stratum+tcp://pool.hashvault.pro:443", "-u", wallet),
			dnsQuery("ssh:30", at+10*time.Millisecond, pid, sh, kt, "pool.hashvault.pro"))
	}
	foothold = append(foothold, exec("ssh:31", 27*time.Second, 1200, sh, "/usr/bin/ls", "ls", "-l"))
	s = append(s, scenario{"critical_second_foothold_update", foothold})

	s = append(s, entryPointScenarios()...)

	// Look-alikes: none of these may produce a finding.
	s = append(s, scenario{"benign_admin_ld_preload_profiler", []rec{
		fileWrite("ssh:25", 0, 1100, sh, "/usr/bin/tee", "/etc/ld.so.preload", "open", "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2\n"),
		exec("ssh:25", time.Second, 1101, sh, "/usr/bin/perf", "perf", "record", "-g", "-p", "1234"),
	}})
	imageCron := func(r rec) rec { r.attrs["cryptochain.file.root"] = "chroot"; return r }
	s = append(s, scenario{"benign_image_pull_with_cron_tables", []rec{
		exec("ssh:26", 0, 1200, sh, "/usr/bin/podman", "podman", "pull", "docker.io/library/debian:12"),
		imageCron(fileWrite("ssh:26", time.Second, 1200, sh, "/usr/bin/podman", "/var/spool/cron/crontabs/root", "create", "")),
		imageCron(fileWrite("ssh:26", time.Second, 1200, sh, "/usr/bin/podman", "/etc/cron.d/e2scrub_all", "create", "")),
		exec("ssh:26", 2*time.Second, 1201, sh, "/usr/bin/podman", "podman", "run", "--rm", "debian:12", "true"),
	}})
	s = append(s, scenario{"benign_linker_long_argv", []rec{
		exec("ssh:27", 0, 1300, sh, "/usr/bin/ld", append([]string{"ld", "-o", "app"}, objects(300)...)...),
	}})
	s = append(s, scenario{"benign_database_hugepages", []rec{
		sysctl("boot:10", 0, 400, []int64{1}, "vm.nr_hugepages", "4096"),
		exec("boot:10", time.Second, 401, []int64{1}, "/usr/lib/postgresql/16/bin/postgres", "/usr/lib/postgresql/16/bin/postgres", "-D", "/var/lib/postgresql/16/main", "-c", "huge_pages=on"),
		connect("boot:10", 2*time.Second, 401, []int64{1}, "/usr/lib/postgresql/16/bin/postgres", "10.0.0.5", 5432),
	}})
	s = append(s, scenario{"benign_crontab_list", []rec{
		exec("ssh:11", 0, 500, sh, "/usr/bin/crontab", "crontab", "-l"),
		exec("ssh:11", time.Second, 501, sh, "/usr/bin/top", "top", "-b", "-n", "1"),
	}})
	s = append(s, scenario{"benign_monero_full_node", []rec{
		exec("systemd:12", 0, 600, []int64{1}, "/usr/bin/monerod", "/usr/bin/monerod", "--data-dir", "/var/lib/monero", "--non-interactive", "--rpc-bind-ip", "127.0.0.1"),
		dnsQuery("systemd:12", time.Second, 600, []int64{1}, "/usr/bin/monerod", "seeds.moneroseeds.se"),
		connect("systemd:12", 2*time.Second, 600, []int64{1}, "/usr/bin/monerod", "192.0.2.44", 18080),
	}})
	s = append(s, scenario{"benign_compiling_miner_sources", []rec{
		exec("ssh:13", 0, 700, sh, "/usr/bin/git", "git", "clone", "https://github.com/xmrig/xmrig.git"),
		dnsQuery("ssh:13", 100*time.Millisecond, 700, sh, "/usr/bin/git", "github.com"),
		exec("ssh:13", 10*time.Second, 701, sh, "/usr/bin/cmake", "cmake", "-S", "xmrig", "-B", "xmrig/build", "-DWITH_HWLOC=OFF"),
		exec("ssh:13", 20*time.Second, 702, sh, "/usr/bin/make", "make", "-C", "xmrig/build", "-j2"),
		exec("ssh:13", 21*time.Second, 703, []int64{702, 900, 1}, "/usr/bin/c++", "c++", "-O2", "-c", "xmrig/src/crypto/randomx/randomx.cpp", "-o", "randomx.o"),
	}})
	s = append(s, scenario{"benign_wallet_grep_and_pool_lookup_in_siblings", []rec{
		exec("ssh:14", 0, 800, sh, "/usr/bin/grep", "grep", "-r", wallet, "/var/log/"),
		exec("ssh:14", 5*time.Second, 801, sh, "/usr/bin/dig", "dig", pool),
		dnsQuery("ssh:14", 5*time.Second+10*time.Millisecond, 801, sh, "/usr/bin/dig", pool),
		dnsAnswer("ssh:14", 5*time.Second+30*time.Millisecond, 801, sh, "/usr/bin/dig", pool, poolA),
	}})
	return s
}

// objects returns n object file names, a linker line's worth of arguments.
func objects(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "obj/module_" + strconv.Itoa(i) + ".o"
	}
	return out
}

// stream puts every record in its own ResourceLogs, so the replay feeds them one ConsumeLogs each.
func stream(recs []rec) plog.Logs {
	out := plog.NewLogs()
	for _, r := range recs {
		one := logsOf(r)
		one.ResourceLogs().At(0).Resource().Attributes().PutStr("cryptochain.context.kind", kindOf(r.ctx))
		one.ResourceLogs().MoveAndAppendTo(out.ResourceLogs())
	}
	return out
}

func kindOf(ctx string) string {
	for i := range ctx {
		if ctx[i] == ':' {
			switch ctx[:i] {
			case "ssh":
				return "login_session"
			case "boot":
				return "boot"
			}
			return ctx[:i]
		}
	}
	return ""
}

// replay feeds each ResourceLogs of in as one ConsumeLogs call and returns the findings, with the
// volatile fields (finding id, observed timestamp) blanked. It checks the id is stable per context.
func replay(t *testing.T, in plog.Logs) plog.Logs {
	h := newHarness(t, func(c *Config) { c.Forward = ForwardNone }, nil, false)
	defer h.shutdown()
	for i := 0; i < in.ResourceLogs().Len(); i++ {
		one := plog.NewLogs()
		in.ResourceLogs().At(i).CopyTo(one.ResourceLogs().AppendEmpty())
		require.NoError(t, h.proc.ConsumeLogs(context.Background(), one))
	}
	out := plog.NewLogs()
	ids := map[string]string{}
	for _, ld := range h.sink.AllLogs() {
		for i := 0; i < ld.ResourceLogs().Len(); i++ {
			rl := ld.ResourceLogs().At(i)
			lr := rl.ScopeLogs().At(0).LogRecords().At(0)
			ctxID := attrStr(lr, "cryptochain.finding.context.id")
			id := attrStr(lr, "cryptochain.finding.id")
			if prev, ok := ids[ctxID]; ok {
				assert.Equal(t, prev, id, "finding id must be stable across escalations")
			}
			ids[ctxID] = id
			lr.Attributes().PutStr("cryptochain.finding.id", "<volatile>")
			lr.SetObservedTimestamp(0)
			rl.CopyTo(out.ResourceLogs().AppendEmpty())
		}
	}
	return out
}

func TestGolden(t *testing.T) {
	for _, sc := range scenarios() {
		t.Run(sc.name, func(t *testing.T) {
			checkGolden(t, sc.name, sc.recs, func(in plog.Logs) plog.Logs { return replay(t, in) },
				"findings changed; if the change is intended (e.g. new classifier output), review the diff and regenerate: "+
					"go test ./processor/cryptochainprocessor -run TestGolden -update")
		})
	}
}

// checkGolden replays testdata/golden/<name>/input.json (written from recs with -update) through
// run and compares the output with expected_findings.json (rewritten with -update); hint says how
// to regenerate.
func checkGolden(t *testing.T, name string, recs []rec, run func(plog.Logs) plog.Logs, hint string) {
	t.Helper()
	dir := filepath.Join("testdata", "golden", name)
	inPath, wantPath := filepath.Join(dir, "input.json"), filepath.Join(dir, "expected_findings.json")
	if *update {
		require.NoError(t, os.MkdirAll(dir, 0o755))
		writeJSON(t, inPath, stream(recs))
	}
	raw, err := os.ReadFile(inPath)
	require.NoError(t, err)
	in, err := (&plog.JSONUnmarshaler{}).UnmarshalLogs(raw)
	require.NoError(t, err)
	got := run(in)
	if *update {
		writeJSON(t, wantPath, got)
	}
	raw, err = os.ReadFile(wantPath)
	require.NoError(t, err)
	want, err := (&plog.JSONUnmarshaler{}).UnmarshalLogs(raw)
	require.NoError(t, err)
	assert.Equal(t, canonical(t, want), canonical(t, got), hint)
}

// TestGoldenCoverage keeps the golden set honest: every severity and the look-alikes are there.
func TestGoldenCoverage(t *testing.T) {
	severities := map[string]int{}
	for _, sc := range scenarios() {
		raw, err := os.ReadFile(filepath.Join("testdata", "golden", sc.name, "expected_findings.json"))
		require.NoError(t, err)
		ld, err := (&plog.JSONUnmarshaler{}).UnmarshalLogs(raw)
		require.NoError(t, err)
		n := 0
		eachRecord(ld, func(_ pcommon.Resource, lr plog.LogRecord) {
			severities[lr.SeverityText()]++
			n++
		})
		if len(sc.name) > 7 && sc.name[:7] == "benign_" {
			assert.Zero(t, n, "%s must stay silent", sc.name)
		} else {
			assert.NotZero(t, n, "%s must produce a finding", sc.name)
		}
	}
	for _, s := range []string{"MEDIUM", "HIGH", "CRITICAL"} {
		assert.NotZero(t, severities[s], s)
	}
}

func writeJSON(t *testing.T, path string, ld plog.Logs) {
	b, err := (&plog.JSONMarshaler{}).MarshalLogs(ld)
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, json.Indent(&buf, b, "", "  "))
	buf.WriteByte('\n')
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
}

// canonical renders logs as indented JSON with attributes sorted, for a readable diff.
func canonical(t *testing.T, ld plog.Logs) string {
	eachRecord(ld, func(res pcommon.Resource, lr plog.LogRecord) {
		sortMap(res.Attributes())
		sortMap(lr.Attributes())
	})
	b, err := (&plog.JSONMarshaler{}).MarshalLogs(ld)
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, json.Indent(&buf, b, "", "  "))
	return buf.String()
}

func sortMap(m pcommon.Map) {
	raw := m.AsRaw()
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	tmp := pcommon.NewMap()
	for _, k := range keys {
		v, _ := m.Get(k)
		v.CopyTo(tmp.PutEmpty(k))
	}
	tmp.CopyTo(m)
}
