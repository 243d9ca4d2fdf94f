package cryptochainprocessor

import (
	"context"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/evidence"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/metadata"
)

var base = time.Date(2026, 11, 27, 4, 0, 0, 0, time.UTC)

// rec is one test record: context id, event name, offset from base, acting process and attributes.
type rec struct {
	ctx    string
	parent string // cryptochain.context.parent_id, when set
	name   string
	at     time.Duration
	pid    int64
	anc    []int64
	attrs  map[string]any
	res    map[string]string // more resource attributes (container, image), when set
}

// logsOf builds one ResourceLogs per run of records with the same context.
func logsOf(recs ...rec) plog.Logs {
	ld := plog.NewLogs()
	var sl plog.ScopeLogs
	last := "\x00"
	for _, r := range recs {
		if r.ctx != last {
			rl := ld.ResourceLogs().AppendEmpty()
			rl.Resource().Attributes().PutStr("host.id", "host-1")
			rl.Resource().Attributes().PutStr("host.name", "node-a")
			if r.ctx != "" {
				rl.Resource().Attributes().PutStr("cryptochain.context.id", r.ctx)
			}
			if r.parent != "" {
				rl.Resource().Attributes().PutStr("cryptochain.context.parent_id", r.parent)
			}
			for _, k := range slices.Sorted(maps.Keys(r.res)) { // a stable golden input
				rl.Resource().Attributes().PutStr(k, r.res[k])
			}
			sl = rl.ScopeLogs().AppendEmpty()
			last = r.ctx
		}
		lr := sl.LogRecords().AppendEmpty()
		lr.SetEventName(r.name)
		lr.SetTimestamp(pcommon.NewTimestampFromTime(base.Add(r.at)))
		a := lr.Attributes()
		if r.pid != 0 {
			a.PutInt("process.pid", r.pid)
			a.PutStr("process.creation.time", "2026-11-27T03:00:00Z")
		}
		if r.anc != nil {
			s := a.PutEmptySlice("cryptochain.process.ancestors")
			for _, p := range r.anc {
				s.AppendEmpty().SetInt(p)
			}
		}
		for _, k := range slices.Sorted(maps.Keys(r.attrs)) { // sorted: golden inputs stay stable
			switch v := r.attrs[k].(type) {
			case []string:
				s := a.PutEmptySlice(k)
				for _, x := range v {
					s.AppendEmpty().SetStr(x)
				}
			default:
				_ = a.PutEmpty(k).FromRaw(v)
			}
		}
	}
	return ld
}

// Record builders for the fake classifier below.
func minerExec(ctx string, at time.Duration, pid int64, anc []int64) rec {
	return rec{ctx: ctx, name: "cryptochain.process.exec", at: at, pid: pid, anc: anc, attrs: map[string]any{
		"process.executable.path": "/tmp/.x/kworker",
		"process.command_args":    []string{"/tmp/.x/kworker", "-o", "stratum+tcp://pool.example:3333", "-u", "4WALLET"},
		"process.command_line":    "/tmp/.x/kworker -o stratum+tcp://pool.example:3333 -u 4WALLET",
	}}
}

func poolDNS(ctx string, at time.Duration, pid int64, anc []int64) rec {
	return rec{ctx: ctx, name: "cryptochain.dns.query", at: at, pid: pid, anc: anc, attrs: map[string]any{
		"process.executable.path": "/tmp/.x/kworker", "dns.question.name": "eu.pool.example"}}
}

func cronWrite(ctx string, at time.Duration, pid int64) rec {
	return rec{ctx: ctx, name: "cryptochain.file.write", at: at, pid: pid, anc: []int64{1}, attrs: map[string]any{
		"process.executable.path": "/usr/bin/tee", "file.path": "/etc/cron.d/kworker",
		"cryptochain.file.operation": "open", "cryptochain.file.result": "ok",
		"cryptochain.file.content": "* * * * * root /tmp/.x/kworker --config /tmp/.x/c.json"}}
}

func hugepages(ctx string, at time.Duration, pid int64) rec {
	return rec{ctx: ctx, name: "cryptochain.sysctl.write", at: at, pid: pid, anc: []int64{1}, attrs: map[string]any{
		"process.executable.path": "/usr/sbin/sysctl", "cryptochain.sysctl.name": "vm.nr_hugepages",
		"cryptochain.sysctl.value": "1280", "file.path": "/proc/sys/vm/nr_hugepages"}}
}

func benignExec(ctx string, at time.Duration, pid int64) rec {
	return rec{ctx: ctx, name: "cryptochain.process.exec", at: at, pid: pid, anc: []int64{1}, attrs: map[string]any{
		"process.executable.path": "/usr/bin/ls", "process.command_args": []string{"ls", "-l"}}}
}

func exitOf(ctx string, at time.Duration, pid int64, cpu float64) rec {
	return rec{ctx: ctx, name: "cryptochain.process.exit", at: at, pid: pid, attrs: map[string]any{
		"process.exit.code": int64(0), "cryptochain.process.cpu.time": cpu}}
}

