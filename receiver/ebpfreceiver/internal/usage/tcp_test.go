package usage

import (
	"bufio"
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/cryptochain-otel/cryptochain/internal/testutil"
)

// diagMsg builds one SOCK_DIAG_BY_FAMILY reply message for a socket.
func diagMsg(seq uint32, family uint8, dst netip.AddrPort, inode uint32, sent, received uint64, infoLen int) []byte {
	ne := binary.NativeEndian
	m := make([]byte, sizeofDiagMsg)
	m[0] = family
	m[1] = 1 // established
	binary.BigEndian.PutUint16(m[4:], 40000)
	binary.BigEndian.PutUint16(m[6:], dst.Port())
	a := dst.Addr().As16()
	if family == unix.AF_INET {
		a4 := dst.Addr().As4()
		copy(m[24:], a4[:])
	} else {
		copy(m[24:], a[:])
	}
	ne.PutUint32(m[diagMsgInodeOff:], inode)
	info := make([]byte, infoLen)
	if infoLen >= offBytesReceived+8 {
		ne.PutUint64(info[offBytesAcked:], sent)
		ne.PutUint64(info[offBytesReceived:], received)
	}
	attr := make([]byte, unix.SizeofRtAttr+len(info))
	ne.PutUint16(attr[0:], uint16(len(attr)))
	ne.PutUint16(attr[2:], inetDiagInfo)
	copy(attr[unix.SizeofRtAttr:], info)
	for len(attr)%4 != 0 {
		attr = append(attr, 0)
	}
	m = append(m, attr...)
	return nlmsg(seq, unix.SOCK_DIAG_BY_FAMILY, m)
}

func nlmsg(seq uint32, typ uint16, payload []byte) []byte {
	ne := binary.NativeEndian
	b := make([]byte, unix.NLMSG_HDRLEN, unix.NLMSG_HDRLEN+len(payload))
	ne.PutUint32(b[0:], uint32(unix.NLMSG_HDRLEN+len(payload)))
	ne.PutUint16(b[4:], typ)
	ne.PutUint32(b[8:], seq)
	return append(b, payload...)
}

func TestParseDiagReadsByteCountsOfWantedInodes(t *testing.T) {
	pool4 := netip.MustParseAddrPort("198.51.100.7:3333")
	pool6 := netip.MustParseAddrPort("[2001:db8::7]:443")
	var b []byte
	b = append(b, diagMsg(1, unix.AF_INET, pool4, 11, 1000, 2000, unix.SizeofTCPInfo)...)
	b = append(b, diagMsg(1, unix.AF_INET, pool4, 12, 1, 2, unix.SizeofTCPInfo)...)  // not wanted
	b = append(b, diagMsg(1, unix.AF_INET6, pool6, 13, 5, 6, unix.SizeofTCPInfo)...) // v6
	b = append(b, diagMsg(1, unix.AF_INET, pool4, 14, 7, 8, 104)...)                 // old kernel: no counters
	b = append(b, diagMsg(2, unix.AF_INET, pool4, 15, 9, 9, unix.SizeofTCPInfo)...)  // other request
	want := map[uint64]struct{}{11: {}, 13: {}, 14: {}, 15: {}}
	got := map[uint64]tcpSock{}
	done, n, err := parseDiag(b, 1, want, got)
	require.NoError(t, err)
	assert.False(t, done)
	assert.Equal(t, 4, n)
	assert.Equal(t, map[uint64]tcpSock{
		11: {remote: pool4, sent: 1000, received: 2000},
		13: {remote: pool6, sent: 5, received: 6},
	}, got)

	done, _, err = parseDiag(nlmsg(1, unix.NLMSG_DONE, make([]byte, 4)), 1, want, got)
	require.NoError(t, err)
	assert.True(t, done)
	done, _, err = parseDiag(nlmsg(1, unix.NLMSG_ERROR, make([]byte, 20)), 1, want, got)
	assert.Error(t, err)
	assert.True(t, done)
}

