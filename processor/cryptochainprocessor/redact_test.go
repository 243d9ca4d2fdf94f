package cryptochainprocessor

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"

	"github.com/cryptochain-otel/cryptochain/internal/redact"
	"github.com/cryptochain-otel/cryptochain/internal/redact/redacttest"
)

const corpusWallet = "4Af76yNqbtBeBiorVRyP2jaZSKvN95be1QUwTjeNbXJcBn9etYkQVrA3TVQkWeqXam4TvaHm4RaByhDxotGty4uJ5sa88cY"

// corpusRecords turns the corpus into the records an agent without redaction would send: one
// context, so that the miner entries, the stratum login and the cron miner line chain into findings
// whose evidence carries the secrets.
func corpusRecords(corpus []redacttest.Entry) []rec {
	var recs []rec
	at := time.Duration(0)
	pid := int64(1000)
	for _, e := range corpus {
		at += time.Second
		pid++
		r := rec{ctx: "ssh:1", at: at, pid: pid, anc: []int64{10, 1}, attrs: map[string]any{}}
		switch {
		case len(e.Argv) > 0:
			r.name = "cryptochain.process.exec"
			exe := "/usr/bin/" + e.Argv[0]
			if e.Argv[0] == "xmrig" {
				exe = "/tmp/.x/xmrig"
			}
			r.attrs["process.executable.path"] = exe
			r.attrs["process.command_args"] = e.Argv
			r.attrs["process.command_line"] = strings.Join(e.Argv, " ")
		case len(e.Env) > 0:
			r.name = "cryptochain.process.exec"
			r.attrs["process.executable.path"] = "/usr/bin/true"
			r.attrs["process.command_args"] = []string{"true"}
			for k, v := range e.Env {
				r.attrs["process.environment_variable."+k] = v
			}
		case e.Payload != "":
			r.name = "cryptochain.network.payload"
			r.attrs["process.executable.path"] = "/tmp/.x/xmrig"
			r.attrs["server.address"] = "127.0.0.1"
			r.attrs["server.port"] = int64(3333)
			r.attrs["cryptochain.network.payload"] = e.Payload
		default:
			r.name = "cryptochain.file.write"
			r.attrs["process.executable.path"] = "/usr/bin/tee"
			r.attrs["file.path"] = "/etc/cron.d/job" + string(rune('a'+len(recs)%26))
			r.attrs["cryptochain.file.operation"] = "open"
			r.attrs["cryptochain.file.result"] = "ok"
			r.attrs["cryptochain.file.content"] = e.File
		}
		recs = append(recs, r)
	}
	return recs
}

// viaOTLP round-trips logs through the OTLP protobuf encoding, as records from another agent arrive.
func viaOTLP(t *testing.T, ld plog.Logs) plog.Logs {
	b, err := plogotlp.NewExportRequestFromLogs(ld).MarshalProto()
	require.NoError(t, err)
	req := plogotlp.NewExportRequest()
	require.NoError(t, req.UnmarshalProto(b))
	return req.Logs()
}

func exported(t *testing.T, h *harness) (all, findings string) {
	var raw, fraw []byte
	var m plog.JSONMarshaler
	for _, ld := range h.sink.AllLogs() {
		j, err := m.MarshalLogs(ld)
		require.NoError(t, err)
		raw = append(append(raw, j...), '\n')
	}
	for _, f := range h.findings() {
		ld := plog.NewLogs()
		f.CopyTo(ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty())
		j, err := m.MarshalLogs(ld)
		require.NoError(t, err)
		fraw = append(append(fraw, j...), '\n')
	}
	all, err := redacttest.Normalize(raw)
	require.NoError(t, err)
	findings, err = redacttest.Normalize(fraw)
	require.NoError(t, err)
	return all, findings
}

// TestRedactionCorpus plays every secret shape through the processor (OTLP input, forward: all,
// the real classifier): neither a forwarded record nor a finding may carry a secret, and the
// findings still name the wallet and the pool.
func TestRedactionCorpus(t *testing.T) {
	corpus, err := redacttest.Load()
	require.NoError(t, err)
	h := newHarness(t, func(c *Config) { c.Forward = ForwardAll }, nil, false)
	defer h.shutdown()
	require.NoError(t, h.proc.ConsumeLogs(context.Background(), viaOTLP(t, logsOf(corpusRecords(corpus)...))))
	all, findings := exported(t, h)
	require.NotEmpty(t, h.findings(), "the corpus context must escalate")
	assert.Empty(t, redacttest.Leaks(corpus, all), "secrets in exported records")
	assert.Contains(t, findings, corpusWallet)
	assert.Contains(t, findings, "127.0.0.1:3333")
	assert.Contains(t, findings, redact.Mark, "the findings' evidence carried secrets that were redacted")
}

// TestRedactionCorpusCanFail: with every rule off the same search finds secrets in the findings
// alone (forward: none), so the test above can fail.
func TestRedactionCorpusCanFail(t *testing.T) {
	corpus, err := redacttest.Load()
	require.NoError(t, err)
	h := newHarness(t, func(c *Config) {
		c.Forward = ForwardNone
		c.Redaction.Disable = redact.Rules
	}, nil, false)
	defer h.shutdown()
	require.NoError(t, h.proc.ConsumeLogs(context.Background(), viaOTLP(t, logsOf(corpusRecords(corpus)...))))
	_, findings := exported(t, h)
	assert.NotEmpty(t, redacttest.Leaks(corpus, findings))
}

// TestGoldenOnRedactedInput replays every golden scenario after redacting its input the way a
// receiver does: the same severities, wallets and pool endpoints come out.
func TestGoldenOnRedactedInput(t *testing.T) {
	r := redact.Default()
	for _, sc := range scenarios() {
		t.Run(sc.name, func(t *testing.T) {
			dir := filepath.Join("testdata", "golden", sc.name)
			raw, err := os.ReadFile(filepath.Join(dir, "input.json"))
			require.NoError(t, err)
			in, err := (&plog.JSONUnmarshaler{}).UnmarshalLogs(raw)
			require.NoError(t, err)
			eachRecord(in, func(_ pcommon.Resource, lr plog.LogRecord) { redactFinding(r, lr) }) // every string
			raw, err = os.ReadFile(filepath.Join(dir, "expected_findings.json"))
			require.NoError(t, err)
			want, err := (&plog.JSONUnmarshaler{}).UnmarshalLogs(raw)
			require.NoError(t, err)
			assert.Equal(t, summary(want), summary(replay(t, in)))
		})
	}
}

// summary is what a finding must keep when its input was redacted.
func summary(ld plog.Logs) []string {
	var out []string
	eachRecord(ld, func(_ pcommon.Resource, lr plog.LogRecord) {
		out = append(out, lr.SeverityText()+" wallets="+attrStr(lr, "cryptochain.response.wallets")+
			" pools="+attrStr(lr, "cryptochain.response.pool_endpoints")+" groups="+attrStr(lr, "cryptochain.finding.groups"))
	})
	return out
}

// BenchmarkRedactForwarded is the redaction of forwarded records alone, per record of the
// ConsumeLogs benchmark's batches (compare with its cpu-ns/record).
func BenchmarkRedactForwarded(b *testing.B) {
	batches := benchBatches()
	r := redact.Default()
	var recs []plog.LogRecord
	for _, ld := range batches {
		eachRecord(ld, func(_ pcommon.Resource, lr plog.LogRecord) { recs = append(recs, lr) })
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		redactForwarded(r, recs[i%len(recs)])
	}
}
