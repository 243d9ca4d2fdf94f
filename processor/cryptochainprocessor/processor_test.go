package cryptochainprocessor

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/storagetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/metadatatest"
)

var line = []int64{10, 1} // the miner's ancestors

func TestSeverities(t *testing.T) {
	tests := []struct {
		name     string
		recs     []rec
		severity []string // severities emitted, in order
	}{
		{"nothing for a miner alone", []rec{minerExec("c", 0, 100, line)}, nil},
		{"medium", []rec{minerExec("c", 0, 100, line), poolDNS("c", time.Second, 100, line)}, []string{"MEDIUM"}},
		{"high in one batch", []rec{cronWrite("c", 0, 50), minerExec("c", time.Second, 100, line), poolDNS("c", 2*time.Second, 100, line)}, []string{"HIGH"}},
		{"critical in one batch", []rec{hugepages("c", 0, 60), cronWrite("c", 0, 50), minerExec("c", time.Second, 100, line), poolDNS("c", 2*time.Second, 100, line)}, []string{"CRITICAL"}},
		{"medium with optimization", []rec{hugepages("c", 0, 60), minerExec("c", time.Second, 100, line), poolDNS("c", 2*time.Second, 100, line)}, []string{"MEDIUM"}},
		{"two contexts with half a chain each", []rec{minerExec("a", 0, 100, line), poolDNS("b", time.Second, 100, line), cronWrite("b", 0, 50)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil, nil, true)
			defer h.shutdown()
			h.consume(tt.recs...)
			var got []string
			for _, f := range h.findings() {
				got = append(got, f.SeverityText())
			}
			assert.Equal(t, tt.severity, got)
		})
	}
}

func TestEscalationRecord(t *testing.T) {
	h := newHarness(t, nil, nil, true)
	defer h.shutdown()
	h.consume(minerExec("c", 0, 100, line))
	h.consume(poolDNS("c", time.Second, 100, line))
	h.consume(poolDNS("c", 2*time.Second, 100, line)) // no duplicate
	h.consume(cronWrite("c", 3*time.Second, 50))
	h.consume(cronWrite("c", 4*time.Second, 50)) // no duplicate
	h.consume(hugepages("c", 5*time.Second, 60))
	h.consume(hugepages("c", 6*time.Second, 61), poolDNS("c", 7*time.Second, 100, line))
	fs := h.findings()
	require.Len(t, fs, 3)
	wantNum := []plog.SeverityNumber{plog.SeverityNumberWarn2, plog.SeverityNumberError, plog.SeverityNumberError2}
	wantCase := []string{"Active Cryptomining", "Persistent Cryptomining", "Advanced Cryptomining Operation"}
	id := attrStr(fs[0], "cryptochain.finding.id")
	require.NotEmpty(t, id)
	for i, f := range fs {
		assert.Equal(t, wantNum[i], f.SeverityNumber())
		assert.Equal(t, wantCase[i], attrStr(f, "cryptochain.finding.case"))
		assert.Equal(t, id, attrStr(f, "cryptochain.finding.id"))
		assert.Equal(t, "cryptochain.finding", f.EventName())
		assert.Equal(t, "Cryptomining attack chain detected", attrStr(f, "security_rule.name"))
		assert.Equal(t, "TA0040", attrStr(f, "cryptochain.mitre.tactic.id"))
		assert.Equal(t, "T1496", attrStr(f, "cryptochain.mitre.technique.id"))
		assert.NotContains(t, f.Body().Str(), "\n")
	}
	crit := fs[2]
	assert.Equal(t, `["miner","pool","persistence","optimization"]`, attrStr(crit, "cryptochain.finding.groups"))
	assert.Equal(t, `[100]`, attrStr(crit, "cryptochain.response.miner_pids"))
	assert.Equal(t, `["pool.example:3333","eu.pool.example"]`, attrStr(crit, "cryptochain.response.pool_endpoints"))
	assert.Equal(t, `["4WALLET"]`, attrStr(crit, "cryptochain.response.wallets"))
	assert.Equal(t, `["/etc/cron.d/kworker"]`, attrStr(crit, "cryptochain.response.persistence_paths"))
	assert.Contains(t, crit.Body().Str(), "Advanced Cryptomining Operation")
	assert.Contains(t, crit.Body().Str(), "/tmp/.x/kworker")
	assert.Contains(t, crit.Body().Str(), "pool.example:3333")
	assert.Contains(t, crit.Body().Str(), "4WALLET")
	assert.Contains(t, crit.Body().Str(), "/etc/cron.d/kworker")
	ev, ok := crit.Attributes().Get("cryptochain.finding.evidence.miner")
	require.True(t, ok)
	require.Equal(t, 1, ev.Slice().Len())
	m := ev.Slice().At(0).Map().AsRaw()
	assert.Equal(t, int64(100), m["process.pid"])
	assert.Equal(t, "/tmp/.x/kworker", m["process.executable.path"])
	assert.Equal(t, "pool_url", m["kind"])
	assert.Equal(t, "strong", m["strength"])
	assert.Equal(t, "2026-11-27T04:00:00Z", m["time"])

	// The finding's resource is the context's.
	var res pcommon.Resource
	for _, ld := range h.sink.AllLogs() {
		eachRecord(ld, func(r pcommon.Resource, lr plog.LogRecord) {
			if lr.EventName() == "cryptochain.finding" {
				res = r
			}
		})
	}
	assert.Equal(t, map[string]any{"host.id": "host-1", "host.name": "node-a", "cryptochain.context.id": "c"}, res.Attributes().AsRaw())

	metadatatest.AssertEqualCryptochainFindings(t, h.tel, []metricdata.DataPoint[int64]{
		{Value: 1, Attributes: attribute.NewSet(attribute.String("severity", "critical"))},
		{Value: 1, Attributes: attribute.NewSet(attribute.String("severity", "high"))},
		{Value: 1, Attributes: attribute.NewSet(attribute.String("severity", "medium"))},
	}, metricdatatest.IgnoreTimestamp())
	metadatatest.AssertEqualCryptochainEventsClassified(t, h.tel, []metricdata.DataPoint[int64]{
		{Value: 1, Attributes: attribute.NewSet(attribute.String("group", "miner"))},
		{Value: 3, Attributes: attribute.NewSet(attribute.String("group", "pool"))},
		{Value: 2, Attributes: attribute.NewSet(attribute.String("group", "persistence"))},
		{Value: 2, Attributes: attribute.NewSet(attribute.String("group", "optimization"))},
	}, metricdatatest.IgnoreTimestamp())
	metadatatest.AssertEqualCryptochainActiveContexts(t, h.tel, []metricdata.DataPoint[int64]{{Value: 1}}, metricdatatest.IgnoreTimestamp())
}

