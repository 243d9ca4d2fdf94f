package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cryptochain-otel/cryptochain/internal/testutil"
)

// privilegesMessage is what the ebpf receiver says when it lacks privileges:
// which capabilities are missing and how to run it.
var privilegesMessage = regexp.MustCompile(`ebpf receiver: missing CAP_[A-Z_]+.*run the collector as root`)

// TestNonRootFailsWithPrivilegesMessage starts the agent as nobody.
func TestNonRootFailsWithPrivilegesMessage(t *testing.T) {
	bin := requireE2E(t) // root is needed to drop to another user
	// t.TempDir's parent is private to root: use a directory nobody can enter.
	dir, err := os.MkdirTemp("", "cryptochain-nonroot-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o777))
	// The binary must be reachable by nobody: copy it out of a possibly private tree.
	nb := filepath.Join(dir, "otelcol-cryptochain")
	b, err := os.ReadFile(bin) //nolint:gosec // our own build output
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(nb, b, 0o755))

	c := startCollectorAs(t, dir, nb, 65534, "--config", "embedded:agent", "--config", noTelemetry)
	code, err := c.exitCode(60 * time.Second)
	require.NoError(t, err, "the agent kept running without privileges:\n%s", c.out.String())
	assert.NotZero(t, code)
	assert.Regexp(t, privilegesMessage, c.out.String())
}

func startCollectorAs(t *testing.T, dir, bin string, uid uint32, args ...string) *collector {
	t.Helper()
	testutil.RequirePrivileged(t)
	c := startCollectorCmd(t, "agent-as-nobody", dir, nil, bin, &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid}}, args...)
	return c
}
