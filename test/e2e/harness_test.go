package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cryptochain-otel/cryptochain/internal/testutil"
)

// readyLine is what the collector logs once every component has started.
const readyLine = "Everything is ready"

var (
	repoRoot  = findRepoRoot()
	toolsOnce sync.Once
	toolsDir  string
	toolsErr  error
)

func findRepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

func collectorBin() string {
	if p := os.Getenv("CRYPTOCHAIN_COLLECTOR"); p != "" {
		return p
	}
	return filepath.Join(repoRoot, "_build", "otelcol-cryptochain")
}

// requireCollector skips (or, in CI, fails) when the distribution was not built.
func requireCollector(t *testing.T) string {
	t.Helper()
	bin := collectorBin()
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CRYPTOCHAIN_REQUIRE_PRIVILEGED") == "1" {
			t.Fatalf("%s is missing (run `make build`): %v", bin, err)
		}
		t.Skipf("%s is missing; run `make build` (or `make e2e`)", bin)
	}
	return bin
}

// requireE2E is requireCollector plus root, for tests that load eBPF programs.
func requireE2E(t *testing.T) string {
	t.Helper()
	testutil.RequirePrivileged(t)
	return requireCollector(t)
}

// simTools builds chainsim and the static fake miner once per test binary.
func simTools(t *testing.T) (chainsim string) {
	t.Helper()
	toolsOnce.Do(func() {
		toolsDir, toolsErr = os.MkdirTemp("", "cryptochain-e2e-tools-")
		if toolsErr != nil {
			return
		}
		for _, b := range []struct{ out, pkg string }{{"chainsim", "./cmd/chainsim"}, {"fakeminer", "./cmd/fakeminer"}} {
			cmd := exec.Command("go", "build", "-o", filepath.Join(toolsDir, b.out), b.pkg)
			cmd.Dir = repoRoot
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				toolsErr = fmt.Errorf("go build %s: %w\n%s", b.pkg, err, out)
				return
			}
		}
	})
	require.NoError(t, toolsErr)
	return filepath.Join(toolsDir, "chainsim")
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// syncBuffer collects a process's output for assertions and failure reports.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// collector is one running otelcol-cryptochain process.
type collector struct {
	name string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	err  error
}

// noTelemetry keeps each instance off the default :8888 metrics port.
const noTelemetry = "yaml:service::telemetry::metrics::level: none"

func startCollector(t *testing.T, name, dir string, env []string, args ...string) *collector {
	t.Helper()
	return startCollectorCmd(t, name, dir, env, collectorBin(), nil, args...)
}

func startCollectorCmd(t *testing.T, name, dir string, env []string, bin string, attr *syscall.SysProcAttr, args ...string) *collector {
	t.Helper()
	c := &collector{name: name, out: &syncBuffer{}, done: make(chan struct{})}
	c.cmd = exec.Command(bin, args...)
	c.cmd.SysProcAttr = attr
	c.cmd.Dir = dir
	c.cmd.Env = append(os.Environ(), env...)
	c.cmd.Stdout, c.cmd.Stderr = c.out, c.out
	require.NoError(t, c.cmd.Start())
	go func() {
		c.err = c.cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		c.stop()
		if t.Failed() {
			t.Logf("--- %s output (last 6000 bytes) ---\n%s", c.name, tail(c.out.String(), 6000))
		}
	})
	return c
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// waitReady waits for the ready line; an exit before it is an error.
func (c *collector) waitReady(timeout time.Duration) error {
	deadline := time.After(timeout)
	for {
		if strings.Contains(c.out.String(), readyLine) {
			return nil
		}
		select {
		case <-c.done:
			return fmt.Errorf("%s exited before it was ready (%v):\n%s", c.name, c.err, tail(c.out.String(), 4000))
		case <-deadline:
			return fmt.Errorf("%s not ready after %s:\n%s", c.name, timeout, tail(c.out.String(), 4000))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// stop ends the process with SIGTERM (a clean shutdown flushes queues and state).
func (c *collector) stop() {
	select {
	case <-c.done:
		return
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(15 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

// exitCode waits for the process to end by itself.
func (c *collector) exitCode(timeout time.Duration) (int, error) {
	select {
	case <-c.done:
	case <-time.After(timeout):
		return 0, errors.New("still running")
	}
	var ee *exec.ExitError
	if errors.As(c.err, &ee) {
		return ee.ExitCode(), nil
	}
	return 0, c.err
}

// peerConfig is the OTLP backend: otlp receiver → file exporter, nothing else.
func peerConfig(port int, out string) string {
	return fmt.Sprintf(`receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:%d
exporters:
  file:
    path: %s
    flush_interval: 50ms
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    logs:
      receivers: [otlp]
      exporters: [file]
`, port, out)
}

// stack is an agent on the default config exporting to a peer.
type stack struct {
	t        *testing.T
	dir      string
	peerPort int
	peer     *collector
	agent    *collector
	findings *watcher
	// agentTelemetry replaces noTelemetry for the agent when set.
	agentTelemetry string
}

func startStack(t *testing.T) *stack {
	t.Helper()
	requireE2E(t)
	s := &stack{t: t, dir: t.TempDir(), peerPort: freePort(t)}
	s.findings = watch(t, filepath.Join(s.dir, "peer", "findings.jsonl"))
	s.startPeer()
	s.startAgent()
	return s
}

func (s *stack) startPeer() {
	t := s.t
	dir := filepath.Join(s.dir, "peer")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	cfg := filepath.Join(dir, "peer.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(peerConfig(s.peerPort, filepath.Join(dir, "findings.jsonl"))), 0o644))
	s.peer = startCollector(t, "peer", dir, nil, "--config", cfg)
	require.NoError(t, s.peer.waitReady(30*time.Second))
}

// startAgent runs the agent exactly as `make run` does (embedded default
// config), with the OTLP export switched on by the environment variable.
func (s *stack) startAgent() {
	t := s.t
	dir := filepath.Join(s.dir, "agent")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	env := []string{fmt.Sprintf("OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:%d", s.peerPort)}
	tel := noTelemetry
	if s.agentTelemetry != "" {
		tel = s.agentTelemetry
	}
	s.agent = startCollector(t, "agent", dir, env, "--config", "embedded:agent", "--config", tel)
	require.NoError(t, s.agent.waitReady(60*time.Second))
}

// requireRunning fails fast when the agent or the peer died earlier.
func (s *stack) requireRunning(t *testing.T) {
	t.Helper()
	for _, c := range []*collector{s.agent, s.peer} {
		select {
		case <-c.done:
			t.Fatalf("%s exited (%v):\n%s", c.name, c.err, tail(c.out.String(), 4000))
		default:
		}
	}
}
