//go:build linux && amd64

package kernel

// The hooks for miner behaviour: signals to other processes, RandomX-like MXCSR rounding, and the
// first bytes of a new TCP connection.

import (
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/event"
)

func TestKillOfAnotherProcess(t *testing.T) {
	_, rec := startSource(t, allFamilies())
	victim := exec.Command("/bin/sleep", "30")
	require.NoError(t, victim.Start())
	vpid := victim.Process.Pid
	require.NoError(t, syscall.Kill(vpid, syscall.SIGKILL))
	_ = victim.Wait()
	_ = syscall.Kill(os.Getpid(), 0) // probe of oneself: not reported
	ev := rec.wait(t, "kill", func(e *event.Event) bool {
		return e.Kind == event.KindKill && e.Proc.PID == uint32(os.Getpid()) && e.Kill.TargetPID == uint32(vpid)
	})
	require.Equal(t, int32(syscall.SIGKILL), ev.Kill.Signal)
	require.Equal(t, int32(0), ev.Kill.Errno)
	for _, e := range rec.all() {
		if e.Kind == event.KindKill {
			require.NotEqual(t, int32(0), e.Kill.Signal)
		}
	}
}

func TestFPURoundingModes(t *testing.T) {
	_, rec := startSource(t, allFamilies())
	// Non-default modes, then round-to-nearest. The tally is per process, so the runtime's other
	// threads add default samples whatever the working thread does.
	rx := roundLikeRandomX(t, 1, 2, 3, 0)
	fl, _ := helper(t, "", "", "float")
	ev := rec.wait(t, "fpu", func(e *event.Event) bool { return e.Kind == event.KindFPU && e.Proc.PID == uint32(rx.Process.Pid) })
	require.NotZero(t, ev.FPU.MXCSR&(3<<13))
	require.GreaterOrEqual(t, ev.FPU.NonDefault, uint32(8))
	require.Greater(t, ev.FPU.Samples, ev.FPU.NonDefault, "reported with a default sample seen")
	time.Sleep(300 * time.Millisecond)
	n := 0
	for _, e := range rec.all() {
		if e.Kind == event.KindFPU {
			require.NotEqual(t, uint32(fl.Process.Pid), e.Proc.PID, "ordinary float work reported")
			if e.Proc.PID == uint32(rx.Process.Pid) {
				n++
			}
		}
	}
	require.Equal(t, 1, n, "one report per quiet period")
}

// roundLikeRandomX runs the "randomx" helper and sets the SSE rounding mode (MXCSR bits 13-14) of
// its working thread to each of modes in turn, 30 ms apart, the way a RandomX VM keeps switching it.
// The register is written from outside with PTRACE_SETFPREGS, so the test needs no assembly.
func roundLikeRandomX(t *testing.T, modes ...uint32) *exec.Cmd {
	t.Helper()
	self, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), helperEnv+"=randomx")
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	var tid int
	_, err = fmt.Fscan(out, &tid)
	require.NoError(t, err, "reading the helper's thread id")
	runtime.LockOSThread() // every ptrace request must come from the tracing thread
	defer runtime.UnlockOSThread()
	for _, mode := range modes {
		require.NoError(t, setRounding(tid, mode))
		time.Sleep(30 * time.Millisecond)
	}
	require.NoError(t, cmd.Wait())
	return cmd
}

// setRounding stops thread tid, sets its MXCSR rounding-control field to mode and lets it go on.
func setRounding(tid int, mode uint32) error {
	if err := unix.PtraceSeize(tid); err != nil {
		return fmt.Errorf("PTRACE_SEIZE: %w", err)
	}
	defer unix.PtraceDetach(tid)
	if err := unix.PtraceInterrupt(tid); err != nil {
		return fmt.Errorf("PTRACE_INTERRUPT: %w", err)
	}
	var ws unix.WaitStatus
	if _, err := unix.Wait4(tid, &ws, unix.WALL, nil); err != nil {
		return fmt.Errorf("waiting for the stop: %w", err)
	}
	var fx [512]byte // struct user_fpregs_struct, the FXSAVE layout: MXCSR at byte 24
	if err := ptraceFP(unix.PTRACE_GETFPREGS, tid, &fx); err != nil {
		return fmt.Errorf("PTRACE_GETFPREGS: %w", err)
	}
	m := binary.LittleEndian.Uint32(fx[24:])
	binary.LittleEndian.PutUint32(fx[24:], m&^(3<<13)|mode<<13)
	if err := ptraceFP(unix.PTRACE_SETFPREGS, tid, &fx); err != nil {
		return fmt.Errorf("PTRACE_SETFPREGS: %w", err)
	}
	return nil
}

func ptraceFP(req, tid int, fx *[512]byte) error {
	if _, _, errno := unix.Syscall6(unix.SYS_PTRACE, uintptr(req), uintptr(tid), 0, uintptr(unsafe.Pointer(fx)), 0, 0); errno != 0 {
		return errno
	}
	return nil
}

func TestFirstPayloadOfNewConnection(t *testing.T) {
	_, rec := startSource(t, allFamilies())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	got := make(chan []byte, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.Write([]byte("server hello")) // the first bytes of the accepted end too
		b := make([]byte, 1024)
		n, _ := c.Read(b)
		got <- b[:n]
	}()
	login := `{"id":1,"jsonrpc":"2.0","method":"login","params":{"login":"4ABC","pass":"x","agent":"XMRig/6.21.0"}}` + "\n"
	c, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	_, err = c.Write([]byte(login))
	require.NoError(t, err)
	<-got
	_, _ = c.Write([]byte("second write is not captured"))
	c.Close()
	port := uint16(ln.Addr().(*net.TCPAddr).Port)
	me := uint32(os.Getpid())
	ev := rec.wait(t, "payload", func(e *event.Event) bool {
		return e.Kind == event.KindPayload && e.Proc.PID == me && e.Payload.Port == port
	})
	require.Equal(t, login, string(ev.Payload.Data))
	require.Equal(t, [16]byte{127, 0, 0, 1}, ev.Payload.Addr)
	require.Equal(t, uint16(c.LocalAddr().(*net.TCPAddr).Port), ev.Payload.SrcPort)
	time.Sleep(300 * time.Millisecond)
	srv := rec.wait(t, "server payload", func(e *event.Event) bool {
		return e.Kind == event.KindPayload && e.Payload.SrcPort == port
	})
	require.Equal(t, "server hello", string(srv.Payload.Data))
	n := 0
	for _, e := range rec.all() {
		if e.Kind == event.KindPayload && (e.Payload.Port == port || e.Payload.SrcPort == port) {
			n++
		}
	}
	require.Equal(t, 2, n, "only the first segment of each end")
}
