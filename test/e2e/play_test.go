package e2e

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cryptochain-otel/cryptochain/internal/sim/scenario"
)

func scenariosDir() string { return filepath.Join(repoRoot, "testdata", "scenarios") }

func loadScenario(t *testing.T, name string) *scenario.Scenario {
	t.Helper()
	sc, err := scenario.Load(filepath.Join(scenariosDir(), name+".yaml"))
	require.NoError(t, err)
	return sc
}

// play runs one scenario with chainsim and returns its result. onRestart,
// when set, is called at a restart step (the scenario waits meanwhile).
func play(t *testing.T, sc *scenario.Scenario, onRestart func()) *scenario.Result {
	t.Helper()
	chainsim := simTools(t)
	resPath := filepath.Join(t.TempDir(), "result.json")
	args := []string{"play", "--result", resPath, "--fakeminer", filepath.Join(filepath.Dir(chainsim), "fakeminer")}
	if onRestart != nil {
		args = append(args, "--pause-on-restart")
	}
	cmd := exec.Command(chainsim, append(args, sc.File)...)
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	rd := bufio.NewReader(stdout)
	for {
		line, err := rd.ReadString('\n')
		if strings.TrimSpace(line) == "CHAINSIM RESTART" && onRestart != nil {
			onRestart()
			_, _ = io.WriteString(stdin, "go\n")
		}
		if err != nil {
			break
		}
	}
	werr := cmd.Wait()
	b, rerr := os.ReadFile(resPath)
	require.NoError(t, rerr, "chainsim wrote no result: %v\n%s", werr, stderr.String())
	var res scenario.Result
	require.NoError(t, json.Unmarshal(b, &res))
	require.NoError(t, werr, "chainsim %s: %s\n%s", sc.Name, res.Error, stderr.String())
	return &res
}

// latency is the time from the event that completed a chain level (the
// finding's last_seen: the kernel time of its newest evidence) to the
// finding landing at the peer.
func latency(f finding) (time.Duration, bool) {
	last, err := time.Parse(time.RFC3339Nano, f.str(attrLastSeen))
	if err != nil {
		return 0, false
	}
	return f.Seen.Sub(last), true
}
