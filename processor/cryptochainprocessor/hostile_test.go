package cryptochainprocessor

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/metadatatest"
)

// TestHostileInput feeds the real classifier and the chain state records built to hurt: no panic,
// no finding, wrongly typed records counted as malformed.
func TestHostileInput(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Forward = ForwardAll }, nil, false)
	defer h.shutdown()

	huge := strings.Repeat("A", 1<<20)
	env := map[string]any{"process.executable.path": "/usr/bin/env"}
	for i := 0; i < 10000; i++ {
		env["process.environment_variable.V"+strings.Repeat("x", i%7)+string(rune('a'+i%26))+itoa(i)] = "value-" + itoa(i)
	}
	junk := make([]byte, 4096)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range junk {
		junk[i] = byte(r.UintN(256))
	}
	recs := []rec{
		{ctx: "h", name: "cryptochain.process.exec", pid: 1, anc: []int64{1}, attrs: map[string]any{
			"process.executable.path": "/usr/bin/" + huge, "process.command_args": []string{"x", huge, huge},
			"process.command_line": "x " + huge}},
		{ctx: "h", name: "cryptochain.process.exec", pid: 2, anc: []int64{1}, attrs: env},
		{ctx: "h", name: "cryptochain.process.exec", pid: 3, anc: []int64{1}, attrs: map[string]any{
			"process.executable.path": string(junk), "process.command_args": []string{string(junk), "\xff\xfe-o", "stratum+tcp://\xff\xff:3333"},
			"process.command_line": "\xc3\x28 \xa0\xa1"}},
		{ctx: "h", name: "cryptochain.dns.query", pid: 4, anc: []int64{1}, attrs: map[string]any{"dns.question.name": string(junk)}},
		{ctx: "h", name: "cryptochain.dns.answer", pid: 4, anc: []int64{1}, attrs: map[string]any{"dns.question.name": "a.example", "dns.answers": []string{string(junk), "not-an-ip", ""}}},
		{ctx: "h", name: "cryptochain.file.write", pid: 5, anc: []int64{1}, attrs: map[string]any{"file.path": "/etc/cron.d/" + string(junk), "cryptochain.file.content": huge}},
		{ctx: "h", name: "cryptochain.sysctl.write", pid: 6, anc: []int64{1}, attrs: map[string]any{"cryptochain.sysctl.name": string(junk), "cryptochain.sysctl.value": huge}},
		// Wrongly typed attributes: malformed.
		{ctx: "h", name: "cryptochain.process.exec", attrs: map[string]any{"process.pid": "1", "process.command_args": "not a slice"}},
		{ctx: "h", name: "cryptochain.network.connect", pid: 7, attrs: map[string]any{"server.port": "3333", "server.address": int64(5)}},
		{ctx: "h", name: "cryptochain.process.exit", pid: 7, attrs: map[string]any{"cryptochain.process.cpu.time": "lots"}},
		{ctx: "h", name: "cryptochain.process.exec", pid: 8, attrs: map[string]any{"cryptochain.process.ancestors": []string{"a", "b"}}},
	}
	ld := logsOf(recs...)
	// A body of bytes and a record with no event name at all.
	lr := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().AppendEmpty()
	lr.Body().SetEmptyBytes().FromRaw(junk)
	// Non-string resource values for the context keys.
	ld.ResourceLogs().At(0).Resource().Attributes().PutInt("host.id", 42)
	require.NotPanics(t, func() {
		require.NoError(t, h.proc.ConsumeLogs(context.Background(), ld))
	})
	assert.Empty(t, h.findings())
	metadatatest.AssertEqualCryptochainRecordsMalformed(t, h.tel, []metricdata.DataPoint[int64]{{Value: 4}}, metricdatatest.IgnoreTimestamp())
}

// TestNoSecretInFinding: environment values that are not indicators never reach a finding.
func TestNoSecretInFinding(t *testing.T) {
	h := newHarness(t, nil, nil, false)
	defer h.shutdown()
	args := []string{"/tmp/.x/xmrig", "-o", "stratum+tcp://pool.supportxmr.com:3333", "-u", wallet, "--donate-level", "1"}
	r := exec("c", 0, 100, line, "/tmp/.x/xmrig", args...)
	r.attrs["process.environment_variable.AWS_SECRET_ACCESS_KEY"] = "wJalrXUtnFEMI-secret-value"
	r.attrs["process.environment_variable.DB_PASSWORD"] = "hunter2-secret-value"
	h.consume(r, dnsQuery("c", time.Second, 100, line, "/tmp/.x/xmrig", "pool.supportxmr.com"))
	fs := h.findings()
	require.Len(t, fs, 1)
	all := plog.NewLogs()
	fs[0].CopyTo(all.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty())
	b, err := (&plog.JSONMarshaler{}).MarshalLogs(all)
	require.NoError(t, err)
	assert.NotContains(t, string(b), "secret-value")
	assert.Contains(t, string(b), wallet)
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b [20]byte
	n := len(b)
	for ; i > 0; i /= 10 {
		n--
		b[n] = byte('0' + i%10)
	}
	return string(b[n:])
}
