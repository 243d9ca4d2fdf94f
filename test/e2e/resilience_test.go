package e2e

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRestartKeepsChain restarts the agent between two steps of a chain;
// the open chain is kept in file_storage and still escalates.
func TestRestartKeepsChain(t *testing.T) {
	sc := loadScenario(t, "restart-chain")
	if sc.Blocked != "" {
		t.Skip("blocked: " + sc.Blocked)
	}
	s := startStack(t)
	res := play(t, sc, func() {
		// The medium finding must be out before the restart, so the test
		// shows that the escalation after it is not a new chain.
		deadline := time.Now().Add(findingTimeout)
		for s.findings.count() == 0 && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		s.agent.stop()
		s.startAgent()
	})
	checkMalicious(t, s, sc, res)
}

// TestPeerDownFindingsRetried: with the OTLP peer down the agent's queue
// holds the finding and delivers it when the peer is back.
func TestPeerDownFindingsRetried(t *testing.T) {
	s := startStack(t)
	s.peer.stop()
	sc := loadScenario(t, "medium-miner-pool")
	res := play(t, sc, nil)
	// Give the agent time to detect and fail at least one export.
	time.Sleep(quietPeriod)
	require.Empty(t, s.findings.of(sc, res), "the peer is down: nothing can have landed")
	s.startPeer()
	// The escalation itself, not an update of it: a later update (the pool's address) is a separate
	// export, which can land first while the escalation's export waits out its retry backoff.
	escalated := func(fs []finding) bool { return hasSeverity(sc.Expect.Severity)(escalationsOf(fs)) }
	fs := s.findings.waitFor(sc, res, 60*time.Second, escalated)
	require.Contains(t, severities(escalationsOf(fs)), sc.Expect.Severity, "the finding was lost while the peer was down")
	time.Sleep(quietPeriod)
	assert.Equal(t, sc.Expect.Escalations, severities(escalationsOf(s.findings.of(sc, res))), "delivered once")
}
