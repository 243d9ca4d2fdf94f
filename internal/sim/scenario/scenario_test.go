package scenario

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestShippedScenarios keeps the scenario set complete: every file loads,
// every severity is covered, and the required look-alikes exist.
func TestShippedScenarios(t *testing.T) {
	all, err := LoadDir(filepath.Join("..", "..", "..", "testdata", "scenarios"))
	require.NoError(t, err)
	bySeverity := map[string]int{}
	// Wallets tie findings to scenarios in the e2e tests: one per scenario.
	walletOf := map[string]string{}
	container, configOnly := 0, 0
	for _, s := range all {
		bySeverity[s.Expect.Severity]++
		if s.HasTag("container") {
			container++
			assert.True(t, s.Expect.Evidence.ContainerID, "%s: container scenario must expect container.id", s.Name)
		}
		for _, st := range s.Steps {
			if st.Miner != nil && len(st.Miner.Args) == 0 {
				configOnly++
			}
		}
		if w := s.Expect.Evidence.Wallet; w != "" {
			if other, dup := walletOf[w]; dup {
				t.Errorf("%s and %s share wallet %s", other, s.Name, w)
			}
			walletOf[w] = s.Name
		}
		if s.Malicious() {
			require.NotEmpty(t, s.Expect.Escalations, s.Name)
			assert.Equal(t, s.Expect.Severity, s.Expect.Escalations[len(s.Expect.Escalations)-1], "%s: last escalation is the final severity", s.Name)
		}
	}
	for _, sev := range Severities[1:] {
		assert.Positive(t, bySeverity[sev], "no %s scenario", sev)
	}
	assert.GreaterOrEqual(t, bySeverity["none"], 6, "benign look-alikes")
	assert.Positive(t, container)
	assert.Positive(t, configOnly)
}

func TestValidateNamesKeys(t *testing.T) {
	dir := t.TempDir()
	bad := `name: bad
network:
  dns:
    pool.example: {a: [192.0.2.1]}
  pool_ports: [53]
steps:
  - miner: {name: xmrig}
    crontab: "* * * * * x"
  - sysctl: {name: kernel.panic, value: "1"}
  - miner: {name: xmrig, double_fork: true, background: true, pad_args: -1}
  - exec: {argv: [ld], pad_args: 30000}
expect: {severity: catastrophic}
`
	p := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(p, []byte(bad), 0o644))
	_, err := Load(p)
	require.Error(t, err)
	for _, key := range []string{"expect.severity", "network.dns.pool.example.a", "network.pool_ports[0]", "steps[0]: exactly one action", "steps[1].sysctl.name",
		"steps[2].miner.pad_args", "steps[2].miner.double_fork", "steps[3].exec.pad_args"} {
		assert.ErrorContains(t, err, key)
	}

	require.NoError(t, os.WriteFile(p, []byte("name: x\nstepz: []\n"), 0o644))
	_, err = Load(p)
	assert.ErrorContains(t, err, "stepz")
}