func TestMinerCPUTime(t *testing.T) {
	h := newHarness(t, nil, nil, true)
	defer h.shutdown()
	h.consume(minerExec("c", 0, 100, line), exitOf("c", time.Minute, 100, 42.5), exitOf("c", time.Minute, 999, 7))
	h.consume(poolDNS("c", time.Minute+time.Second, 101, []int64{100, 10, 1}))
	fs := h.findings()
	require.Len(t, fs, 1)
	v, ok := fs[0].Attributes().Get("cryptochain.miner.cpu_time")
	require.True(t, ok)
	assert.InDelta(t, 42.5, v.Double(), 1e-9)
}

func TestForwardModes(t *testing.T) {
	recs := []rec{benignExec("c", 0, 7), minerExec("c", time.Second, 100, line), {ctx: "c", name: "custom.event"}, poolDNS("c", 2*time.Second, 100, line)}
	tests := []struct {
		forward string
		raw     []string // event names of raw records forwarded
	}{
		{ForwardIndicators, []string{"cryptochain.process.exec", "cryptochain.dns.query"}},
		{ForwardAll, []string{"cryptochain.process.exec", "cryptochain.process.exec", "custom.event", "cryptochain.dns.query"}},
		{ForwardNone, nil},
	}
	for _, tt := range tests {
		t.Run(tt.forward, func(t *testing.T) {
			h := newHarness(t, func(c *Config) { c.Forward = tt.forward }, nil, true)
			defer h.shutdown()
			h.consume(recs...)
			var raw []string
			findings := 0
			for _, ld := range h.sink.AllLogs() {
				eachRecord(ld, func(_ pcommon.Resource, lr plog.LogRecord) {
					if lr.EventName() == "cryptochain.finding" {
						findings++
						return
					}
					raw = append(raw, lr.EventName())
					g := attrStr(lr, "cryptochain.group")
					if lr.Attributes().Len() > 0 && (strings.Contains(attrStr(lr, "process.command_line"), "stratum") || lr.EventName() == "cryptochain.dns.query") {
						assert.NotEmpty(t, g, "evidence records are annotated")
					} else {
						assert.Empty(t, g)
					}
				})
			}
			assert.Equal(t, tt.raw, raw)
			assert.Equal(t, 1, findings)
		})
	}
}

