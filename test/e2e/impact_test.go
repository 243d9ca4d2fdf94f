package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cryptochain-otel/cryptochain/internal/sim/scenario"
)

const (
	eventImpact    = "cryptochain.finding.impact"
	attrImpactCPU  = "cryptochain.impact.cpu_seconds"
	attrImpactRSS  = "cryptochain.impact.memory_rss_bytes"
	attrImpactCost = "cryptochain.impact.estimated_cost"
	attrPoolSent   = "cryptochain.impact.pool_bytes_sent"
	attrPoolRecv   = "cryptochain.impact.pool_bytes_received"
	attrPoolScope  = "cryptochain.impact.pool_bytes_scope"
)

// TestImpactOfARunningMiner: the agent samples the running fake miner (usage.interval 1s) and the
// processor updates its finding (impact.interval 1s): several cryptochain.finding.impact records
// with the finding's id and CPU seconds that grow while the miner burns, and the bytes of its
// login to the fake pool (in the simulator's network namespace) counted as exchanged with the pool.
func TestImpactOfARunningMiner(t *testing.T) {
	requireE2E(t)
	s := &stack{t: t, dir: t.TempDir(), peerPort: freePort(t)}
	peerFile := filepath.Join(s.dir, "peer", "findings.jsonl")
	s.findings = watch(t, peerFile)
	s.startPeer()
	agentDir := filepath.Join(s.dir, "agent")
	env := []string{fmt.Sprintf("OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:%d", s.peerPort)}
	require.NoError(t, os.MkdirAll(agentDir, 0o755))
	s.agent = startCollector(t, "agent", agentDir, env, "--config", "embedded:agent", "--config", noTelemetry,
		"--config", "yaml:receivers::ebpf::usage::interval: 1s",
		"--config", "yaml:processors::cryptochain::impact::interval: 1s")
	require.NoError(t, s.agent.waitReady(60*time.Second))

	// The Critical chain with a miner that burns in the background for 6 s.
	sc, err := scenario.Load(filepath.Join(repoRoot, "test", "e2e", "testdata", "respond-critical-chain.yaml"))
	require.NoError(t, err)
	res := play(t, sc, nil)
	fs := s.findings.waitFor(sc, res, findingTimeout, hasSeverity("medium"))
	require.NotEmpty(t, fs, "no finding")
	id := fs[0].str(attrID)

	var ims []map[string]any
	deadline := time.Now().Add(findingTimeout)
	for time.Now().Before(deadline) {
		ims = nil
		for _, r := range recordsIn(t, peerFile, eventImpact) {
			if r[attrID] == id {
				ims = append(ims, r)
			}
		}
		if len(ims) >= 2 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	require.GreaterOrEqual(t, len(ims), 2, "impact updates of finding %s: %v (all: %v)", id, ims, recordsIn(t, peerFile, eventImpact))
	for _, im := range ims {
		t.Logf("impact update: cpu_seconds=%v memory_rss_bytes=%v estimated_cost=%v pool_bytes_sent=%v pool_bytes_received=%v scope=%v",
			im[attrImpactCPU], im[attrImpactRSS], im[attrImpactCost], im[attrPoolSent], im[attrPoolRecv], im[attrPoolScope])
	}
	first, last := ims[0][attrImpactCPU].(float64), ims[len(ims)-1][attrImpactCPU].(float64)
	assert.Greater(t, last, first, "CPU seconds grow while the miner runs: %v", ims)
	assert.Positive(t, last)
	rss, _ := ims[len(ims)-1][attrImpactRSS].(int64)
	assert.Positive(t, rss, "resident memory: %v", ims[len(ims)-1])
	assert.Greater(t, ims[len(ims)-1][attrImpactCost].(float64), 0.0)
	// The miner's login (sent) and the pool's job (received) on its open pool connection.
	sent, _ := ims[len(ims)-1][attrPoolSent].(int64)
	recv, _ := ims[len(ims)-1][attrPoolRecv].(int64)
	assert.Positive(t, sent, "bytes sent to the pool: %v", ims[len(ims)-1])
	assert.Positive(t, recv, "bytes received from the pool: %v", ims[len(ims)-1])
}