func TestParseDiagRejectsMalformed(t *testing.T) {
	got := map[uint64]tcpSock{}
	want := map[uint64]struct{}{11: {}}
	good := diagMsg(1, unix.AF_INET, netip.MustParseAddrPort("192.0.2.1:1"), 11, 1, 1, unix.SizeofTCPInfo)
	long := append([]byte(nil), good...)
	binary.NativeEndian.PutUint32(long[0:], uint32(len(good)+8)) // longer than the datagram
	_, _, err := parseDiag(long, 1, want, got)
	assert.Error(t, err)
	short := nlmsg(1, unix.SOCK_DIAG_BY_FAMILY, make([]byte, 10)) // shorter than inet_diag_msg
	_, _, err = parseDiag(short, 1, want, got)
	assert.Error(t, err)
	badAttr := append([]byte(nil), good...)
	binary.NativeEndian.PutUint16(badAttr[unix.NLMSG_HDRLEN+sizeofDiagMsg:], 2) // attribute shorter than its header
	_, _, err = parseDiag(badAttr, 1, want, got)
	assert.Error(t, err)
	assert.Empty(t, got)
}

func TestSumByRemoteIsBounded(t *testing.T) {
	socks := map[uint64]tcpSock{}
	var inodes []uint64
	for i := range maxConns + 4 {
		ino := uint64(100 + i)
		inodes = append(inodes, ino)
		socks[ino] = tcpSock{remote: netip.AddrPortFrom(netip.MustParseAddr("192.0.2.1"), uint16(1000+i)), sent: 1, received: 2}
	}
	inodes = append(inodes, 1) // a second socket to the first endpoint
	socks[1] = tcpSock{remote: socks[100].remote, sent: 10, received: 20}
	inodes = append(inodes, 2) // a socket the dump did not report
	got := sumByRemote(inodes, socks)
	require.Len(t, got, maxConns)
	assert.Equal(t, Conn{Remote: socks[100].remote, Sent: 11, Received: 22}, got[0])
	assert.NotNil(t, sumByRemote(nil, socks), "read but no connections is an empty list, not nil")
}

const childEnv = "CRYPTOCHAIN_USAGE_TCP_CHILD"

// TestMain lets the test binary act as a child that connects to a loopback listener, sends and
// receives the byte counts it is given, then waits for its stdin to close.
func TestMain(m *testing.M) {
	if addr := os.Getenv(childEnv); addr != "" {
		os.Exit(tcpChild(addr))
	}
	if os.Getenv(childEnv+"_NETNS") != "" {
		os.Exit(netnsChild())
	}
	os.Exit(m.Run())
}

func tcpChild(addr string) int {
	send, _ := strconv.Atoi(os.Getenv(childEnv + "_SEND"))
	recv, _ := strconv.Atoi(os.Getenv(childEnv + "_RECV"))
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return 2
	}
	if _, err := c.Write(make([]byte, send)); err != nil {
		return 3
	}
	if _, err := io.ReadFull(c, make([]byte, recv)); err != nil {
		return 4
	}
	os.Stdout.WriteString("ok\n")
	_, _ = io.Copy(io.Discard, os.Stdin)
	return 0
}

// TestSampleCountsTCPBytesOfARealConnection samples a child process with a real loopback TCP
// connection that sent and received known byte counts.
func TestSampleCountsTCPBytesOfARealConnection(t *testing.T) {
	const send, recv = 300_000, 70_000
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	accepted := make(chan error, 1)
	done := make(chan struct{})
	defer close(done)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			accepted <- err
			return
		}
		defer c.Close()
		if _, err := io.ReadFull(c, make([]byte, send)); err != nil {
			accepted <- err
			return
		}
		_, err = c.Write(make([]byte, recv))
		accepted <- err
		<-done // keep the connection open while sampled
	}()

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+ln.Addr().String(),
		childEnv+"_SEND="+strconv.Itoa(send), childEnv+"_RECV="+strconv.Itoa(recv))
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	defer func() { _ = stdin.Close(); _ = cmd.Wait() }()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err, "child failed")
	require.Equal(t, "ok\n", line)
	require.NoError(t, <-accepted)

	conn := sampleConn(t, cmd.Process.Pid, netip.MustParseAddrPort(ln.Addr().String()), send, recv)
	assert.Less(t, conn.Sent, uint64(send+1000), "the child's sent bytes, not the listener's")
	assert.Less(t, conn.Received, uint64(recv+1000))

	off := New[string]("/proc", 4)
	require.True(t, off.Watch(uint32(cmd.Process.Pid), 0, "child"))
	off.Sample(func(_ uint32, _ string, s Sample) { assert.Nil(t, s.TCP, "off by default") })
}

