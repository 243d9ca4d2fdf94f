//go:build linux && amd64

package kernel

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/event"
)

// helper runs this test binary in a helper mode; netns, when set, is the network namespace.
func helper(t *testing.T, netns, dir, mode string, args ...string) (*exec.Cmd, string) {
	t.Helper()
	self, err := os.Executable()
	require.NoError(t, err)
	var cmd *exec.Cmd
	if netns != "" {
		cmd = exec.Command("ip", append([]string{"netns", "exec", netns, self}, args...)...)
	} else {
		cmd = exec.Command(self, args...)
	}
	cmd.Env = append(os.Environ(), helperEnv+"="+mode)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "helper %s: %s", mode, out)
	return cmd, string(out)
}

var netnsSeq atomic.Int32

// newNetns creates a network namespace with only loopback up; it is deleted at cleanup.
func newNetns(t *testing.T) string {
	t.Helper()
	name := fmt.Sprintf("cckern-%d-%d", os.Getpid(), netnsSeq.Add(1))
	out, err := exec.Command("ip", "netns", "add", name).CombinedOutput()
	require.NoError(t, err, "ip netns add: %s", out)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	out, err = exec.Command("ip", "-n", name, "link", "set", "lo", "up").CombinedOutput()
	require.NoError(t, err, "lo up: %s", out)
	return name
}

func TestExecFailedAttempt(t *testing.T) {
	_, rec := startSource(t, allFamilies())
	cmd := exec.Command("/nonexistent/modprobe", "msr", "allow_writes=on")
	require.Error(t, cmd.Run())
	ev := rec.wait(t, "exec_failed", func(e *event.Event) bool {
		return e.Kind == event.KindExecFailed && e.ExecFailed.Filename == "/nonexistent/modprobe"
	})
	require.Equal(t, int32(unix.ENOENT), ev.ExecFailed.Errno)
	require.Equal(t, [][]byte{[]byte("/nonexistent/modprobe"), []byte("msr"), []byte("allow_writes=on")}, ev.ExecFailed.Args)
	require.Equal(t, uint32(os.Getpid()), ev.Proc.PPID)
}

// TestExitWithCPUTime covers both ways the exit program sums CPU time: the thread-list walk (a Go
// helper, many threads) and the single-thread shortcut (dash).
func TestExitWithCPUTime(t *testing.T) {
	_, rec := startSource(t, allFamilies())
	self, err := os.Executable()
	require.NoError(t, err)
	goHelper := exec.Command(self)
	goHelper.Env = append(os.Environ(), helperEnv+"=burn")
	shell := exec.Command("/bin/sh", "-c", "i=0; while [ $i -lt 400000 ]; do i=$((i+1)); done; exit 3")
	for name, cmd := range map[string]*exec.Cmd{"multi-threaded": goHelper, "single-threaded": shell} {
		t.Run(name, func(t *testing.T) {
			err := cmd.Run()
			require.Error(t, err) // exit status 3
			pid := uint32(cmd.Process.Pid)
			ev := rec.wait(t, "exit", func(e *event.Event) bool { return e.Kind == event.KindExit && e.Proc.PID == pid })
			require.Equal(t, int32(3<<8), ev.Exit.Code)
			require.True(t, ev.Proc.Lean, "exit records carry the lean header")
			cpu := time.Duration(ev.Exit.UserNS + ev.Exit.SystemNS)
			require.GreaterOrEqual(t, cpu, 200*time.Millisecond, "user %d + system %d ns", ev.Exit.UserNS, ev.Exit.SystemNS)
			// what the parent's wait4 reports for the same child
			ps := cmd.ProcessState
			waited := ps.UserTime() + ps.SystemTime()
			require.InDelta(t, float64(waited), float64(cpu), float64(30*time.Millisecond), "bpf %v, wait4 %v", cpu, waited)
		})
	}
}

func TestCommRename(t *testing.T) {
	_, rec := startSource(t, allFamilies())
	cmd, _ := helper(t, "", "", "rename")
	pid := uint32(cmd.Process.Pid)
	ev := rec.wait(t, "rename", func(e *event.Event) bool { return e.Kind == event.KindRename && e.Proc.PID == pid })
	require.Equal(t, "kworker-fake", ev.Rename.NewComm)
	require.NotEqual(t, "kworker-fake", ev.Rename.OldComm)
}

func TestConnectLoopbackAndUDP(t *testing.T) {
	_, rec := startSource(t, allFamilies())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	port := uint16(ln.Addr().(*net.TCPAddr).Port)
	c, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	c.Close()
	u, err := net.Dial("udp", "127.0.0.1:9")
	require.NoError(t, err)
	u.Close()
	me := uint32(os.Getpid())
	loop := [16]byte{127, 0, 0, 1}

	ev := rec.wait(t, "tcp connect", func(e *event.Event) bool {
		return e.Kind == event.KindConnect && e.Proc.PID == me && e.Connect.Port == port
	})
	require.Equal(t, uint16(unix.AF_INET), ev.Connect.Family)
	require.Equal(t, uint8(unix.IPPROTO_TCP), ev.Connect.Transport)
	require.Equal(t, loop, ev.Connect.Addr)
	// Go connects non-blocking: success shows as in progress.
	require.True(t, ev.Connect.Errno == 0)

	ev = rec.wait(t, "udp connect", func(e *event.Event) bool {
		return e.Kind == event.KindConnect && e.Proc.PID == me && e.Connect.Port == 9
	})
	require.Equal(t, uint8(unix.IPPROTO_UDP), ev.Connect.Transport)
	require.Equal(t, int32(0), ev.Connect.Errno)
}

