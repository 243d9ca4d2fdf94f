package e2e

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDefaultConfigServesBlindnessMetrics runs the agent on the embedded default config with only the
// metrics port moved (CRYPTOCHAIN_METRICS_PORT, so it cannot clash with anything on 8888): its own
// metrics answer, and every counter that says the detector is blind exists from the start, at zero.
func TestDefaultConfigServesBlindnessMetrics(t *testing.T) {
	requireE2E(t)
	port := freePort(t)
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "data"), 0o755))
	c := startCollector(t, "agent", dir, []string{fmt.Sprintf("CRYPTOCHAIN_METRICS_PORT=%d", port)}, "--config", "embedded:agent")
	require.NoError(t, c.waitReady(60*time.Second))
	url := fmt.Sprintf("http://127.0.0.1:%d/metrics", port)

	// The receiver's loss counters exist before anything was lost; the standard receiver
	// counters appear with the first batch (the procfs snapshot).
	want := []string{
		`otelcol_ebpf_events_lost{type="exec"} 0`,
		`otelcol_ebpf_events_lost{type="exit"} 0`,
		`otelcol_ebpf_records_dropped `,
		`otelcol_ebpf_readback_dropped{kind="persistence"} 0`,
		`otelcol_ebpf_readback_dropped{kind="config_file"} 0`,
		`otelcol_ebpf_readback_timeouts `,
		`otelcol_ebpf_parse_errors `,
		`otelcol_ebpf_ring_buffer_fill`,
		`otelcol_receiver_accepted_log_records{`,
		`otelcol_receiver_refused_log_records{`,
	}
	var body string
	require.Eventually(t, func() bool {
		resp, err := http.Get(url) //nolint:gosec // loopback
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		for _, w := range want {
			if !strings.Contains(body, w) {
				return false
			}
		}
		return resp.StatusCode == http.StatusOK
	}, 30*time.Second, 250*time.Millisecond, "metrics at %s", url)
	for _, w := range want {
		assert.Contains(t, body, w)
	}
	assert.NotContains(t, body, "otelcol_ebpf_events_lost_total", "the Collector's default naming: no type suffix")
	c.stop()
}
