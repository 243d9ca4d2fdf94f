package netns

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cryptochain-otel/cryptochain/internal/sim/journal"
	"github.com/cryptochain-otel/cryptochain/internal/testutil"
)

func TestNamespaceIsLoopbackOnlyAndRestored(t *testing.T) {
	testutil.RequirePrivileged(t)
	name := fmt.Sprintf("chainsim-test-%d", os.Getpid())
	j, err := journal.Open(filepath.Join(t.TempDir(), "journal.json"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = j.Restore() })
	require.NoError(t, Create(j, name))

	b, err := os.ReadFile(filepath.Join(ResolvConfDir(name), "resolv.conf"))
	require.NoError(t, err)
	assert.Contains(t, string(b), "nameserver 127.0.0.1")

	var ifs []net.Interface
	var l net.Listener
	var dialErr error
	require.NoError(t, Do(name, func() error {
		var err error
		if ifs, err = net.Interfaces(); err != nil {
			return err
		}
		if l, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			return err
		}
		// Nothing outside loopback is reachable from inside (TEST-NET-1, never routed).
		_, dialErr = net.Dial("tcp", "192.0.2.1:3333")
		return nil
	}))
	require.Len(t, ifs, 1)
	assert.Equal(t, "lo", ifs[0].Name)
	assert.ErrorIs(t, dialErr, syscall.ENETUNREACH)

	// The listener lives in the namespace: the host's loopback cannot reach it.
	defer l.Close()
	c, err := net.Dial("tcp", l.Addr().String())
	if err == nil {
		c.Close()
	}
	assert.Error(t, err)

	require.NoError(t, j.Restore())
	assert.NoFileExists(t, Path(name))
	assert.NoDirExists(t, ResolvConfDir(name))
}