// fakeClassify stands in for the indicator classifier so these tests exercise correlation only.
func fakeClassify(ev *evidence.Event) []evidence.Evidence {
	switch ev.Name {
	case "cryptochain.process.exec":
		for _, a := range ev.Args {
			if strings.HasPrefix(a, "stratum+tcp://") {
				return []evidence.Evidence{{Group: evidence.Miner, Strength: evidence.Strong, Kind: "pool_url",
					Indicator: a, Endpoint: strings.TrimPrefix(a, "stratum+tcp://"), Wallet: "4WALLET", Source: "test"}}
			}
		}
	case "cryptochain.dns.query":
		if strings.HasSuffix(ev.DNSName, "pool.example") {
			return []evidence.Evidence{{Group: evidence.Pool, Strength: evidence.Strong, Kind: "pool_domain",
				Indicator: ev.DNSName, Endpoint: ev.DNSName, Source: "test"}}
		}
	case "cryptochain.file.write":
		if strings.HasPrefix(ev.Path, "/etc/cron.d/") {
			f := strings.Fields(ev.Content)
			cmd := ""
			if len(f) > 6 {
				cmd = strings.Join(f[6:], " ")
			}
			return []evidence.Evidence{{Group: evidence.Persistence, Strength: evidence.Strong, Kind: "cron",
				Indicator: ev.Path, Path: ev.Path, Command: cmd, Failed: ev.Failed, Source: "test"}}
		}
	case "cryptochain.sysctl.write":
		if ev.SysctlName == "vm.nr_hugepages" {
			return []evidence.Evidence{{Group: evidence.Optimization, Strength: evidence.Strong, Kind: "hugepages",
				Indicator: ev.SysctlName + "=" + ev.SysctlValue, Path: ev.Path, Action: "sysctl " + ev.SysctlName + "=" + ev.SysctlValue, Source: "test"}}
		}
	}
	return nil
}

// fakeClassifier grades records with fakeClassify.
type fakeClassifier struct{}

func (fakeClassifier) Classify(ev *evidence.Event) []evidence.Evidence { return fakeClassify(ev) }
func (fakeClassifier) Panics() uint64                                  { return 0 }

// harness is a started processor with a sink and real telemetry.
type harness struct {
	t    *testing.T
	proc processor.Logs
	impl *cryptochainProcessor
	sink *consumertest.LogsSink
	tel  *componenttest.Telemetry
}

func newHarness(t *testing.T, mutate func(*Config), host component.Host, fake bool) *harness {
	t.Helper()
	return newHarnessNext(t, mutate, host, fake, nil)
}

// newHarnessNext is newHarness with next (wrapping the sink) as the next consumer.
func newHarnessNext(t *testing.T, mutate func(*Config), host component.Host, fake bool, next func(*consumertest.LogsSink) consumer.Logs) *harness {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	if mutate != nil {
		mutate(cfg)
	}
	require.NoError(t, cfg.Validate())
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	set := processortest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	sink := new(consumertest.LogsSink)
	impl, err := newProcessor(set, cfg)
	require.NoError(t, err)
	if fake {
		impl.cl = fakeClassifier{}
	}
	// Test records are stamped around base; the wall clock must not decide what is "the future".
	impl.now = func() time.Time { return base.Add(24 * time.Hour) }
	var nc consumer.Logs = sink
	if next != nil {
		nc = next(sink)
	}
	proc, err := newLogsProcessor(context.Background(), set, cfg, nc, impl)
	require.NoError(t, err)
	if host == nil {
		host = componenttest.NewNopHost()
	}
	require.NoError(t, proc.Start(context.Background(), host))
	h := &harness{t: t, proc: proc, impl: impl, sink: sink, tel: tel}
	return h
}

func (h *harness) shutdown() {
	require.NoError(h.t, h.proc.Shutdown(context.Background()))
}

func (h *harness) consume(recs ...rec) {
	require.NoError(h.t, h.proc.ConsumeLogs(context.Background(), logsOf(recs...)))
}

// findings returns every finding record the sink received so far, in order.
func (h *harness) findings() []plog.LogRecord {
	var out []plog.LogRecord
	for _, ld := range h.sink.AllLogs() {
		eachRecord(ld, func(_ pcommon.Resource, lr plog.LogRecord) {
			if lr.EventName() == "cryptochain.finding" {
				out = append(out, lr)
			}
		})
	}
	return out
}

func eachRecord(ld plog.Logs, fn func(pcommon.Resource, plog.LogRecord)) {
	for i := 0; i < ld.ResourceLogs().Len(); i++ {
		rl := ld.ResourceLogs().At(i)
		for j := 0; j < rl.ScopeLogs().Len(); j++ {
			lrs := rl.ScopeLogs().At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				fn(rl.Resource(), lrs.At(k))
			}
		}
	}
}

func attrStr(lr plog.LogRecord, k string) string {
	v, ok := lr.Attributes().Get(k)
	if !ok {
		return ""
	}
	return v.AsString()
}

func componenttestTelemetry(t *testing.T) *componenttest.Telemetry {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	return tel
}

// fakeClock is a settable wall clock for retries (cryptochainProcessor.clock).
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
