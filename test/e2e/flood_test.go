package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	floodFor   = 30 * time.Second
	nobodyID   = 65534
	floodPaths = "/etc/cron.d/cryptochain-flood"
)

// TestFloodCannotHideChain: two unprivileged processes flood failing write-opens of a watched path
// (one the same path, one a new path each time) and a third runs an exec storm, for 30 s, while
// the simulator plays the Critical chain. The chain must still come out Critical, no exec or exit
// record may be lost, and the flood must have been summarised by the kernel's rate limiter.
func TestFloodCannotHideChain(t *testing.T) {
	requireE2E(t)
	sc := loadScenario(t, "critical-chain")
	metricsPort := freePort(t)
	s := &stack{t: t, dir: t.TempDir(), peerPort: freePort(t), agentTelemetry: fmt.Sprintf(
		`yaml:service::telemetry::metrics: {level: normal, readers: [{pull: {exporter: {prometheus: {host: "127.0.0.1", port: %d}}}}]}`, metricsPort)}
	s.findings = watch(t, filepath.Join(s.dir, "peer", "findings.jsonl"))
	s.startPeer()
	s.startAgent()
	metrics := func() map[string]float64 { return scrape(t, metricsPort) }
	require.Eventually(t, func() bool { return metrics()["otelcol_ebpf_events"] > 0 }, 10*time.Second, 200*time.Millisecond,
		"the agent's metrics endpoint shows the receiver's counters")

	t.Cleanup(func() {
		matches, _ := filepath.Glob(floodPaths + "*")
		for _, m := range matches {
			_ = os.Remove(m)
		}
	})
	start := time.Now()
	unprivileged(t, "while :; do true > "+floodPaths+" 2>/dev/null; done")
	unprivileged(t, "i=0; while :; do i=$((i+1)); true > "+floodPaths+"$i 2>/dev/null; done")
	unprivileged(t, "while :; do /bin/true; done")

	time.Sleep(5 * time.Second) // the flood is at full rate before the chain starts
	res := play(t, sc, nil)
	if rest := floodFor - time.Since(start); rest > 0 {
		time.Sleep(rest)
	}
	m := metrics()
	t.Logf("after %s of flood: %s", time.Since(start).Round(time.Second), summary(m))

	checkMalicious(t, s, sc, res)

	m = metrics()
	assert.Zero(t, m["otelcol_ebpf_lifecycle_events_lost"], "exec/exit records lost")
	assert.Zero(t, m[`otelcol_ebpf_events_lost{type="exec"}`], "exec records lost")
	assert.Zero(t, m[`otelcol_ebpf_events_lost{type="exit"}`], "exit records lost")
	assert.Greater(t, m[`otelcol_ebpf_events{type="exec"}`], 3000.0, "the exec storm ran")
	assert.Greater(t, m[`otelcol_ebpf_events_suppressed{type="file"}`], 100000.0, "the flood was held back in the kernel")
	assert.Greater(t, m[`otelcol_ebpf_events{type="suppressed"}`], 10.0, "and summarised")
	assert.Less(t, m[`otelcol_ebpf_events{type="file"}`], 0.01*m[`otelcol_ebpf_events_suppressed{type="file"}`],
		"what passed the rate limiter is a small fraction of the flood")
	t.Logf("final: %s", summary(m))
}

// unprivileged runs an sh script as nobody, in its own process group, until the test ends.
func unprivileged(t *testing.T, script string) {
	t.Helper()
	cmd := exec.Command("/bin/sh", "-c", script)
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true,
		Credential: &syscall.Credential{Uid: nobodyID, Gid: nobodyID, Groups: []uint32{}}}
	require.NoError(t, cmd.Start())
	pgid := cmd.Process.Pid
	t.Cleanup(func() {
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
}

// scrape reads the agent's Prometheus endpoint: one value per series name with its labels, except
// that labels other than type are dropped, and a bare name sums its series.
func scrape(t *testing.T, port int) map[string]float64 {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", port))
	require.NoError(t, err)
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(io.LimitReader(resp.Body, 8<<20))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' || !strings.Contains(line, "ebpf_") {
			continue
		}
		sp := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[sp+1:], 64)
		if err != nil {
			continue
		}
		series := line[:sp]
		name, labels, _ := strings.Cut(series, "{")
		out[name] += v
		if i := strings.Index(labels, `type="`); i >= 0 {
			typ, _, _ := strings.Cut(labels[i+len(`type="`):], `"`)
			out[name+`{type="`+typ+`"}`] += v
		}
	}
	require.NoError(t, sc.Err())
	return out
}

func summary(m map[string]float64) string {
	var b strings.Builder
	for _, k := range []string{`otelcol_ebpf_events{type="exec"}`, `otelcol_ebpf_events{type="exit"}`,
		`otelcol_ebpf_events{type="file"}`, `otelcol_ebpf_events{type="suppressed"}`,
		`otelcol_ebpf_events_suppressed{type="file"}`, "otelcol_ebpf_events_lost", "otelcol_ebpf_lifecycle_events_lost"} {
		fmt.Fprintf(&b, "%s=%.0f ", k, m[k])
	}
	return b.String()
}
