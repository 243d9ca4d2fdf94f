package classify

import (
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/evidence"
)

var fuzzNames = []string{
	contract.EventExec, contract.EventExecFailed, contract.EventExit, contract.EventRename, contract.EventConnect,
	contract.EventDNSQuery, contract.EventDNSAnswer, contract.EventFileWrite, contract.EventFileOpen,
	contract.EventSysctlWrite, contract.EventFPURounding, contract.EventPayload, contract.EventConfigFile,
	contract.EventKill, "unknown.event",
}

// fuzzRecord builds a record of event kind n from fuzzed strings: args and env are split on NUL
// ("NAME=value" for env), and text goes to every free-text attribute the event has.
func fuzzRecord(n uint8, args, env, path, text string, num int64) plog.LogRecord {
	lr := plog.NewLogRecord()
	lr.SetEventName(fuzzNames[int(n)%len(fuzzNames)])
	m := lr.Attributes()
	m.PutInt("process.pid", num)
	m.PutStr("process.executable.path", path)
	m.PutStr("cryptochain.process.filename", path)
	m.PutStr("cryptochain.process.comm", text[:min(len(text), 15)])
	m.PutStr("cryptochain.process.comm.old", path[:min(len(path), 15)])
	s := m.PutEmptySlice("process.command_args")
	for _, a := range strings.Split(args, "\x00") {
		s.AppendEmpty().SetStr(a)
	}
	m.PutStr("process.command_line", strings.ReplaceAll(args, "\x00", " "))
	for _, kv := range strings.Split(env, "\x00") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m.PutStr("process.environment_variable."+k, v)
		}
	}
	m.PutStr("file.path", path)
	m.PutStr("cryptochain.file.operation", "create")
	m.PutStr("cryptochain.file.content", text)
	m.PutStr("cryptochain.network.payload", text)
	m.PutStr("server.address", text[:min(len(text), 45)])
	m.PutInt("server.port", num&0xffff)
	m.PutStr("dns.question.name", path)
	ans := m.PutEmptySlice("dns.answers")
	ans.AppendEmpty().SetStr(text[:min(len(text), 45)])
	cn := m.PutEmptySlice("cryptochain.dns.cnames")
	cn.AppendEmpty().SetStr(text)
	m.PutStr("cryptochain.sysctl.name", path)
	m.PutStr("cryptochain.sysctl.value", text)
	m.PutInt("cryptochain.fpu.nondefault", num)
	m.PutInt("cryptochain.fpu.samples", num*2)
	m.PutInt("cryptochain.kill.signal", num%32)
	m.PutStr("cryptochain.kill.target_name", text)
	return lr
}

// FuzzClassify drives hostile argv, environments, paths and payloads through decode and classify.
// Its seed corpus (testdata/fuzz/FuzzClassify) runs with every `go test`.
func FuzzClassify(f *testing.F) {
	f.Add(uint8(0), "xmrig\x00-o\x00stratum+tcp://pool.example.net:3333\x00-u\x00"+xmr, "POOL_URL=stratum+ssl://198.51.100.1:443", "/tmp/.x/xmrig", "", int64(1))
	f.Add(uint8(0), "sh\x00-c\x00echo "+b64("--donate-level 1 -o stratum+tcp://p.example:1")+" | base64 -d | sh", "", "/bin/sh", "", int64(2))
	f.Add(uint8(11), "", "", "", `{"id":1,"method":"login","params":{"login":"`+xmr+`","pass":"x","agent":"XMRig/6"}}`, int64(443))
	f.Add(uint8(12), "", "", "/tmp/config.json", `{"pools":[{"url":"pool.example.net:3333","user":"`+xmr+`"}],"randomx":{"1gb-pages":true}}`, int64(3))
	f.Add(uint8(7), "", "", "/etc/cron.d/x", "* * * * * root /tmp/x\n@reboot root /tmp/y\n", int64(4))
	f.Add(uint8(7), "", "", "/etc/systemd/system/x.service", "[Service]\nExecStart=/tmp/x --donate-level 1\n", int64(5))
	f.Add(uint8(6), "", "", "a.example", "xmr-eu1.nanopool.org", int64(6))
	f.Add(uint8(0), "\xff\xfe\x00--url=\x00-o=\x00-\x00--\x00-ko", "=\x00\xff=\xff", "\x00", "\x00\xff", int64(-1))
	f.Fuzz(func(t *testing.T, n uint8, args, env, path, text string, num int64) {
		c, err := New(Config{})
		if err != nil {
			t.Fatal(err)
		}
		ev, err := decodeRecord(fuzzRecord(n, args, env, path, text, num))
		if err != nil {
			t.Fatalf("well-typed record failed to decode: %v", err)
		}
		got := c.Classify(ev)
		if c.Panics() != 0 {
			t.Fatal("classifier panicked (recovered)")
		}
		for _, e := range got {
			if e.Group >= evidence.NumGroups || (e.Strength != evidence.Weak && e.Strength != evidence.Strong) || e.Kind == "" {
				t.Fatalf("malformed evidence %+v", e)
			}
		}
		// The record's own attributes, typed wrongly, must error (known names) but not panic.
		lr := plog.NewLogRecord()
		lr.SetEventName(ev.Name)
		lr.Attributes().PutStr("process.pid", text)
		lr.Attributes().PutInt("file.path", num)
		lr.Attributes().PutEmptyBytes("process.command_args").FromRaw([]byte(args))
		if _, err := decodeRecord(lr); err == nil && evidence.KnownEvent(ev.Name) {
			t.Fatal("wrongly typed record decoded without error")
		}
		_ = pcommon.NewMap()
	})
}

// decodeRecord decodes lr as the processor does, with a Decoder of its own.
func decodeRecord(lr plog.LogRecord) (*evidence.Event, error) {
	var d evidence.Decoder
	return d.Decode(lr)
}
