package classify

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/evidence"
)

// Hostile records go through decode and classify without panics and without strong evidence.
func TestHostileRecords(t *testing.T) {
	c := newC(t)
	mb := strings.Repeat("A", 1<<20)
	junk := strings.Repeat("\xff\x00\xfe\x80", 1<<18)

	lr := plog.NewLogRecord()
	lr.SetEventName(contract.EventExec)
	m := lr.Attributes()
	m.PutStr("process.command_line", mb)
	args := m.PutEmptySlice("process.command_args")
	args.AppendEmpty().SetStr("/usr/bin/app")
	args.AppendEmpty().SetStr(mb)
	args.AppendEmpty().SetStr(junk)
	for i := 0; i < 10000; i++ {
		m.PutStr("process.environment_variable.VAR_"+strconv.Itoa(i), junk[:200])
	}
	m.PutStr("process.executable.path", "/usr/bin/app")
	ev, err := decodeRecord(lr)
	require.NoError(t, err)
	assert.LessOrEqual(t, len(ev.EnvVars), evidence.MaxEnv)
	for _, e := range c.Classify(ev) {
		assert.NotEqual(t, evidence.Strong, e.Strength, "%+v", e)
	}

	defer func() { assert.Zero(t, c.Panics()) }()
	for _, name := range fuzzNames {
		ev, err := decodeRecord(fuzzRecord(uint8(indexOf(name)), junk[:5000]+"\x00"+mb[:70000], "A="+junk[:9000], junk[:300], junk[:70000], 1<<62))
		require.NoError(t, err)
		for _, e := range c.Classify(ev) {
			assert.NotEqual(t, evidence.Strong, e.Strength, "%s: %+v", name, e)
		}
	}
}

func indexOf(name string) int {
	for i, n := range fuzzNames {
		if n == name {
			return i
		}
	}
	return 0
}

// Evidence strings are copies: they must not pin a large argument.
func TestEvidenceDoesNotPinInput(t *testing.T) {
	c := newC(t)
	big := strings.Repeat("x", 1<<16) + " stratum+tcp://pool.example.net:3333 " + strings.Repeat("y", 1<<16)
	got := c.Classify(exec("/opt/x/run", "--opts", big))
	require.True(t, has(got, "miner/strong/pool_url"), "%v", summary(got))
	for _, e := range got {
		assert.Less(t, len(e.Indicator), 1024)
	}
}
