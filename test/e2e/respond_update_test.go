package e2e

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cryptochain-otel/cryptochain/internal/sim/scenario"
)

// TestRespondSecondFoothold plays a chain that reaches Critical and then writes a second cron table,
// against an active response that quarantines persistence. The first table goes with the High
// finding; the second, written after the top escalation, goes with the update of the same finding
// (same id, same severity, naming only the new path); each is quarantined once, and nothing else.
// The cron tables are the simulator's own, written by the play this test starts.
func TestRespondSecondFoothold(t *testing.T) {
	r := startResponder(t, `    dry_run: false
    actions:
      medium: []
      high: [quarantine]
      critical: [quarantine]`)
	sc, err := scenario.Load(filepath.Join(repoRoot, "test", "e2e", "testdata", "respond-second-foothold.yaml"))
	require.NoError(t, err)
	var tables []string
	for _, st := range sc.Steps {
		if st.CronD != nil {
			tables = append(tables, filepath.Join("/etc/cron.d", st.CronD.Name))
		}
	}
	require.Len(t, tables, 2)
	t.Cleanup(func() {
		for _, p := range tables {
			_ = os.Remove(p) // only ever the simulator's own tables
		}
	})
	p := startPlay(t, sc)

	quarantined := func(path string) func([]auditRec) bool {
		return func(recs []auditRec) bool {
			return slices.ContainsFunc(recs, func(a auditRec) bool {
				return a.Action == "quarantine" && a.Result == "done" && a.Target == path
			})
		}
	}
	r.waitAudit(t, 30*time.Second, "quarantine of "+tables[0], quarantined(tables[0]))
	recs := r.waitAudit(t, 30*time.Second, "quarantine of "+tables[1], quarantined(tables[1]))
	for _, path := range tables {
		assert.NoFileExists(t, path, "quarantined")
	}

	// The findings: escalations Medium → High → Critical, then an update at Critical naming the second table.
	fs := r.readFindings()
	var sevs []string
	var update, crit *respFinding
	ids := map[any]bool{}
	for i, f := range fs {
		if !slices.Contains(asStrs(f.Attrs[attrWallets]), sc.Expect.Evidence.Wallet) {
			continue // another chain on this host
		}
		ids[f.Attrs[attrID]] = true
		if _, ok := f.Attrs[attrUpdateReasons]; ok {
			if slices.Contains(asStrs(f.Attrs[attrPersistence]), tables[1]) && update == nil {
				update = &fs[i]
			}
			continue
		}
		if f.Severity == "critical" {
			crit = &fs[i]
		}
		sevs = append(sevs, f.Severity)
	}
	assert.Equal(t, []string{"medium", "high", "critical"}, sevs, "escalations: %v", fs)
	require.NotNil(t, update, "an update naming %s: %v", tables[1], fs)
	assert.Equal(t, "critical", update.Severity)
	added, _ := update.Attrs[attrUpdateAdded].(map[string]any)
	assert.Equal(t, []any{tables[1]}, added["persistence_paths"], "the update names what it adds")
	assert.ElementsMatch(t, tables, asStrs(update.Attrs[attrPersistence]), "and still lists everything")

	// Each table quarantined once, both under the chain's one finding id.
	var done []auditRec
	for _, a := range recs {
		if a.Action == "quarantine" {
			done = append(done, a)
		}
	}
	require.Len(t, done, 2, "one quarantine per table, none repeated: %v", recs)
	assert.Equal(t, done[0].FindingID, done[1].FindingID)
	assert.True(t, ids[done[0].FindingID], "the chain's finding id")
	require.NotNil(t, crit)
	t.Logf("update %v after the Critical finding; audit: %v", update.Observed.Sub(crit.Observed).Round(time.Millisecond), recs)

	_, _ = p.wait(t, 60*time.Second)
}

func asStrs(v any) []string {
	var out []string
	for _, x := range asList(v) {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
