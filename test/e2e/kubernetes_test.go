package e2e

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPlainManifestsMatchChart: deploy/kubernetes/*.yaml, for `kubectl apply` without Helm, are
// exactly the chart's output (`make manifests` renders them).
func TestPlainManifestsMatchChart(t *testing.T) {
	for file, set := range map[string][]string{
		"standalone.yaml": {"backend.endpoint=https://otlp.example.org:4317"},
		"gateway.yaml":    {"gateway.enabled=true", "backend.endpoint=https://otlp.example.org:4317"},
	} {
		t.Run(file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(repoRoot, "deploy", "kubernetes", file))
			require.NoError(t, err)
			_, out := renderChart(t, set...)
			assert.Equal(t, out, string(b), "deploy/kubernetes/%s is stale: run `make manifests`", file)
		})
	}
}
