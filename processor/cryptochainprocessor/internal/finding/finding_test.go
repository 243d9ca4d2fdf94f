package finding

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/chain"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/evidence"
)

func TestSeverityMapping(t *testing.T) {
	for _, tc := range []struct {
		l    chain.Level
		num  plog.SeverityNumber
		text string
	}{
		{chain.Medium, plog.SeverityNumberWarn2, "MEDIUM"},
		{chain.High, plog.SeverityNumberError, "HIGH"},
		{chain.Critical, plog.SeverityNumberError2, "CRITICAL"},
	} {
		num, text := Severity(tc.l)
		assert.Equal(t, tc.num, num)
		assert.Equal(t, tc.text, text)
	}
	n, _ := Severity(chain.High)
	assert.GreaterOrEqual(t, int(n), 17)
	n, _ = Severity(chain.Medium)
	assert.True(t, n >= plog.SeverityNumberWarn && n <= plog.SeverityNumberWarn4)
}

func TestBodyIsOneLineAndCommandLineBounded(t *testing.T) {
	res := pcommon.NewResource()
	res.Attributes().PutStr("cryptochain.context.id", "ctx")
	long := make([]byte, 5000)
	for i := range long {
		long[i] = 'a'
	}
	o := &chain.Origin{Time: 1, PID: 9, Exe: "/tmp/evil\nname", CmdLine: string(long)}
	f := &chain.Finding{ID: "id", Level: chain.Medium, Context: &chain.Context{ID: "ctx", Resource: chain.EncodeResource(res)},
		Groups: []evidence.Group{evidence.Miner, evidence.Pool},
		Items: []chain.Item{
			{Evidence: evidence.Evidence{Group: evidence.Miner, Strength: evidence.Strong, Kind: "wallet", Wallet: "4abc"}, Origin: o},
			{Evidence: evidence.Evidence{Group: evidence.Pool, Strength: evidence.Strong, Kind: "pool_domain", Endpoint: "p.example\r\n"}, Origin: o},
		}}
	ld := plog.NewLogs()
	lr := Append(ld.ResourceLogs(), f, "scope", time.Unix(10, 0))
	assert.NotContains(t, lr.Body().Str(), "\n")
	assert.NotContains(t, lr.Body().Str(), "\r")
	assert.Equal(t, "ctx", ld.ResourceLogs().At(0).Resource().Attributes().AsRaw()["cryptochain.context.id"])
	ev, _ := lr.Attributes().Get("cryptochain.finding.evidence.miner")
	cmd := ev.Slice().At(0).Map().AsRaw()["process.command_line"].(string)
	assert.LessOrEqual(t, len(cmd), maxCmdLine+len("…"))
	_, hasCPU := lr.Attributes().Get(AttrMinerCPUTime)
	assert.False(t, hasCPU, "no exit seen: no CPU time")
}

func TestMinerNamedByStrongEvidence(t *testing.T) {
	launcher := &chain.Origin{Time: 1, PID: 10, Exe: "/usr/bin/launcher"}
	miner := &chain.Origin{Time: 2, PID: 11, Exe: "/tmp/.x/xmrig"}
	f := &chain.Finding{ID: "id", Level: chain.Medium, Context: &chain.Context{ID: "ctx"},
		Groups: []evidence.Group{evidence.Miner, evidence.Pool},
		Items: []chain.Item{
			// The weak hint on the launcher is seen first; the miner is still the strong process.
			{Evidence: evidence.Evidence{Group: evidence.Miner, Strength: evidence.Weak, Kind: "masquerade"}, Origin: launcher},
			{Evidence: evidence.Evidence{Group: evidence.Miner, Strength: evidence.Strong, Kind: "pool_url"}, Origin: miner},
			{Evidence: evidence.Evidence{Group: evidence.Pool, Strength: evidence.Strong, Kind: "pool_domain", Endpoint: "p.example:3333"}, Origin: miner},
		}}
	lr := Append(plog.NewLogs().ResourceLogs(), f, "scope", time.Unix(10, 0))
	assert.Contains(t, lr.Body().Str(), "miner /tmp/.x/xmrig (pid 11)")
	pids, _ := lr.Attributes().Get(AttrMinerPIDs)
	assert.Equal(t, []any{int64(11), int64(10)}, pids.Slice().AsRaw())
}
