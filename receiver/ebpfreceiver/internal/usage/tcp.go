package usage

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Bounds of the TCP byte counts per sample.
const (
	maxFDs      = 4096    // fd entries looked at per process
	maxSockets  = 256     // socket inodes kept per process
	maxConns    = 16      // remote endpoints reported per process
	maxDiagMsgs = 1 << 18 // inet_diag messages parsed per dump
	maxNetns    = 16      // network namespaces dumped per sample round
)

// Conn is the byte count of a process's TCP connections to one remote endpoint, summed over its
// sockets open at the sample: Sent is tcpi_bytes_acked, Received tcpi_bytes_received.
type Conn struct {
	Remote   netip.AddrPort
	Sent     uint64
	Received uint64
}

// Linux inet_diag (linux/inet_diag.h, linux/sock_diag.h), encoded by hand: x/sys/unix has the
// constants but not the structs.
const (
	inetDiagInfo     = 2  // INET_DIAG_INFO attribute: struct tcp_info
	sizeofDiagReqV2  = 56 // struct inet_diag_req_v2
	sizeofDiagMsg    = 72 // struct inet_diag_msg
	diagMsgInodeOff  = 68
	tcpStateListen   = 10
	tcpStateTimeWait = 6
)

var (
	offBytesAcked    = int(unsafe.Offsetof(unix.TCPInfo{}.Bytes_acked))
	offBytesReceived = int(unsafe.Offsetof(unix.TCPInfo{}.Bytes_received))
)

// socketInodes lists the socket inodes among the open files of pid (at most maxSockets, looking at
// at most maxFDs entries).
func socketInodes(root string, pid uint32) ([]uint64, error) {
	dir := filepath.Join(root, strconv.FormatUint(uint64(pid), 10), "fd")
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(maxFDs)
	if err != nil && len(names) == 0 {
		return nil, err
	}
	var inodes []uint64
	for _, n := range names {
		l, err := os.Readlink(filepath.Join(dir, n))
		if err != nil || !strings.HasPrefix(l, "socket:[") || !strings.HasSuffix(l, "]") {
			continue
		}
		ino, err := strconv.ParseUint(l[len("socket:["):len(l)-1], 10, 64)
		if err != nil || ino == 0 {
			continue
		}
		inodes = append(inodes, ino)
		if len(inodes) >= maxSockets {
			break
		}
	}
	return inodes, nil
}

// netnsID names a network namespace: device and inode of its nsfs file.
type netnsID struct{ dev, ino uint64 }

// netnsOf returns the network namespace of pid and the path that opens it.
func netnsOf(root string, pid uint32) (netnsID, string, error) {
	path := filepath.Join(root, strconv.FormatUint(uint64(pid), 10), "ns", "net")
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return netnsID{}, "", err
	}
	return netnsID{dev: st.Dev, ino: st.Ino}, path, nil
}

// ownNetns is the network namespace this process dumps sockets in without switching.
func ownNetns() (netnsID, error) {
	var st unix.Stat_t
	if err := unix.Stat("/proc/self/ns/net", &st); err != nil {
		return netnsID{}, err
	}
	return netnsID{dev: st.Dev, ino: st.Ino}, nil
}

// diagSocketIn opens a NETLINK_SOCK_DIAG socket in the network namespace at nsPath ("" = this
// process's). A netlink socket belongs to the namespace it was created in, so only the socket call
// runs in the target namespace: on a locked OS thread that switches there and back at once. A thread
// that cannot switch back stays locked and ends with its goroutine, so no other code runs in it.
func diagSocketIn(nsPath string) (int, error) {
	if nsPath == "" {
		return diagSocket()
	}
	type result struct {
		fd  int
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		self, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			ch <- result{-1, err}
			return
		}
		defer self.Close()
		target, err := os.Open(nsPath)
		if err != nil {
			runtime.UnlockOSThread()
			ch <- result{-1, err}
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			ch <- result{-1, err}
			return
		}
		fd, err := diagSocket()
		if rerr := unix.Setns(int(self.Fd()), unix.CLONE_NEWNET); rerr != nil {
			if fd >= 0 {
				unix.Close(fd)
			}
			ch <- result{-1, rerr} // the thread stays locked: it exits with this goroutine
			return
		}
		runtime.UnlockOSThread()
		ch <- result{fd, err}
	}()
	r := <-ch
	return r.fd, r.err
}

func diagSocket() (int, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return -1, err
	}
	return fd, nil
}

// tcpSock is one TCP socket of the dump.
type tcpSock struct {
	remote         netip.AddrPort
	sent, received uint64
}

// dumpTCP asks the kernel for every TCP socket of the network namespace at nsPath ("" = this
// process's; IPv4 and IPv6) with its tcp_info and adds those whose inode is in want to got.
func dumpTCP(nsPath string, want map[uint64]struct{}, got map[uint64]tcpSock) error {
	fd, err := diagSocketIn(nsPath)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	tv := unix.Timeval{Usec: 200000} // the sampler holds the pipeline lock: never wait long
	_ = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return err
	}
	buf := make([]byte, 64<<10)
	for i, family := range []uint8{unix.AF_INET, unix.AF_INET6} {
		seq := uint32(i + 1)
		if err := unix.Sendto(fd, diagRequest(family, seq), 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
			return err
		}
		msgs := 0
		for done := false; !done; {
			n, _, err := unix.Recvfrom(fd, buf, 0)
			if err != nil {
				if errors.Is(err, syscall.EINTR) {
					continue
				}
				return err
			}
			var more int
			done, more, err = parseDiag(buf[:n], seq, want, got)
			if err != nil {
				return err
			}
			if msgs += more; msgs > maxDiagMsgs {
				return errTooMany
			}
		}
	}
	return nil
}