// netnsChild runs in a network namespace of its own: it brings up its loopback, listens, connects
// to itself, sends and receives the byte counts it is given, prints the listener's port and waits
// for its stdin to close.
func netnsChild() int {
	send, _ := strconv.Atoi(os.Getenv(childEnv + "_SEND"))
	recv, _ := strconv.Atoi(os.Getenv(childEnv + "_RECV"))
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 2
	}
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return 2
	}
	ifr.SetUint16(unix.IFF_UP | unix.IFF_LOOPBACK | unix.IFF_RUNNING)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return 3
	}
	unix.Close(fd)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 4
	}
	served := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			if _, err = io.ReadFull(c, make([]byte, send)); err == nil {
				_, err = c.Write(make([]byte, recv))
			}
		}
		served <- err
		select {} // keep the connection open
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		return 5
	}
	if _, err := c.Write(make([]byte, send)); err != nil {
		return 6
	}
	if _, err := io.ReadFull(c, make([]byte, recv)); err != nil || <-served != nil {
		return 7
	}
	os.Stdout.WriteString(strconv.Itoa(ln.Addr().(*net.TCPAddr).Port) + "\n")
	_, _ = io.Copy(io.Discard, os.Stdin)
	return 0
}

// TestSampleCountsTCPBytesInAnotherNetns samples a child in a network namespace of its own (as a
// miner in a container or the simulator's namespace runs): its connection over its own loopback is
// only visible to a dump made in that namespace.
func TestSampleCountsTCPBytesInAnotherNetns(t *testing.T) {
	testutil.RequirePrivileged(t)
	const send, recv = 200_000, 90_000
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"_NETNS=1",
		childEnv+"_SEND="+strconv.Itoa(send), childEnv+"_RECV="+strconv.Itoa(recv))
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET}
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	defer func() { _ = stdin.Close(); _ = cmd.Wait() }()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err, "child failed")
	port, err := strconv.Atoi(strings.TrimSpace(line))
	require.NoError(t, err)

	before, err := ownNetns()
	require.NoError(t, err)
	conn := sampleConn(t, cmd.Process.Pid, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port)), send, recv)
	assert.Less(t, conn.Sent, uint64(send+1000), "the client's bytes, not the server side's")
	after, err := ownNetns()
	require.NoError(t, err)
	assert.Equal(t, before, after, "this process stays in its network namespace")
	var self unix.Stat_t
	require.NoError(t, unix.Stat("/proc/thread-self/ns/net", &self))
	assert.Equal(t, before, netnsID{dev: self.Dev, ino: self.Ino}, "and so does this thread")
}

// BenchmarkSample is the cost of one sample round of this process, without and with TCP counts
// (the dump's cost grows with the TCP sockets of the namespace), with one loopback connection open.
func BenchmarkSample(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(b, err)
	defer ln.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			defer c.Close()
			_, _ = io.Copy(io.Discard, c)
		}
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(b, err)
	defer c.Close()
	for _, tcp := range []bool{false, true} {
		b.Run("tcp="+strconv.FormatBool(tcp), func(b *testing.B) {
			w := New[int]("/proc", 4)
			w.ReadTCP(tcp)
			w.Watch(uint32(os.Getpid()), 0, 0)
			for b.Loop() {
				w.Sample(func(uint32, int, Sample) {})
			}
		})
	}
}

// sampleConn watches pid with TCP counts on and samples it until its connection to want shows at
// least send bytes sent and recv received; no sample may fail to read the counts.
func sampleConn(t *testing.T, pid int, want netip.AddrPort, send, recv int) Conn {
	t.Helper()
	w := New[string]("/proc", 4)
	w.ReadTCP(true)
	require.True(t, w.Watch(uint32(pid), 0, "child"))
	var conn Conn
	require.Eventually(t, func() bool {
		var s Sample
		w.Sample(func(_ uint32, _ string, got Sample) { s = got })
		for _, c := range s.TCP {
			if c.Remote == want {
				conn = c
			}
		}
		return conn.Sent >= uint64(send) && conn.Received >= uint64(recv)
	}, 3*time.Second, 50*time.Millisecond, "last: %+v", conn)
	assert.Equal(t, uint64(0), w.TCPErrors())
	return conn
}