func TestConnectUnreachableInNetns(t *testing.T) {
	_, rec := startSource(t, allFamilies())
	ns := newNetns(t)
	cmd, out := helper(t, ns, "", "connect", "10.255.1.2:3333")
	require.Contains(t, out, "unreachable")
	pid := uint32(cmd.Process.Pid)
	ev := rec.wait(t, "unreachable connect", func(e *event.Event) bool {
		return e.Kind == event.KindConnect && e.Proc.PID == pid && e.Connect.Port == 3333
	})
	require.Equal(t, int32(unix.ENETUNREACH), ev.Connect.Errno)
	require.Equal(t, [16]byte{10, 255, 1, 2}, ev.Connect.Addr)
}

func TestDNSQueryAndAnswer(t *testing.T) {
	_, rec := startSource(t, allFamilies())
	for mode, transport := range map[string]uint8{"dns": unix.IPPROTO_UDP, "dnstcp": unix.IPPROTO_TCP} {
		t.Run(mode, func(t *testing.T) {
			ns := newNetns(t)
			cmd, _ := helper(t, ns, "", mode)
			pid := uint32(cmd.Process.Pid)
			q := rec.wait(t, "dns query", func(e *event.Event) bool {
				return e.Kind == event.KindDNS && e.DNS.Egress && e.Proc.PID == pid
			})
			require.Equal(t, uint16(53), q.DNS.DstPort)
			require.Equal(t, transport, q.DNS.Transport)
			require.Equal(t, dnsQuery, q.DNS.Payload, "the TCP length prefix is stripped")
			a := rec.wait(t, "dns answer", func(e *event.Event) bool {
				return e.Kind == event.KindDNS && !e.DNS.Egress && e.DNS.DstPort == q.DNS.SrcPort && e.DNS.SrcPort == 53 &&
					len(e.DNS.Payload) > 2 && bytes.Equal(e.DNS.Payload[:2], dnsQuery[:2])
			})
			require.Equal(t, transport, a.DNS.Transport)
			require.Greater(t, len(a.DNS.Payload), len(dnsQuery))
			require.Equal(t, byte(0x81), a.DNS.Payload[2])
		})
	}
}

func TestFileWritesUnderWatchedPrefix(t *testing.T) {
	dir := t.TempDir()
	opts := allFamilies()
	opts.WatchedPrefixes = []string{dir + "/cron.d/"}
	_, rec := startSource(t, opts)
	cron := filepath.Join(dir, "cron.d")
	require.NoError(t, os.Mkdir(cron, 0o755))
	job := filepath.Join(cron, "job")
	require.NoError(t, os.WriteFile(job, []byte("* * * * * root /tmp/x\n"), 0o644))
	require.NoError(t, os.Chmod(job, 0o600))
	require.NoError(t, os.Rename(job, job+"2"))
	require.NoError(t, os.Remove(job+"2"))
	// outside the prefix: not reported
	require.NoError(t, os.WriteFile(filepath.Join(dir, "other"), nil, 0o644))
	// relative path resolved against the writer's cwd
	cmd, _ := helper(t, "", cron, "write", "rel.job")
	me := uint32(os.Getpid())

	want := func(op, path string) event.Event {
		return rec.wait(t, "file "+op, func(e *event.Event) bool {
			return e.Kind == event.KindFile && e.Proc.PID == me && e.File.Op == op && e.File.Path == path
		})
	}
	ev := want(event.FileTruncate, job)
	require.True(t, ev.File.WriteIntent)
	require.Equal(t, int32(0), ev.File.Errno)
	require.Equal(t, uint32(0o600), want(event.FileChmod, job).File.Mode)
	require.Equal(t, job, want(event.FileRename, job+"2").File.SourcePath)
	want(event.FileUnlink, job+"2")
	rel := rec.wait(t, "relative write", func(e *event.Event) bool {
		return e.Kind == event.KindFile && e.Proc.PID == uint32(cmd.Process.Pid)
	})
	require.Equal(t, filepath.Join(cron, "rel.job"), rel.File.Path)
	for _, e := range rec.all() {
		if e.Kind == event.KindFile {
			require.False(t, strings.HasSuffix(e.File.Path, "/other"), "unwatched path reported: %s", e.File.Path)
		}
	}
}