func TestAllowlist(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Config)
	}{
		{"executable", func(c *Config) { c.Allowlist.Executables = []string{"/tmp/.x/kworker"} }},
		{"resource attribute value", func(c *Config) {
			c.Allowlist.ResourceAttributes = []AttributeMatch{{Key: "host.name", Value: "node-a"}}
		}},
		{"resource attribute regex", func(c *Config) {
			c.Allowlist.ResourceAttributes = []AttributeMatch{{Key: "cryptochain.context.id", Regex: "^sanctioned-"}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.mutate, nil, true)
			defer h.shutdown()
			h.consume(minerExec("sanctioned-1", 0, 100, line), poolDNS("sanctioned-1", time.Second, 100, line))
			assert.Empty(t, h.findings())
		})
	}
	t.Run("container image", func(t *testing.T) {
		h := newHarness(t, func(c *Config) { c.Allowlist.ContainerImages = []string{"registry.example/randomx-bench:1"} }, nil, true)
		defer h.shutdown()
		ld := logsOf(minerExec("c", 0, 100, line), poolDNS("c", time.Second, 100, line))
		ld.ResourceLogs().At(0).Resource().Attributes().PutStr("container.image.name", "registry.example/randomx-bench:1")
		require.NoError(t, h.proc.ConsumeLogs(context.Background(), ld))
		assert.Empty(t, h.findings())
	})
	t.Run("not allowlisted elsewhere", func(t *testing.T) {
		h := newHarness(t, func(c *Config) { c.Allowlist.Executables = []string{"/opt/research/xmrig"} }, nil, true)
		defer h.shutdown()
		h.consume(minerExec("c", 0, 100, line), poolDNS("c", time.Second, 100, line))
		assert.Len(t, h.findings(), 1)
	})
}

func TestCronRespawnLinksContexts(t *testing.T) {
	h := newHarness(t, nil, nil, true)
	defer h.shutdown()
	// Context "ssh-1" writes a cron line and nothing else.
	h.consume(cronWrite("ssh-1", 0, 50), exitOf("ssh-1", time.Second, 50, 0.01))
	// A minute later cron runs the command in a new context: `/bin/sh -c <command>`, then the miner.
	h.consume(rec{ctx: "cron-7", name: "cryptochain.process.exec", at: time.Minute, pid: 300, anc: []int64{299, 1}, attrs: map[string]any{
		"process.executable.path": "/bin/dash",
		"process.command_args":    []string{"/bin/sh", "-c", "/tmp/.x/kworker --config /tmp/.x/c.json"},
	}})
	h.consume(minerExec("cron-7", time.Minute+time.Second, 301, []int64{300, 299, 1}),
		poolDNS("cron-7", time.Minute+2*time.Second, 301, []int64{300, 299, 1}))
	fs := h.findings()
	require.Len(t, fs, 1)
	f := fs[0]
	assert.Equal(t, "HIGH", f.SeverityText())
	assert.Equal(t, `["ssh-1"]`, attrStr(f, "cryptochain.finding.linked_contexts"))
	assert.Equal(t, "cron-7", attrStr(f, "cryptochain.finding.context.id"))
	ev, ok := f.Attributes().Get("cryptochain.finding.evidence.persistence")
	require.True(t, ok)
	m := ev.Slice().At(0).Map().AsRaw()
	assert.Equal(t, "ssh-1", m["linked_from"])
	assert.Equal(t, "/etc/cron.d/kworker", m["file.path"])
	assert.Equal(t, "/tmp/.x/kworker --config /tmp/.x/c.json", m["command"])
}

func TestWindowExpiry(t *testing.T) {
	child := []int64{100, 10, 1}
	t.Run("exited miner expires", func(t *testing.T) {
		h := newHarness(t, func(c *Config) { c.Window = 10 * time.Minute }, nil, true)
		defer h.shutdown()
		h.consume(minerExec("c", 0, 100, line), exitOf("c", time.Second, 100, 1))
		h.consume(poolDNS("c", 11*time.Minute, 101, child))
		assert.Empty(t, h.findings())
	})
	t.Run("running miner keeps its evidence", func(t *testing.T) {
		h := newHarness(t, func(c *Config) { c.Window = 10 * time.Minute }, nil, true)
		defer h.shutdown()
		h.consume(minerExec("c", 0, 100, line))
		h.consume(poolDNS("c", 3*time.Hour, 101, child))
		assert.Len(t, h.findings(), 1)
	})
}

