package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
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

	b, err := os.ReadFile(filepath.Join(filepath.Dir(simTools(t)), "fakeminer"))
	require.NoError(t, err)
	sum := sha256.Sum256(b)
	want := hex.EncodeToString(sum[:])
	hashes := final.strs("cryptochain.response.miner_sha256")
	for _, h := range hashes {
		assert.Equal(t, want, h, "a miner hash is the fake miner's sha256sum")
	}
	if sc.Name == "critical-chain" {
		assert.Equal(t, []string{want}, hashes, "the demo chain's miner is hashed")
	}
}
