package block

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cryptochain-otel/cryptochain/internal/testutil"
)

const cgroupRoot = "/sys/fs/cgroup/unified"

// TestDenyScopes blocks one loopback address host-wide and another only for a child cgroup,
// then connects from this process (in the root's subtree) before and after.
func TestDenyScopes(t *testing.T) {
	testutil.RequirePrivileged(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	port := uint16(l.Addr().(*net.TCPAddr).Port)

	b, err := Open(cgroupRoot)
	require.NoError(t, err)
	defer b.Close()

	rootID, err := CgroupID(cgroupRoot)
	require.NoError(t, err)
	// A scope no task of this test is in: its entry must not affect us.
	other := filepath.Join(cgroupRoot, "cryptochain-block-test")
	require.NoError(t, os.Mkdir(other, 0o755))
	defer os.Remove(other)
	otherID, err := CgroupID(other)
	require.NoError(t, err)

	require.NoError(t, dial("127.0.0.1", port), "before any entry")
	_, err = b.Add(otherID, netip.MustParseAddr("127.0.0.1"), port, time.Minute)
	require.NoError(t, err)
	require.NoError(t, dial("127.0.0.1", port), "an entry of another cgroup does not apply here")

	_, err = b.Add(rootID, netip.MustParseAddr("127.0.0.1"), port, time.Minute)
	require.NoError(t, err)
	assert.ErrorIs(t, dial("127.0.0.1", port), syscall.EPERM, "host-wide entry")
	assert.ErrorIs(t, udpSend("127.0.0.1", port), syscall.EPERM, "unconnected UDP is refused too")
	require.NoError(t, dial("127.0.0.1", port+1), "other ports pass (refused by the kernel at most, not denied)")

	list, err := b.List()
	require.NoError(t, err)
	require.Len(t, list, 2)
	hits := uint64(0)
	for _, e := range list {
		assert.Equal(t, netip.MustParseAddr("127.0.0.1"), e.Addr)
		hits += e.Hits
	}
	assert.GreaterOrEqual(t, hits, uint64(2))

	// Expiry: a short entry stops denying by itself and is swept.
	_, err = b.Add(rootID, netip.MustParseAddr("127.0.0.1"), port, 50*time.Millisecond)
	require.NoError(t, err)
	time.Sleep(100 * time.Millisecond)
	require.NoError(t, dial("127.0.0.1", port), "expired entry")
	n, err := b.Sweep()
	require.NoError(t, err)
	assert.Equal(t, 1, n)

	// Closing detaches: a fresh blocker starts empty and nothing denies after Close.
	_, err = b.Add(rootID, netip.MustParseAddr("127.0.0.1"), 0, time.Minute)
	require.NoError(t, err)
	assert.ErrorIs(t, dial("127.0.0.1", port), syscall.EPERM, "port 0 blocks every port")
	require.NoError(t, b.Close())
	require.NoError(t, dial("127.0.0.1", port), "after Close")
}

func dial(host string, port uint16) error {
	c, err := net.DialTimeout("tcp", netip.AddrPortFrom(netip.MustParseAddr(host), port).String(), time.Second)
	if err != nil {
		var se syscall.Errno
		if errors.As(err, &se) && se == syscall.ECONNREFUSED {
			return nil
		}
		return err
	}
	return c.Close()
}

func udpSend(host string, port uint16) error {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.WriteTo([]byte("x"), net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(host), port)))
	return err
}