func TestBoundsAndEviction(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.MaxContexts = 2; c.MaxEvidencePerContext = 2 }, nil, true)
	defer h.shutdown()
	h.consume(minerExec("a", 0, 100, line), minerExec("b", 0, 100, line), minerExec("c", 0, 100, line))
	h.consume(poolDNS("c", time.Second, 100, line), cronWrite("c", 2*time.Second, 50))
	metadatatest.AssertEqualCryptochainEvictedContexts(t, h.tel, []metricdata.DataPoint[int64]{{Value: 1}}, metricdatatest.IgnoreTimestamp())
	metadatatest.AssertEqualCryptochainEvidenceDropped(t, h.tel, []metricdata.DataPoint[int64]{{Value: 1}}, metricdatatest.IgnoreTimestamp())
	metadatatest.AssertEqualCryptochainActiveContexts(t, h.tel, []metricdata.DataPoint[int64]{{Value: 2}}, metricdatatest.IgnoreTimestamp())
	// The cap dropped the persistence item: Medium only.
	fs := h.findings()
	require.Len(t, fs, 1)
	assert.Equal(t, "MEDIUM", fs[0].SeverityText())
}

func TestMalformedRecords(t *testing.T) {
	h := newHarness(t, nil, nil, true)
	defer h.shutdown()
	h.consume(
		rec{ctx: "c", name: "cryptochain.process.exec", attrs: map[string]any{"process.pid": "not a number"}},
		rec{ctx: "c", name: "cryptochain.dns.query", pid: 5, attrs: map[string]any{"dns.question.name": int64(7)}},
		rec{ctx: "c", name: "cryptochain.process.exec", pid: 5},                         // missing everything: fine, not malformed
		rec{ctx: "c", name: "no.such.event", attrs: map[string]any{"process.pid": "x"}}, // not ours: not malformed
	)
	assert.Empty(t, h.findings())
	metadatatest.AssertEqualCryptochainRecordsMalformed(t, h.tel, []metricdata.DataPoint[int64]{{Value: 2}}, metricdatatest.IgnoreTimestamp())
}

func TestStorageIsNotAStorageExtension(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	id := storagetest.NewNonStorageID("nope")
	cfg.Storage = &id
	p, err := NewFactory().CreateLogs(context.Background(), metadatatest.NewSettings(componenttestTelemetry(t)), cfg, nil)
	require.NoError(t, err)
	err = p.Start(context.Background(), storagetest.NewStorageHost().WithNonStorageExtension("nope"))
	require.ErrorContains(t, err, "storage")
	require.ErrorContains(t, err, "not a storage extension")
	require.NoError(t, p.Shutdown(context.Background()))

	missing := component.MustNewIDWithName("file_storage", "missing")
	cfg.Storage = &missing
	p, err = NewFactory().CreateLogs(context.Background(), metadatatest.NewSettings(componenttestTelemetry(t)), cfg, nil)
	require.NoError(t, err)
	require.ErrorContains(t, p.Start(context.Background(), storagetest.NewStorageHost()), "storage")
}

