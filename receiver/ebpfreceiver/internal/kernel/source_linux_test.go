//go:build linux && amd64

package kernel

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/cryptochain-otel/cryptochain/internal/testutil"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/event"
)

func allFamilies() event.Options {
	return event.Options{Exec: true, Exit: true, Network: true, DNS: true, Files: true, Sysctl: true, Rename: true,
		Kill: true, FPU: true, Payload: true}
}

// recorder keeps deep copies of the events the source delivers.
type recorder struct {
	mu  sync.Mutex
	evs []event.Event
}

func (r *recorder) add(ev *event.Event) {
	c := cloneEvent(ev)
	r.mu.Lock()
	r.evs = append(r.evs, c)
	r.mu.Unlock()
}

// wait returns the first event matching ok, failing the test after timeout.
func (r *recorder) wait(t *testing.T, what string, ok func(*event.Event) bool) event.Event {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		r.mu.Lock()
		for i := range r.evs {
			if ok(&r.evs[i]) {
				ev := r.evs[i]
				r.mu.Unlock()
				return ev
			}
		}
		r.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no %s event within 5s", what)
	return event.Event{}
}

func (r *recorder) all() []event.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]event.Event(nil), r.evs...)
}

func cloneBlocks(b [][]byte) [][]byte {
	if b == nil {
		return nil
	}
	out := make([][]byte, len(b))
	for i := range b {
		out[i] = bytes.Clone(b[i])
		if out[i] == nil {
			out[i] = []byte{}
		}
	}
	return out
}

func cloneEvent(ev *event.Event) event.Event {
	c := *ev
	if ev.Exec != nil {
		x := *ev.Exec
		x.Args, x.Env = cloneBlocks(x.Args), cloneBlocks(x.Env)
		c.Exec = &x
	}
	if ev.ExecFailed != nil {
		x := *ev.ExecFailed
		x.Args = cloneBlocks(x.Args)
		c.ExecFailed = &x
	}
	if ev.DNS != nil {
		x := *ev.DNS
		x.Payload = bytes.Clone(x.Payload)
		c.DNS = &x
	}
	if ev.File != nil {
		x := *ev.File
		c.File = &x
	}
	if ev.Payload != nil {
		x := *ev.Payload
		x.Data = bytes.Clone(x.Data)
		c.Payload = &x
	}
	return c
}

// startSource starts a source and a reader goroutine; both stop at test cleanup.
func startSource(t *testing.T, opts event.Options) (*Source, *recorder) {
	t.Helper()
	testutil.RequirePrivileged(t)
	src, err := New(opts, zaptest.NewLogger(t))
	require.NoError(t, err)
	s := src.(*Source)
	require.NoError(t, s.Start())
	rec := &recorder{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, rec.add) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
		require.NoError(t, s.Close())
		require.NoError(t, s.Close(), "second Close")
	})
	return s, rec
}

func TestExecArgvEnv(t *testing.T) {
	_, rec := startSource(t, allFamilies())
	dir := t.TempDir()
	cmd := exec.Command("/bin/true", "hello", "", "\xff\xfe-not-utf8", "last")
	cmd.Dir = dir
	cmd.Env = []string{"FOO=bar", "SECRET_TOKEN=hunter2"}
	require.NoError(t, cmd.Run())
	pid := uint32(cmd.Process.Pid)

	ev := rec.wait(t, "exec", func(e *event.Event) bool { return e.Kind == event.KindExec && e.Proc.PID == pid })
	x := ev.Exec
	require.NotNil(t, x)
	require.Equal(t, "/bin/true", x.Filename)
	require.Equal(t, "/usr/bin/true", x.ExePath)
	require.Equal(t, dir, x.Cwd)
	require.Equal(t, 5, x.Argc)
	require.Equal(t, [][]byte{[]byte("/bin/true"), []byte("hello"), {}, []byte("\xff\xfe-not-utf8"), []byte("last")}, x.Args)
	require.False(t, x.ArgsTruncated)
	require.Equal(t, [][]byte{[]byte("FOO=bar"), []byte("SECRET_TOKEN=hunter2")}, x.Env)
	require.Equal(t, uint32(os.Getpid()), ev.Proc.PPID)
	require.Equal(t, "true", ev.Proc.Comm)
	require.NotZero(t, ev.Proc.StartBootNS)
	require.NotZero(t, ev.Proc.CgroupID)
	require.NotZero(t, ev.Seq)
	require.False(t, x.ExeMemfd)
	require.False(t, x.ExeDeleted)
}

// startStalled starts a source whose reader is not running yet.
func startStalled(t *testing.T, opts event.Options) (*Source, *recorder) {
	t.Helper()
	testutil.RequirePrivileged(t)
	src, err := New(opts, zaptest.NewLogger(t))
	require.NoError(t, err)
	s := src.(*Source)
	require.NoError(t, s.Start())
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s, &recorder{}
}