func TestMSROpenAttempt(t *testing.T) {
	_, rec := startSource(t, allFamilies())
	_, err := os.OpenFile("/dev/cpu/0/msr", os.O_RDWR, 0)
	require.Error(t, err)
	_, _ = os.Open("/dev/cpu/0/msr") // read-only: still always reported
	me := uint32(os.Getpid())
	ev := rec.wait(t, "msr open", func(e *event.Event) bool {
		return e.Kind == event.KindFile && e.Proc.PID == me && e.File.Path == "/dev/cpu/0/msr" && e.File.WriteIntent
	})
	require.Equal(t, int32(unix.ENOENT), ev.File.Errno)
	require.Equal(t, event.FileOpen, ev.File.Op)
	rec.wait(t, "read-only msr open", func(e *event.Event) bool {
		return e.Kind == event.KindFile && e.Proc.PID == me && e.File.Path == "/dev/cpu/0/msr" && !e.File.WriteIntent
	})
}

func TestSysctlWrite(t *testing.T) {
	const p = "/proc/sys/vm/nr_hugepages"
	cur, err := os.ReadFile(p)
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.WriteFile(p, cur, 0o644) })
	_, rec := startSource(t, allFamilies())
	require.NoError(t, os.WriteFile(p, cur, 0o644))
	me := uint32(os.Getpid())
	ev := rec.wait(t, "sysctl", func(e *event.Event) bool { return e.Kind == event.KindSysctl && e.Proc.PID == me })
	require.Equal(t, "vm/nr_hugepages", ev.Sysctl.Name)
	require.Equal(t, strings.TrimSpace(string(cur)), ev.Sysctl.NewValue)
	require.Equal(t, strings.TrimSpace(string(cur)), ev.Sysctl.OldValue)
}

func TestHookMatrix(t *testing.T) {
	s, _ := startSource(t, allFamilies())
	s.mu.Lock()
	defer s.mu.Unlock()
	attached := map[string]bool{}
	for name := range s.coll.Programs {
		attached[name] = true
	}
	for _, h := range hooks {
		if !h.optional {
			require.True(t, attached[h.prog], "core hook %s not loaded", h.prog)
		}
	}
	require.Len(t, s.links, len(s.coll.Programs))
	// every optional hook exists on the project's 6.18 kernels too
	require.Len(t, s.links, len(hooks))
}

func TestLostEventsCountedWithTinyRing(t *testing.T) {
	s, rec := startStalled(t, event.Options{Exec: true, RingBufferSize: 4096, LifecycleRingSize: 4096})
	const n = 500
	for i := 0; i < n; i++ {
		require.NoError(t, exec.Command("/bin/true").Run())
	}
	s.detach() // nothing is produced from here on
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, rec.add) }()
	produced := s.produced()
	st := s.Stats()
	// drain: once the ring is empty everything that will arrive has arrived
	require.Eventually(t, func() bool { st := s.Stats(); return st.RingUsed == 0 && st.LifecycleUsed == 0 }, 5e9, 5e7)
	cancel()
	require.NoError(t, <-done)

	evs := rec.all()
	var lost uint64
	for _, v := range st.Lost {
		lost += v
	}
	mine := 0
	for _, e := range evs {
		if e.Kind == event.KindExec && e.Proc.PPID == uint32(os.Getpid()) {
			mine++
		}
	}
	require.Greater(t, st.Lost[event.KindExec], uint64(0), "a 4 KiB ring must overflow")
	require.Equal(t, st.Lost[event.KindExec]+st.Lost[event.KindExit], st.LifecycleLost, "exec loss is lifecycle loss")
	require.Equal(t, produced, uint64(len(evs))+lost, "received %d + lost %d != produced %d", len(evs), lost, produced)
	require.GreaterOrEqual(t, uint64(mine)+st.Lost[event.KindExec], uint64(n))
	// sequence gaps agree with the counters
	seen := make(map[uint64]bool, len(evs))
	for _, e := range evs {
		seen[e.Seq] = true
	}
	var gaps uint64
	for q := uint64(1); q <= produced; q++ {
		if !seen[q] {
			gaps++
		}
	}
	require.Equal(t, lost, gaps)
}

func TestExcludedPIDIsSilent(t *testing.T) {
	opts := allFamilies()
	opts.ExcludePIDs = []uint32{uint32(os.Getpid())}
	_, rec := startSource(t, opts)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	c.Close()
	_, _ = os.OpenFile("/dev/cpu/0/msr", os.O_RDWR, 0)
	cmd := exec.Command("/bin/true") // a child is not excluded
	require.NoError(t, cmd.Run())
	rec.wait(t, "child exec", func(e *event.Event) bool {
		return e.Kind == event.KindExec && e.Proc.PID == uint32(cmd.Process.Pid)
	})
	for _, e := range rec.all() {
		require.NotEqual(t, uint32(os.Getpid()), e.Proc.PID, "event of the excluded process: %+v", e)
	}
}

// detach closes the links only: nothing more is produced, the ring can still be drained.
func (s *Source) detach() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.links) - 1; i >= 0; i-- {
		s.links[i].Close()
	}
	s.links = nil
}

// produced returns the kernel's sequence counter: records produced (delivered or lost) so far.
func (s *Source) produced() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var v uint64
	if s.coll != nil {
		_ = s.coll.Maps["seqno"].Lookup(uint32(0), &v)
	}
	return v
}
