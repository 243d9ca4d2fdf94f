package cryptochainresponseexporter

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cryptochain-otel/cryptochain/internal/testutil"
)

// An update of a finding (same id and severity, a second persistence file and a re-spawned miner
// added) acts on what it adds only: the first file and the first miner, already handled, are neither
// acted on nor audited again.
func TestUpdateActsOnWhatItAddsOnly(t *testing.T) {
	testutil.RequirePrivileged(t)
	first := fmt.Sprintf("/etc/cron.d/cryptochain-update-test-%d-a", os.Getpid())
	second := fmt.Sprintf("/etc/cron.d/cryptochain-update-test-%d-b", os.Getpid())
	for _, p := range []string{first, second} {
		require.NoError(t, os.WriteFile(p, []byte("*/30 * * * * root /tmp/.x/xmrig\n"), 0o644))
		t.Cleanup(func() { _ = os.Remove(p) })
	}
	minerA := startProc(t, "/bin/sleep", "60")
	time.Sleep(50 * time.Millisecond) // the evidence comes after the start
	s := startExporter(t, func(c *Config) {
		c.DryRun = false
		c.Terminate.Descendants = false
		c.Actions = map[string][]string{"critical": {ActionTerminate, ActionQuarantine}}
	})
	cg := selfCgroup(t)
	s.consume(t, testFinding{id: "f-upd", severity: "critical", cgroup: cg, minerPIDs: []int{minerA.Process.Pid}, minerExe: "/usr/bin/sleep", persist: []string{first}})
	recs := s.records(t, 2)
	assert.Equal(t, map[string]int{"terminate/done": 1, "quarantine/done": 1}, byResult(recs), "%v", recs)
	assert.NoFileExists(t, first)
	assert.FileExists(t, second)

	minerB := startProc(t, "/bin/sleep", "60") // the re-spawn
	time.Sleep(50 * time.Millisecond)
	s.consume(t, testFinding{id: "f-upd", severity: "critical", cgroup: cg, minerPIDs: []int{minerA.Process.Pid, minerB.Process.Pid},
		minerExe: "/usr/bin/sleep", persist: []string{first, second}})
	s.records(t, 4)
	time.Sleep(200 * time.Millisecond) // anything repeated would land by now
	recs = readAudit(t, s.audit)
	require.Len(t, recs, 4, "two new actions, nothing repeated: %v", recs)
	assert.Equal(t, map[string]int{"terminate/done": 2, "quarantine/done": 2}, byResult(recs), "%v", recs)
	assert.Equal(t, second, recs[3].Target)
	assert.Contains(t, recs[2].Target, fmt.Sprintf("pid %d", minerB.Process.Pid))
	assert.NoFileExists(t, second)
	assert.Eventually(t, func() bool { return !alive(minerB.Process.Pid) }, 2*time.Second, 10*time.Millisecond)
}
