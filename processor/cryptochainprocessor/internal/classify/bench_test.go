package classify

import (
	"testing"

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
	return &evidence.Event{Name: evidence.EventExec, PID: 4242, Exe: "/usr/bin/ls", ExeName: "ls", Filename: "/usr/bin/ls", Comm: "ls",
		Args: []string{"ls", "-la", "--color=auto", "/home/user/projects"}, CmdLine: "ls -la --color=auto /home/user/projects", Cwd: "/home/user",
		Env: map[string]string{"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin", "HOME": "/home/user", "LANG": "C.UTF-8", "TERM": "xterm-256color"}}
}

func BenchmarkClassifyBenignExec(b *testing.B) { benchEvent(b, benignExec()) }

func BenchmarkClassifyBenignExecPython(b *testing.B) {
	benchEvent(b, &evidence.Event{Name: evidence.EventExec, PID: 4242, Exe: "/usr/bin/python3.12", Filename: "/usr/bin/python3", Comm: "python3",
		Args: []string{"python3", "/srv/app/manage.py", "runserver", "--settings=app.settings.production", "0.0.0.0:8000"}})
}

func BenchmarkClassifyIndicatorExec(b *testing.B) {
	benchEvent(b, exec("/tmp/.x/xmrig", "-o", "stratum+tcp://pool.example.net:3333", "-u", xmr+".w1", "-k", "--donate-level", "1", "-a", "rx/0"))
}

func BenchmarkClassifyConnect(b *testing.B) {
	benchEvent(b, &evidence.Event{Name: evidence.EventConnect, PID: 4242, Exe: "/usr/bin/curl", Address: "198.51.100.20", Port: 443, Transport: "tcp", Result: "ok"})
}

func BenchmarkClassifyDNS(b *testing.B) {
	benchEvent(b, &evidence.Event{Name: evidence.EventDNSQuery, PID: 4242, DNSName: "api.internal.corp.example.com", DNSType: "A"})
}

func BenchmarkClassifyDNSAnswer(b *testing.B) {
	benchEvent(b, &evidence.Event{Name: evidence.EventDNSAnswer, PID: 4242, DNSName: "api.internal.corp.example.com", DNSAnswers: []string{"198.51.100.20"}, DNSCNAMEs: []string{"lb.corp.example.com"}})
}

func BenchmarkClassifyFile(b *testing.B) {
	benchEvent(b, &evidence.Event{Name: evidence.EventFileWrite, PID: 4242, Exe: "/usr/bin/vim", Path: "/home/user/notes.txt", Op: "open", Result: "ok"})
}

func BenchmarkClassifyPersistenceFile(b *testing.B) {
	benchEvent(b, &evidence.Event{Name: evidence.EventFileWrite, PID: 4242, Exe: "/usr/bin/bash", Path: "/etc/cron.d/upd", Op: "create", Result: "ok",
		Content: "*/5 * * * * root /tmp/.x/run -o stratum+tcp://pool.example.net:3333\n"})
}