func TestRestartWithFileStorageResumesChain(t *testing.T) {
	dir := t.TempDir()
	id := storagetest.NewStorageID("chains")
	withStorage := func(c *Config) { c.Storage = &id }

	h1 := newHarness(t, withStorage, storagetest.NewStorageHost().WithFileBackedStorageExtension("chains", dir), true)
	h1.consume(minerExec("c", 0, 100, line))
	h1.consume(poolDNS("c", time.Second, 100, line))
	first := h1.findings()
	require.Len(t, first, 1)
	h1.shutdown()

	// A new instance on the same storage continues the chain: same finding id, next severity only.
	h2 := newHarness(t, withStorage, storagetest.NewStorageHost().WithFileBackedStorageExtension("chains", dir), true)
	metadatatest.AssertEqualCryptochainActiveContexts(t, h2.tel, []metricdata.DataPoint[int64]{{Value: 1}}, metricdatatest.IgnoreTimestamp())
	h2.consume(poolDNS("c", 2*time.Second, 100, line)) // Medium already reported before the restart
	assert.Empty(t, h2.findings())
	h2.consume(cronWrite("c", 3*time.Second, 50))
	second := h2.findings()
	require.Len(t, second, 1)
	assert.Equal(t, "HIGH", second[0].SeverityText())
	assert.Equal(t, attrStr(first[0], "cryptochain.finding.id"), attrStr(second[0], "cryptochain.finding.id"))
	h2.shutdown()

	// Miner evidence alone survives a restart too and completes with the Pool seen afterwards.
	dir2 := t.TempDir()
	h3 := newHarness(t, withStorage, storagetest.NewStorageHost().WithFileBackedStorageExtension("chains", dir2), true)
	h3.consume(minerExec("d", 0, 100, line))
	h3.shutdown()
	h4 := newHarness(t, withStorage, storagetest.NewStorageHost().WithFileBackedStorageExtension("chains", dir2), true)
	h4.consume(poolDNS("d", time.Second, 100, line))
	fs := h4.findings()
	require.Len(t, fs, 1)
	assert.Equal(t, "MEDIUM", fs[0].SeverityText())
	h4.shutdown()
}

func TestRestartKeepsRespawnLinks(t *testing.T) {
	dir := t.TempDir()
	id := storagetest.NewStorageID("chains")
	withStorage := func(c *Config) { c.Storage = &id }
	h1 := newHarness(t, withStorage, storagetest.NewStorageHost().WithFileBackedStorageExtension("chains", dir), true)
	h1.consume(cronWrite("ssh-1", 0, 50))
	h1.shutdown()

	h2 := newHarness(t, withStorage, storagetest.NewStorageHost().WithFileBackedStorageExtension("chains", dir), true)
	defer h2.shutdown()
	h2.consume(rec{ctx: "cron-7", name: "cryptochain.process.exec", at: time.Minute, pid: 300, anc: []int64{299, 1}, attrs: map[string]any{
		"process.executable.path": "/tmp/.x/kworker",
		"process.command_args":    []string{"/tmp/.x/kworker", "--config", "/tmp/.x/c.json"},
	}})
	h2.consume(minerExec("cron-7", time.Minute+time.Second, 300, []int64{299, 1}),
		poolDNS("cron-7", time.Minute+2*time.Second, 300, []int64{299, 1}))
	fs := h2.findings()
	require.Len(t, fs, 1)
	assert.Equal(t, "HIGH", fs[0].SeverityText())
	assert.Equal(t, `["ssh-1"]`, attrStr(fs[0], "cryptochain.finding.linked_contexts"))
}

func TestFutureTimestampDoesNotExpireChains(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Window = 10 * time.Minute }, nil, true)
	defer h.shutdown()
	h.impl.now = func() time.Time { return base.Add(time.Minute) }
	h.consume(minerExec("c", 0, 100, line), exitOf("c", time.Second, 100, 1))
	// A junk record stamped a year ahead, in the same context.
	h.consume(benignExec("c", 365*24*time.Hour, 7), poolDNS("c", 365*24*time.Hour, 101, []int64{100, 10, 1}))
	fs := h.findings()
	require.Len(t, fs, 1, "the skewed record counts as now, so the exited miner's evidence is still in the window")
}

// TestParentContextContributes: the login session writes the crontab and tunes the host; the miner
// runs in a context opened from it (nohup → daemonized). The miner's chain carries both.
func TestParentContextContributes(t *testing.T) {
	h := newHarness(t, nil, nil, true)
	defer h.shutdown()
	withParent := func(ld plog.Logs, parent string) plog.Logs {
		ld.ResourceLogs().At(0).Resource().Attributes().PutStr("cryptochain.context.parent_id", parent)
		return ld
	}
	consume := func(ld plog.Logs) { require.NoError(t, h.proc.ConsumeLogs(context.Background(), ld)) }
	consume(logsOf(cronWrite("login:1", 0, 50)))
	consume(withParent(logsOf(minerExec("daemonized:2", time.Second, 100, line)), "login:1"))
	consume(withParent(logsOf(poolDNS("daemonized:2", 2*time.Second, 100, line)), "login:1"))
	// Later tuning in the parent escalates the child's chain.
	consume(logsOf(hugepages("login:1", 3*time.Second, 60)))
	// An unrelated session's persistence does not.
	consume(logsOf(cronWrite("login:9", 4*time.Second, 70)))
	fs := h.findings()
	require.Len(t, fs, 2)
	assert.Equal(t, "HIGH", fs[0].SeverityText())
	assert.Equal(t, "CRITICAL", fs[1].SeverityText())
	assert.Equal(t, attrStr(fs[0], "cryptochain.finding.id"), attrStr(fs[1], "cryptochain.finding.id"))
	assert.Equal(t, "daemonized:2", attrStr(fs[1], "cryptochain.finding.context.id"))
	assert.Equal(t, `["login:1"]`, attrStr(fs[1], "cryptochain.finding.linked_contexts"))
	ev, ok := fs[1].Attributes().Get("cryptochain.finding.evidence.optimization")
	require.True(t, ok)
	assert.Equal(t, "login:1", ev.Slice().At(0).Map().AsRaw()["linked_from"])
	// The parent itself has no miner: no finding of its own.
	for _, f := range fs {
		assert.NotEqual(t, "login:1", attrStr(f, "cryptochain.finding.context.id"))
	}
}

