package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSystemdUnitVerifies installs into a scratch root with `make install DESTDIR=...` and runs
// `systemd-analyze verify` on the installed unit (its ExecStart pointed into that root), then
// checks the hardening the deployment promises.
func TestSystemdUnitVerifies(t *testing.T) {
	requireCollector(t)
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze is missing")
	}
	root := t.TempDir()
	cmd := exec.Command("make", "--no-print-directory", "install", "DESTDIR="+root)
	cmd.Dir = repoRoot
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)

	unitPath := filepath.Join(root, "etc", "systemd", "system", "otelcol-cryptochain.service")
	b, err := os.ReadFile(unitPath)
	require.NoError(t, err)
	unit := string(b)
	require.FileExists(t, filepath.Join(root, "usr", "local", "bin", "otelcol-cryptochain"))
	require.FileExists(t, filepath.Join(root, "etc", "otelcol-cryptochain", "otelcol-cryptochain.env"))

	// verify checks that ExecStart exists: point it at the installed copy.
	check := filepath.Join(t.TempDir(), "otelcol-cryptochain.service")
	require.NoError(t, os.WriteFile(check, []byte(strings.ReplaceAll(unit, "/usr/local/bin/", filepath.Join(root, "usr", "local", "bin")+"/")), 0o644))
	out, err = exec.Command("systemd-analyze", "verify", check).CombinedOutput()
	assert.NoError(t, err, "systemd-analyze verify:\n%s", out)
	assert.Empty(t, strings.TrimSpace(string(out)), "no warnings")

	for _, line := range []string{
		"CapabilityBoundingSet=CAP_BPF CAP_PERFMON CAP_NET_ADMIN CAP_SYS_PTRACE CAP_DAC_READ_SEARCH",
		"NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=read-only", "StateDirectory=otelcol-cryptochain",
		"ExecStart=/usr/local/bin/otelcol-cryptochain --config embedded:agent",
	} {
		assert.Contains(t, unit, line+"\n")
	}
	assert.NotContains(t, unit, "CAP_SYS_ADMIN")
}
