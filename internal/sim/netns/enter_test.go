package netns

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cryptochain-otel/cryptochain/internal/sim/journal"
	"github.com/cryptochain-otel/cryptochain/internal/testutil"
)

// TestMain lets the test binary act as the namespace-entering helper.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == EnterArg {
		if err := EnterAndExec(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
	os.Exit(m.Run())
}

func TestCommandRunsInsideWithItsResolvConf(t *testing.T) {
	testutil.RequirePrivileged(t)
	name := fmt.Sprintf("chainsim-enter-%d", os.Getpid())
	j, err := journal.Open(filepath.Join(t.TempDir(), "journal.json"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = j.Restore() })
	require.NoError(t, Create(j, name))

	cmd, err := Command(context.Background(), os.Args[0], name, "/bin/sh", []string{"sh", "-c", "cat /etc/resolv.conf; echo ifaces:; tail -n +3 /proc/self/net/dev | cut -d: -f1"})
	require.NoError(t, err)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), "nameserver 127.0.0.1")
	_, ifaces, _ := strings.Cut(string(out), "ifaces:")
	assert.Equal(t, []string{"lo"}, strings.Fields(ifaces), "only loopback inside")

	// The bind mount stayed in the helper's private mount namespace.
	host, err := os.ReadFile("/etc/resolv.conf")
	require.NoError(t, err)
	assert.NotContains(t, string(host), "options timeout:1 attempts:2")
}