// groupsOf returns the cryptochain.finding.groups of a finding.
func groupsOf(t *testing.T, lr plog.LogRecord) []any {
	v, ok := lr.Attributes().Get("cryptochain.finding.groups")
	require.True(t, ok)
	return v.Slice().AsRaw()
}

// TestBootContextContributesNothing: a boot context is the catch-all of processes with unknown
// ancestry (unrelated admin activity, other tests' MSR opens), not an entry point. A chain in a
// context opened from it stays Medium with exactly Miner and Pool, whether the boot context's
// evidence came before the chain or after it, and whether it is recognised by its kind or its id.
func TestBootContextContributesNothing(t *testing.T) {
	for _, tc := range []struct{ name, bootID, kind string }{
		{"by kind and id", "boot:1", "boot"},
		{"by kind", "cgroup-7", "boot"},
		{"by id", "boot:2", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil, nil, false)
			defer h.shutdown()
			withRes := func(r rec, id, kind, parent string) plog.Logs {
				r.ctx, r.parent = id, parent
				ld := logsOf(r)
				if kind != "" {
					ld.ResourceLogs().At(0).Resource().Attributes().PutStr("cryptochain.context.kind", kind)
				}
				return ld
			}
			boot := func(r rec) plog.Logs { return withRes(r, tc.bootID, tc.kind, "") }
			child := func(r rec) plog.Logs { return withRes(r, "daemonized:3", "daemonized", tc.bootID) }
			consume := func(ld plog.Logs) { require.NoError(t, h.proc.ConsumeLogs(context.Background(), ld)) }
			consume(boot(fileWrite("", 0, 40, []int64{1}, "/usr/bin/msr-tool", "/dev/cpu/0/msr", "open", "")))
			consume(boot(fileWrite("", time.Second, 41, []int64{1}, "/usr/bin/tee", "/etc/cron.d/backup", "create",
				"0 3 * * * root /usr/local/bin/backup.sh\n")))
			for _, r := range minerRun("", 2*time.Second) {
				consume(child(r))
			}
			// Later unrelated activity in the catch-all does not escalate the chain either.
			consume(boot(sysctl("", 3*time.Second, 42, []int64{1}, "vm.nr_hugepages", "1280")))
			consume(boot(fileWrite("", 4*time.Second, 43, []int64{1}, "/usr/bin/tee", "/etc/cron.d/other", "create",
				"*/5 * * * * root /usr/local/bin/other.sh\n")))
			fs := h.findings()
			require.Len(t, fs, 1)
			assert.Equal(t, "MEDIUM", fs[0].SeverityText())
			assert.Equal(t, "daemonized:3", attrStr(fs[0], "cryptochain.finding.context.id"))
			assert.Equal(t, []any{"miner", "pool"}, groupsOf(t, fs[0]))
		})
	}
}

