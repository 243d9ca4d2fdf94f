package e2e

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cryptochain-otel/cryptochain/internal/sim/scenario"
)

// determinismCI is the subset CI plays: the chains whose grade hangs on a read-back (pool only in a
// config file, a fixed install directory replayed), the full Critical chain and a bare-IP pool.
var determinismCI = []string{"service-config-tls-bare-ip", "renamed-config-miner", "config-only-miner", "critical-chain", "stratum-bare-ip-443"}

// TestDeterminism plays each malicious scenario several times in a row against one running agent
// and requires the same grade every time: the expected severity, each escalation once, one finding
// id per play. A replay is the same input: it must never be graded differently because the agent
// remembers the previous play (rate limits, caches) or because of timing.
//
// CRYPTOCHAIN_DETERMINISM_RUNS sets the plays per scenario (default 2); CRYPTOCHAIN_DETERMINISM_SCENARIOS
// is "all" or a comma-separated list (default the CI subset). `make determinism` plays all of them
// 10 times.
func TestDeterminism(t *testing.T) {
	runs := 2
	if v := os.Getenv("CRYPTOCHAIN_DETERMINISM_RUNS"); v != "" {
		n, err := strconv.Atoi(v)
		require.NoError(t, err, "CRYPTOCHAIN_DETERMINISM_RUNS")
		require.Positive(t, n, "CRYPTOCHAIN_DETERMINISM_RUNS")
		runs = n
	}
	only := map[string]bool{}
	sel := os.Getenv("CRYPTOCHAIN_DETERMINISM_SCENARIOS")
	if sel == "" {
		sel = strings.Join(determinismCI, ",")
	}
	if sel != "all" {
		for _, n := range strings.Split(sel, ",") {
			only[strings.TrimSpace(n)] = true
		}
	}
	s := startStack(t)
	all, err := scenario.LoadDir(scenariosDir())
	require.NoError(t, err)
	played := 0
	for _, sc := range all {
		if !sc.Malicious() || sc.HasTag("restart") || (len(only) > 0 && !only[sc.Name]) {
			continue
		}
		played++
		t.Run(sc.Name, func(t *testing.T) {
			if sc.Blocked != "" {
				t.Skip("blocked: " + sc.Blocked)
			}
			var grades []string
			for i := range runs {
				s.requireRunning(t)
				ok := t.Run(strconv.Itoa(i+1), func(t *testing.T) {
					// Judged on the findings of this play only (the previous plays' findings name the
					// same wallet).
					view := *s
					view.findings = s.findings.since()
					res := play(t, sc, nil)
					checkMalicious(t, &view, sc, res)
				})
				g := "as expected"
				if !ok {
					g = "different"
				}
				grades = append(grades, g)
			}
			want := make([]string, runs)
			for i := range want {
				want[i] = "as expected"
			}
			assert.Equal(t, want, grades, "%s graded the same in every play", sc.Name)
		})
	}
	if sel != "all" {
		assert.Equal(t, len(only), played, "every scenario named in CRYPTOCHAIN_DETERMINISM_SCENARIOS exists and is malicious: %v", only)
	}
}
