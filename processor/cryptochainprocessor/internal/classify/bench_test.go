package classify

import (
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/evidence"
)

func benchEvent(b *testing.B, ev *evidence.Event) {
	c, err := New(Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		c.Classify(ev)
	}
}

func benignExec() *evidence.Event {
	return &evidence.Event{Name: contract.EventExec, PID: 4242, Exe: "/usr/bin/ls", ExeName: "ls", Filename: "/usr/bin/ls", Comm: "ls",
		Args: []string{"ls", "-la", "--color=auto", "/home/user/projects"}, CmdLine: "ls -la --color=auto /home/user/projects", Cwd: "/home/user",
		EnvVars: []evidence.EnvVar{{Name: "PATH", Value: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin"}, {Name: "HOME", Value: "/home/user"}, {Name: "LANG", Value: "C.UTF-8"}, {Name: "TERM", Value: "xterm-256color"}}}
}

func BenchmarkClassifyBenignExec(b *testing.B) { benchEvent(b, benignExec()) }

func BenchmarkClassifyBenignExecPython(b *testing.B) {
	benchEvent(b, &evidence.Event{Name: contract.EventExec, PID: 4242, Exe: "/usr/bin/python3.12", Filename: "/usr/bin/python3", Comm: "python3",
		Args: []string{"python3", "/srv/app/manage.py", "runserver", "--settings=app.settings.production", "0.0.0.0:8000"}})
}

func BenchmarkClassifyIndicatorExec(b *testing.B) {
	benchEvent(b, exec("/tmp/.x/xmrig", "-o", "stratum+tcp://pool.example.net:3333", "-u", xmr+".w1", "-k", "--donate-level", "1", "-a", "rx/0"))
}

func BenchmarkClassifyConnect(b *testing.B) {
	benchEvent(b, &evidence.Event{Name: contract.EventConnect, PID: 4242, Exe: "/usr/bin/curl", Address: "198.51.100.20", Port: 443, Transport: "tcp", Result: "ok"})
}

func BenchmarkClassifyDNS(b *testing.B) {
	benchEvent(b, &evidence.Event{Name: contract.EventDNSQuery, PID: 4242, DNSName: "api.internal.corp.example.com", DNSType: "A"})
}

func BenchmarkClassifyDNSAnswer(b *testing.B) {
	benchEvent(b, &evidence.Event{Name: contract.EventDNSAnswer, PID: 4242, DNSName: "api.internal.corp.example.com", DNSAnswers: []string{"198.51.100.20"}, DNSCNAMEs: []string{"lb.corp.example.com"}})
}

func BenchmarkClassifyFile(b *testing.B) {
	benchEvent(b, &evidence.Event{Name: contract.EventFileWrite, PID: 4242, Exe: "/usr/bin/vim", Path: "/home/user/notes.txt", Op: "open", Result: "ok"})
}

func BenchmarkClassifyPersistenceFile(b *testing.B) {
	benchEvent(b, &evidence.Event{Name: contract.EventFileWrite, PID: 4242, Exe: "/usr/bin/bash", Path: "/etc/cron.d/upd", Op: "create", Result: "ok",
		Content: "*/5 * * * * root /tmp/.x/run -o stratum+tcp://pool.example.net:3333\n"})
}

// BenchmarkClassifyMixDecoded is decode (reusing Decoder) + classify over the processor's target mix:
// 95 % benign exec/connect/dns/file records, 5 % indicator records. ns/op is per record.
func BenchmarkClassifyMixDecoded(b *testing.B) {
	c, err := New(Config{})
	if err != nil {
		b.Fatal(err)
	}
	var recs []plog.LogRecord
	for i := 0; i < 100; i++ {
		var n uint8
		args, path, text := "ls\x00-la\x00/home/user", "/usr/bin/ls", "198.51.100.7"
		switch {
		case i%20 == 19: // 5 % indicators
			n, args, path = 0, "/tmp/.x/xmrig\x00-o\x00stratum+tcp://pool.example.net:3333\x00-u\x00"+xmr, "/tmp/.x/xmrig"
		case i%4 == 0:
			n = 0
		case i%4 == 1:
			n = 4 // connect
		case i%4 == 2:
			n, path = 5, "api.corp.example.com" // cryptochain.dns.query
		default:
			n, path = 7, "/home/user/notes.txt" // cryptochain.file.write
		}
		recs = append(recs, benchRecord(n, args, path, text))
	}
	var d evidence.Decoder
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		ev, _ := d.Decode(recs[i%len(recs)])
		c.Classify(ev)
		i++
	}
}

// benchRecord is a realistic record (not every attribute set, unlike the fuzz records).
func benchRecord(n uint8, args, path, text string) plog.LogRecord {
	lr := plog.NewLogRecord()
	lr.SetEventName(fuzzNames[n])
	m := lr.Attributes()
	m.PutInt("process.pid", 4242)
	m.PutStr("process.creation.time", "2026-11-27T04:00:00.000000001Z")
	m.PutInt("process.parent_pid", 4000)
	m.PutStr("process.executable.path", "/usr/bin/bash")
	m.PutStr("cryptochain.process.comm", "bash")
	switch fuzzNames[n] {
	case contract.EventExec:
		s := m.PutEmptySlice("process.command_args")
		for _, a := range strings.Split(args, "\x00") {
			s.AppendEmpty().SetStr(a)
		}
		m.PutStr("process.command_line", strings.ReplaceAll(args, "\x00", " "))
		m.PutStr("process.executable.path", path)
		m.PutStr("cryptochain.process.filename", path)
		m.PutStr("process.environment_variable.PATH", "/usr/local/bin:/usr/bin:/bin")
		m.PutStr("process.environment_variable.HOME", "/home/user")
	case contract.EventConnect:
		m.PutStr("server.address", text)
		m.PutInt("server.port", 443)
		m.PutStr("network.transport", "tcp")
	case contract.EventDNSQuery:
		m.PutStr("dns.question.name", path)
	case contract.EventFileWrite:
		m.PutStr("file.path", path)
		m.PutStr("cryptochain.file.operation", "open")
		m.PutStr("cryptochain.file.result", "ok")
	}
	return lr
}

func BenchmarkClassifyBenignShell(b *testing.B) {
	benchEvent(b, &evidence.Event{Name: contract.EventExec, PID: 4242, Exe: "/usr/bin/dash", Filename: "/bin/sh", Comm: "sh",
		Args: []string{"sh", "-c", "cd /var/www && git pull --ff-only origin main 2>&1 | tee -a /var/log/deploy.log; systemctl reload nginx"}})
}

// Benign records must not allocate (a regression guard for the throughput target; not a timing test).
func TestBenignRecordsDoNotAllocate(t *testing.T) {
	c, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	for name, ev := range map[string]*evidence.Event{
		"exec":    benignExec(),
		"shell":   {Name: contract.EventExec, Exe: "/usr/bin/dash", Filename: "/bin/sh", Args: []string{"sh", "-c", "cd /srv && git pull --ff-only | tee -a /var/log/x.log; systemctl reload nginx"}},
		"connect": {Name: contract.EventConnect, PID: 1, Address: "198.51.100.20", Port: 443, Transport: "tcp"},
		"dns":     {Name: contract.EventDNSQuery, PID: 1, DNSName: "api.corp.example.com"},
		"answer":  {Name: contract.EventDNSAnswer, PID: 1, DNSName: "api.corp.example.com", DNSAnswers: []string{"198.51.100.20", "2001:db8::20"}, DNSCNAMEs: []string{"lb.corp.example.com"}},
		"file":    {Name: contract.EventFileWrite, PID: 1, Exe: "/usr/bin/vim", Path: "/home/user/notes.txt", Op: "open"},
		"sysctl":  {Name: contract.EventSysctlWrite, PID: 1, SysctlName: "net.ipv4.ip_forward", SysctlValue: "1"},
		"exit":    {Name: contract.EventExit, PID: 1, HasExit: true},
		"kill0":   {Name: contract.EventKill, PID: 1, KillSignal: 0, KillTargetName: "nginx"},
	} {
		if n := testing.AllocsPerRun(200, func() { c.Classify(ev) }); n != 0 {
			t.Errorf("%s: %v allocations per record", name, n)
		}
	}
}