var (
	errTooMany  = errors.New("usage: inet_diag dump too large")
	errDiag     = errors.New("usage: malformed inet_diag reply")
	errDiagFail = errors.New("usage: inet_diag dump refused")
)

// diagRequest is a SOCK_DIAG_BY_FAMILY dump request for TCP sockets of family (all states but
// listen and time-wait) with INET_DIAG_INFO.
func diagRequest(family uint8, seq uint32) []byte {
	b := make([]byte, unix.NLMSG_HDRLEN+sizeofDiagReqV2)
	ne := binary.NativeEndian
	ne.PutUint32(b[0:], uint32(len(b)))
	ne.PutUint16(b[4:], unix.SOCK_DIAG_BY_FAMILY)
	ne.PutUint16(b[6:], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	ne.PutUint32(b[8:], seq)
	r := b[unix.NLMSG_HDRLEN:]
	r[0] = family
	r[1] = unix.IPPROTO_TCP
	r[2] = 1 << (inetDiagInfo - 1)
	ne.PutUint32(r[4:], ^uint32(0)&^(1<<tcpStateListen|1<<tcpStateTimeWait))
	return b
}

// parseDiag reads one datagram of a dump reply into got (sockets whose inode is in want). It
// reports whether the dump is done and how many messages it held.
func parseDiag(b []byte, seq uint32, want map[uint64]struct{}, got map[uint64]tcpSock) (done bool, n int, err error) {
	ne := binary.NativeEndian
	for len(b) >= unix.NLMSG_HDRLEN {
		l := int(ne.Uint32(b[0:]))
		typ := ne.Uint16(b[4:])
		if l < unix.NLMSG_HDRLEN || l > len(b) {
			return false, n, errDiag
		}
		msg := b[unix.NLMSG_HDRLEN:l]
		if s := ne.Uint32(b[8:]); s == seq {
			n++
			switch typ {
			case unix.NLMSG_DONE:
				return true, n, nil
			case unix.NLMSG_ERROR:
				return true, n, errDiagFail
			case unix.SOCK_DIAG_BY_FAMILY:
				if err := parseDiagMsg(msg, want, got); err != nil {
					return false, n, err
				}
			}
		}
		al := (l + unix.NLMSG_ALIGNTO - 1) &^ (unix.NLMSG_ALIGNTO - 1)
		if al >= len(b) {
			break
		}
		b = b[al:]
	}
	return false, n, nil
}

// parseDiagMsg reads one inet_diag_msg with its attributes.
func parseDiagMsg(m []byte, want map[uint64]struct{}, got map[uint64]tcpSock) error {
	if len(m) < sizeofDiagMsg {
		return errDiag
	}
	ne := binary.NativeEndian
	ino := uint64(ne.Uint32(m[diagMsgInodeOff:]))
	if _, ok := want[ino]; !ok {
		return nil
	}
	port := binary.BigEndian.Uint16(m[6:]) // id.idiag_dport
	var addr netip.Addr
	switch m[0] {
	case unix.AF_INET:
		addr = netip.AddrFrom4([4]byte(m[24:28])) // id.idiag_dst
	case unix.AF_INET6:
		addr = netip.AddrFrom16([16]byte(m[24:40])).Unmap()
	default:
		return nil
	}
	s := tcpSock{remote: netip.AddrPortFrom(addr, port)}
	has := false
	for a := m[sizeofDiagMsg:]; len(a) >= unix.SizeofRtAttr; {
		al := int(ne.Uint16(a[0:]))
		typ := ne.Uint16(a[2:])
		if al < unix.SizeofRtAttr || al > len(a) {
			return errDiag
		}
		if typ == inetDiagInfo {
			v := a[unix.SizeofRtAttr:al]
			// Kernels before 4.1/4.2 send a shorter tcp_info without the byte counters.
			if len(v) >= offBytesReceived+8 {
				s.sent = ne.Uint64(v[offBytesAcked:])
				s.received = ne.Uint64(v[offBytesReceived:])
				has = true
			}
		}
		al = (al + unix.RTA_ALIGNTO - 1) &^ (unix.RTA_ALIGNTO - 1)
		if al >= len(a) {
			break
		}
		a = a[al:]
	}
	if has {
		got[ino] = s
	}
	return nil
}

// sumByRemote sums the sockets of one process per remote endpoint, at most maxConns endpoints
// (the rest are folded into none: reported per endpoint only).
func sumByRemote(inodes []uint64, socks map[uint64]tcpSock) []Conn {
	conns := []Conn{}
	for _, ino := range inodes {
		s, ok := socks[ino]
		if !ok {
			continue
		}
		i := 0
		for i < len(conns) && conns[i].Remote != s.remote {
			i++
		}
		if i == len(conns) {
			if len(conns) >= maxConns {
				continue
			}
			conns = append(conns, Conn{Remote: s.remote})
		}
		conns[i].Sent += s.sent
		conns[i].Received += s.received
	}
	return conns
}
