package cryptochainprocessor

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

var fuzzNames = []string{"cryptochain.process.exec", "cryptochain.process.exit", "cryptochain.network.connect", "cryptochain.dns.query", "cryptochain.dns.answer", "cryptochain.file.write",
	"cryptochain.sysctl.write", "cryptochain.process.fpu_rounding", "cryptochain.network.payload", "cryptochain.process.config_file", "cryptochain.process.kill", "cryptochain.process.rename",
	"cryptochain.finding", "unknown"}

// FuzzConsumeLogs drives whole record sequences through the processor with the real classifier:
// it must never panic, and one chain never reports the same severity twice. The seeds run in every
// `go test`; `go test -fuzz FuzzConsumeLogs ./processor/cryptochainprocessor` explores further.
func FuzzConsumeLogs(f *testing.F) {
	f.Add([]byte{0, 3, 5, 0}, "stratum+tcp://pool.supportxmr.com:3333", wallet, int64(100), "ctx")
	f.Add([]byte{5, 6, 0, 3}, "/etc/cron.d/x", "* * * * * root /tmp/x -o pool.supportxmr.com:443", int64(7), "")
	f.Add([]byte{7, 2, 8}, "192.0.2.1", `{"method":"login","params":{"login":"`+wallet+`","agent":"XMRig/6"}}`, int64(1<<40), "c")
	f.Add([]byte{1, 1, 1}, "\xff\xfe", "\x00\x01\x02", int64(-1), "\xff")
	f.Add([]byte{}, "", "", int64(0), "")
	f.Fuzz(func(t *testing.T, kinds []byte, s1, s2 string, n int64, ctx string) {
		if len(kinds) > 64 {
			kinds = kinds[:64]
		}
		h := newHarness(t, nil, nil, false)
		defer h.shutdown()
		ld := plog.NewLogs()
		rl := ld.ResourceLogs().AppendEmpty()
		rl.Resource().Attributes().PutStr("host.id", "h")
		rl.Resource().Attributes().PutStr("cryptochain.context.id", ctx)
		lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
		for i, k := range kinds {
			lr := lrs.AppendEmpty()
			lr.SetEventName(fuzzNames[int(k)%len(fuzzNames)])
			lr.SetTimestamp(pcommon.NewTimestampFromTime(base.Add(time.Duration(i) * time.Second)))
			a := lr.Attributes()
			a.PutInt("process.pid", n%64)
			anc := a.PutEmptySlice("cryptochain.process.ancestors")
			anc.AppendEmpty().SetInt(1)
			a.PutStr("process.executable.path", s1)
			args := a.PutEmptySlice("process.command_args")
			args.AppendEmpty().SetStr(s1)
			args.AppendEmpty().SetStr("-o")
			args.AppendEmpty().SetStr(s1)
			args.AppendEmpty().SetStr("-u")
			args.AppendEmpty().SetStr(s2)
			a.PutStr("process.command_line", s1+" "+s2)
			a.PutStr("process.environment_variable.POOL", s2)
			a.PutStr("dns.question.name", s1)
			answers := a.PutEmptySlice("dns.answers")
			answers.AppendEmpty().SetStr(s1)
			a.PutStr("server.address", s1)
			a.PutInt("server.port", n)
			a.PutStr("file.path", s1)
			a.PutStr("cryptochain.file.content", s2)
			a.PutStr("cryptochain.network.payload", s2)
			a.PutStr("cryptochain.sysctl.name", s1)
			a.PutStr("cryptochain.sysctl.value", s2)
			a.PutInt("cryptochain.fpu.nondefault", n)
			a.PutInt("cryptochain.fpu.samples", n*2)
			if k&1 == 1 { // wrongly typed on purpose
				a.PutStr("process.parent_pid", s2)
			}
		}
		if err := h.proc.ConsumeLogs(context.Background(), ld); err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, f := range h.findings() {
			id := attrStr(f, "cryptochain.finding.id")
			if id == "" {
				continue // an input record named cryptochain.finding, passed through
			}
			k := id + "/" + f.SeverityText()
			if seen[k] {
				t.Fatalf("severity %s emitted twice for one finding", f.SeverityText())
			}
			seen[k] = true
		}
	})
}
