package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestShippedConfigsValidate runs `otelcol-cryptochain validate` on every
// configuration the project ships. It needs the binary, not root.
func TestShippedConfigsValidate(t *testing.T) {
	bin := requireCollector(t)
	cases := []struct {
		name string
		env  []string
		args []string
	}{
		{name: "embedded agent", args: []string{"--config", "embedded:agent"}},
		{name: "embedded agent with OTLP", env: []string{"OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4317"}, args: []string{"--config", "embedded:agent"}},
		{name: "embedded gateway", args: []string{"--config", "embedded:gateway"}},
		{name: "embedded gateway with OTLP/HTTP", env: []string{"OTEL_EXPORTER_OTLP_ENDPOINT=https://127.0.0.1:4318", "OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf", "OTEL_EXPORTER_OTLP_HEADERS=api-key=x"},
			args: []string{"--config", "embedded:gateway"}},
		{name: "config/agent.yaml", args: []string{"--config", filepath.Join(repoRoot, "config", "agent.yaml")}},
		{name: "config/agent.yaml + otlp.yaml", env: []string{"OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4317"},
			args: []string{"--config", filepath.Join(repoRoot, "config", "agent.yaml"), "--config", filepath.Join(repoRoot, "config", "otlp.yaml")}},
		{name: "config/gateway.yaml", args: []string{"--config", filepath.Join(repoRoot, "config", "gateway.yaml")}},
		// The Helm chart's configurations are validated by TestHelmConfigsValidate.
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(bin, append([]string{"validate"}, tc.args...)...)
			cmd.Env = append(os.Environ(), tc.env...)
			cmd.Dir = t.TempDir()
			out, err := cmd.CombinedOutput()
			assert.NoError(t, err, "%s", out)
		})
	}
}

// TestInvalidConfigNamesKey: a bad value exits non-zero and the error names the key.
func TestInvalidConfigNamesKey(t *testing.T) {
	bin := requireCollector(t)
	cases := map[string]struct{ yaml, key string }{
		"processor window":     {yaml: "processors::cryptochain::window: -1s", key: "window"},
		"processor forward":    {yaml: "processors::cryptochain::forward: sometimes", key: "forward"},
		"receiver ring buffer": {yaml: "receivers::ebpf::ring_buffer_size: 5000", key: "ring_buffer_size"},
		"unknown key":          {yaml: "processors::cryptochain::windw: 1s", key: "windw"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			for _, sub := range []string{"validate", ""} {
				args := []string{"--config", "embedded:agent", "--config", "yaml:" + tc.yaml}
				if sub != "" {
					args = append([]string{sub}, args...)
				}
				cmd := exec.Command(bin, args...)
				cmd.Dir = t.TempDir()
				out, err := cmd.CombinedOutput()
				var ee *exec.ExitError
				require.ErrorAs(t, err, &ee, "%q must fail: %s", args, out)
				assert.NotZero(t, ee.ExitCode())
				assert.Contains(t, string(out), tc.key, "the error names the key")
			}
		})
	}
}
