package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/pdata/plog"
)

func TestRenderShowsEntryPointHashAndRemediation(t *testing.T) {
	lr := plog.NewLogRecord()
	lr.SetSeverityText("HIGH")
	a := lr.Attributes()
	a.PutStr("cryptochain.finding.case", "Persistent Cryptomining")
	a.PutEmptySlice("cryptochain.response.miner_sha256").AppendEmpty().SetStr("ab12")
	a.PutEmptyMap("cryptochain.finding.entry_point").PutStr("summary", "login_session, process /tmp/x; inferred T1078 Valid Accounts (…)")
	a.PutStr("cryptochain.finding.remediation", "remove the persistence first")
	out := render(lr)
	for _, want := range []string{"cryptochain.response.miner_sha256", "ab12", "cryptochain.finding.entry_point",
		"inferred T1078", "cryptochain.finding.remediation"} {
		assert.True(t, strings.Contains(out, want), "%q in\n%s", want, out)
	}
}
