package e2e

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cryptochain-otel/cryptochain/internal/sim/scenario"
)

// checkTriage asserts what an analyst starts from on every malicious scenario's final finding: the
// rule's identity and runbook, a remediation, an entry point, and executable hashes that are the fake
// miner's (the only miner binary the simulator runs: from a file, a memfd or a container rootfs).
func checkTriage(t *testing.T, sc *scenario.Scenario, final finding) {
	t.Helper()
	assert.NotEmpty(t, final.str("security_rule.uuid"))
	assert.Contains(t, final.str("security_rule.reference"), "docs/runbook.md")
	assert.NotEmpty(t, final.str("cryptochain.finding.remediation"))
	ep, _ := final.Attrs["cryptochain.finding.entry_point"].(map[string]any)
	require.NotNil(t, ep, "entry point of %v", final)
	assert.NotEmpty(t, ep["summary"])
	if sc.Expect.Evidence.ContainerID {
		assert.NotEmpty(t, ep["container.id"], "the entry point names the container: %v", ep)
	}
	t.Logf("entry point: %v", ep["summary"])
	_, kinds, technique := entryPointOf(t, final)
	switch {
	case viaCron(sc): // the job cron re-spawned: its own context is cron's
		assert.Equal(t, []string{"cron"}, kinds[:min(1, len(kinds))], "%v", ep)
		assert.Equal(t, "T1053.003", technique, "%v", ep)
	case sc.Expect.Evidence.ContainerID: // a container started with the miner
		assert.Equal(t, []string{"cgroup"}, kinds[:min(1, len(kinds))], "%v", ep)
		assert.Equal(t, "T1610", technique, "%v", ep)
	}

	want := sha256sum(t, filepath.Join(filepath.Dir(simTools(t)), "fakeminer"))
	hashes := final.strs("cryptochain.response.miner_sha256")
	for _, h := range hashes {
		assert.Equal(t, want, h, "a miner hash is the fake miner's sha256sum")
	}
	if sc.Name == "critical-chain" {
		assert.Equal(t, []string{want}, hashes, "the demo chain's miner is hashed")
	}
}

// viaCron: the scenario's miner is started the way cron re-spawns a job.
func viaCron(sc *scenario.Scenario) bool {
	for _, st := range sc.Steps {
		if st.Miner != nil && st.Miner.ViaCron {
			return true
		}
	}
	return false
}
