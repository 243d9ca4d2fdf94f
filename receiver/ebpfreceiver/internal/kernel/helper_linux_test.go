//go:build linux && amd64

package kernel

import (
	"fmt"
	"math"
	"net"
	"os"
	"runtime"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/event"
)

// helperEnv makes the test binary act as a small child program, so that the privileged tests can
// produce activity from a process of their own (inside a network namespace when needed).
const helperEnv = "KERNEL_TEST_HELPER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(runHelper(mode, os.Args[1:]))
	}
	os.Exit(m.Run())
}

func runHelper(mode string, args []string) int {
	switch mode {
	case "burn": // 250 ms of CPU (not wall clock: the machine is shared), then exit 3
		x := 0
		for {
			var ru unix.Rusage
			_ = unix.Getrusage(unix.RUSAGE_SELF, &ru)
			if time.Duration(ru.Utime.Nano()+ru.Stime.Nano()) >= 250*time.Millisecond {
				break
			}
			for i := 0; i < 100000; i++ {
				x += i * i
			}
		}
		if x == 42 {
			return 0
		}
		return 3
	case "rename":
		name := []byte("kworker-fake\x00")
		if err := unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(&name[0])), 0, 0, 0); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return 0
	case "connect": // args[0] = host:port; prints the error
		c, err := net.DialTimeout("tcp", args[0], time.Second)
		if err != nil {
			fmt.Println(err)
			return 0
		}
		c.Close()
		return 0
	case "randomx": // float work between short sleeps on one thread, whose SSE rounding mode the test
		// switches from outside (setRounding); prints the thread id first
		runtime.LockOSThread()
		fmt.Println(unix.Gettid())
		f := 1.0
		for i := 0; i < 300; i++ {
			for j := 0; j < 1000; j++ {
				f = f*1.0000001 + 0.5
			}
			time.Sleep(2 * time.Millisecond) // switched out with the mode set
		}
		if f == 0 {
			return 1
		}
		return 0
	case "float": // ordinary floating-point work: default rounding throughout
		f := 1.0
		for i := 0; i < 300; i++ {
			for j := 0; j < 1000; j++ {
				f = math.Sqrt(f*1.0000001 + 0.5)
			}
			time.Sleep(2 * time.Millisecond)
		}
		if f == 0 {
			return 1
		}
		return 0
	case "start": // prints the error of Start (run as an unprivileged user)
		src, err := New(event.Options{Exec: true}, nil)
		if err == nil {
			err = src.Start()
			src.Close()
		}
		fmt.Println(err)
		return 0
	case "dns": // a DNS responder on 127.0.0.1:53 and one query to it
		return dnsHelper()
	case "dnstcp": // the same over TCP (2-byte length prefix)
		return dnsTCPHelper()
	case "write": // args[0] = relative file name, written in the working directory
		if err := os.WriteFile(args[0], []byte("* * * * * root /tmp/x\n"), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return 0
	}
	fmt.Fprintln(os.Stderr, "unknown helper mode", mode)
	return 2
}

// dnsQuery is a minimal query for pool.example.test A.
var dnsQuery = []byte{0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
	4, 'p', 'o', 'o', 'l', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 4, 't', 'e', 's', 't', 0, 0, 1, 0, 1}

func dnsHelper() int {
	srv, err := net.ListenPacket("udp", "127.0.0.1:53")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer srv.Close()
	go func() {
		buf := make([]byte, 512)
		n, addr, err := srv.ReadFrom(buf)
		if err != nil {
			return
		}
		srv.WriteTo(dnsAnswer(buf[:n]), addr)
	}()
	c, err := net.Dial("udp", "127.0.0.1:53")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer c.Close()
	if _, err := c.Write(dnsQuery); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 512)
	if _, err := c.Read(buf); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// dnsAnswer turns a query into an answer with one A record (127.0.0.7).
func dnsAnswer(q []byte) []byte {
	ans := append([]byte(nil), q...)
	ans[2] |= 0x80 // QR
	ans[7] = 1     // ANCOUNT
	return append(ans, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 7)
}

func dnsTCPHelper() int {
	ln, err := net.Listen("tcp", "127.0.0.1:53")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer ln.Close()
	go func() {
		s, err := ln.Accept()
		if err != nil {
			return
		}
		defer s.Close()
		buf := make([]byte, 514)
		n, err := s.Read(buf)
		if err != nil || n < 2 {
			return
		}
		ans := dnsAnswer(buf[2:n])
		s.Write(append([]byte{byte(len(ans) >> 8), byte(len(ans))}, ans...))
	}()
	c, err := net.Dial("tcp", "127.0.0.1:53")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer c.Close()
	if _, err := c.Write(append([]byte{0, byte(len(dnsQuery))}, dnsQuery...)); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 514)
	if _, err := c.Read(buf); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}