// TestCrontabSpoolWriteInOneBatch: the crontab exec and its spool write arrive in one ConsumeLogs
// call; the High finding names the spool path, never `-`.
func TestCrontabSpoolWriteInOneBatch(t *testing.T) {
	h := newHarness(t, nil, nil, false)
	defer h.shutdown()
	recs := minerRun("ssh:1", 0)
	h.consume(recs...)
	cron := "*/5 * * * * " + xmrig + " -o stratum+tcp://" + pool + ":3333\n"
	// Debian's crontab writes a staging file in the spool, then renames it onto the user's table.
	rename := fileWrite("ssh:1", time.Second+5*time.Millisecond, 950, sh, "/usr/bin/crontab", "/var/spool/cron/crontabs/root", "rename", cron)
	rename.attrs["cryptochain.file.source_path"] = "/var/spool/cron/crontabs/tmp.mmvz4b"
	h.consume(exec("ssh:1", time.Second, 950, sh, "/usr/bin/crontab", "crontab", "-"),
		fileWrite("ssh:1", time.Second+2*time.Millisecond, 950, sh, "/usr/bin/crontab", "/var/spool/cron/crontabs/tmp.mmvz4b", "create", cron),
		rename)
	fs := h.findings()
	require.Len(t, fs, 2)
	assert.Equal(t, "HIGH", fs[1].SeverityText())
	assert.Contains(t, fs[1].Body().Str(), "persistence /var/spool/cron/crontabs/root,")
	v, ok := fs[1].Attributes().Get("cryptochain.response.persistence_paths")
	require.True(t, ok)
	assert.Equal(t, []any{"/var/spool/cron/crontabs/root"}, v.Slice().AsRaw())
}

// TestCrontabFailedSpoolWriteIsNotPersistence: `crontab -` whose spool write failed (read-only
// spool, denied) is recorded but does not make the chain High.
func TestCrontabFailedSpoolWriteIsNotPersistence(t *testing.T) {
	h := newHarness(t, nil, nil, false)
	defer h.shutdown()
	h.consume(minerRun("ssh:1", 0)...)
	failed := fileWrite("ssh:1", time.Second+5*time.Millisecond, 950, sh, "/usr/bin/crontab", "/var/spool/cron/crontabs/root", "rename",
		"*/5 * * * * "+xmrig+"\n")
	failed.attrs["cryptochain.file.result"] = "error"
	h.consume(exec("ssh:1", time.Second, 950, sh, "/usr/bin/crontab", "crontab", "-"), failed)
	fs := h.findings()
	require.Len(t, fs, 1)
	assert.Equal(t, "MEDIUM", fs[0].SeverityText())
}

// A finding's resource carries every resource key the receiver writes, the pod and image names
// included: the response exporter's allowlist and a backend's filters read them there.
func TestFindingCarriesWorkloadResource(t *testing.T) {
	h := newHarness(t, nil, nil, true)
	defer h.shutdown()
	workload := map[string]string{
		contract.ResourceContainerID:          strings.Repeat("c1", 32),
		contract.ResourceContainerImageName:   "docker.io/library/nginx:1.27",
		contract.ResourceContainerRuntimeName: "containerd",
		contract.ResourceContextKind:          "cgroup",
		contract.ResourceK8sContainerName:     "nginx",
		contract.ResourceK8sNamespaceName:     "prod",
		contract.ResourceK8sPodName:           "web-7d9f8",
		contract.ResourceK8sPodUID:            "3f1c2a4e-8b7d-4c2e-9a1f-0d5e6b7c8a91",
		contract.ResourceProcessLinuxCgroup:   "0::/kubepods/burstable/pod3f1c2a4e-8b7d-4c2e-9a1f-0d5e6b7c8a91/" + strings.Repeat("c1", 32),
	}
	ld := logsOf(minerExec("c", 0, 100, line), poolDNS("c", time.Second, 100, line))
	for i := 0; i < ld.ResourceLogs().Len(); i++ {
		for k, v := range workload {
			ld.ResourceLogs().At(i).Resource().Attributes().PutStr(k, v)
		}
	}
	require.NoError(t, h.proc.ConsumeLogs(context.Background(), ld))
	var res []map[string]any
	for _, out := range h.sink.AllLogs() {
		eachRecord(out, func(r pcommon.Resource, lr plog.LogRecord) {
			if lr.EventName() == contract.EventFinding {
				res = append(res, r.Attributes().AsRaw())
			}
		})
	}
	require.Len(t, res, 1)
	for k, v := range workload {
		assert.Equal(t, v, res[0][k], k)
	}
	// Every key of the contract is covered: the test harness sets the host and context ids.
	for _, k := range contract.ResourceKeys {
		switch k {
		case contract.ResourceHostID, contract.ResourceHostName, contract.ResourceContextID, contract.ResourceContextParentID:
		default:
			assert.Contains(t, workload, k, "a resource key this test does not send through")
		}
	}
}
