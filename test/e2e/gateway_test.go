package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// agentToGateway mirrors the Helm chart's gateway-topology agent with a static resolver instead
// of the Kubernetes one; tls is the directory of make-certs.sh's output.
func agentToGateway(port int, state, tls string) string {
	return fmt.Sprintf(`extensions:
  file_storage:
    directory: %[1]s
    create_directory: true
receivers:
  ebpf: {}
processors:
  memory_limiter:
    check_interval: 1s
    limit_percentage: 80
    spike_limit_percentage: 20
  batch:
    timeout: 200ms
    send_batch_size: 512
exporters:
  load_balancing:
    routing_key: attributes
    routing_attributes: [host.id, container.id]
    protocol:
      otlp:
        tls:
          ca_file: %[3]s/ca.crt
          cert_file: %[3]s/agent.crt
          key_file: %[3]s/agent.key
          server_name_override: cryptochain-gateway.cryptochain.svc
    resolver:
      static:
        hostnames: [127.0.0.1:%[2]d]
    sending_queue:
      enabled: true
      storage: file_storage
service:
  extensions: [file_storage]
  telemetry:
    metrics:
      level: none
  pipelines:
    logs/events:
      receivers: [ebpf]
      processors: [memory_limiter, batch]
      exporters: [load_balancing]
`, state, port, tls)
}

// TestGatewayTopology: agent (raw events, load_balancing, mutual TLS) → gateway
// (embedded:gateway, the cryptochain processor) → findings in the gateway's
// file; the chain is correlated in the gateway, not in the agent.
func TestGatewayTopology(t *testing.T) {
	requireE2E(t)
	dir := t.TempDir()
	port := freePort(t)
	findings := filepath.Join(dir, "gateway", "findings.jsonl")
	w := watch(t, findings)
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "gateway"), 0o755))
	// Mutual TLS with the certificates `make certs` makes.
	tlsDir := filepath.Join(dir, "tls")
	for name, data := range makeCerts(t, "") {
		require.NoError(t, os.MkdirAll(tlsDir, 0o700))
		require.NoError(t, os.WriteFile(filepath.Join(tlsDir, name), []byte(data), 0o600))
	}
	gw := startCollector(t, "gateway", filepath.Join(dir, "gateway"), []string{
		"CRYPTOCHAIN_GATEWAY_TLS_CERT=" + filepath.Join(tlsDir, "gateway.crt"),
		"CRYPTOCHAIN_GATEWAY_TLS_KEY=" + filepath.Join(tlsDir, "gateway.key"),
		"CRYPTOCHAIN_GATEWAY_TLS_CLIENT_CA=" + filepath.Join(tlsDir, "ca.crt"),
		fmt.Sprintf("CRYPTOCHAIN_GATEWAY_LISTEN=127.0.0.1:%d", port),
		"CRYPTOCHAIN_STATE_DIR=" + filepath.Join(dir, "gateway", "state"),
		"CRYPTOCHAIN_FINDINGS_FILE=" + findings,
	}, "--config", "embedded:gateway", "--config", noTelemetry)
	require.NoError(t, gw.waitReady(30*time.Second))

	cfg := filepath.Join(dir, "agent.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(agentToGateway(port, filepath.Join(dir, "agent-state"), tlsDir)), 0o644))
	agent := startCollector(t, "agent-lb", dir, nil, "--config", cfg)
	require.NoError(t, agent.waitReady(60*time.Second))

	sc := loadScenario(t, "medium-miner-pool")
	res := play(t, sc, nil)
	s := &stack{t: t, findings: w}
	checkMalicious(t, s, sc, res)
}
