//go:build linux && amd64

package ebpfreceiver

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/cryptochain-otel/cryptochain/internal/testutil"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/kernel"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/metadata"
)

func parentIs(f flat, pid int) bool {
	v, ok := f.lr.Attributes().Get("process.parent_pid")
	return ok && v.Int() == int64(pid)
}

// A bash subshell is a fork of bash that never execs: its connect carries bash's context.
func TestKernelForkWithoutExecInheritsContext(t *testing.T) {
	k := startKernel(t, nil)
	// setsid makes bash open a daemonized context; the subshell connects (refused, loopback) and
	// exits without an exec.
	cmd := exec.Command("setsid", "bash", "-c", "sleep 0.2; ( : 3<>/dev/tcp/127.0.0.1/9 ) 2>/dev/null; sleep 0.2; true")
	require.NoError(t, cmd.Run())
	bashPID := cmd.Process.Pid
	be := k.wait(t, "bash cryptochain.process.exec", func(f flat) bool {
		return f.lr.EventName() == "cryptochain.process.exec" && pidIs(f, bashPID) && str(f.lr.Attributes(), "process.executable.name") == "bash"
	})
	want := str(be.res, "cryptochain.context.id")
	require.True(t, strings.HasPrefix(want, "daemonized:"), want)
	c := k.wait(t, "subshell cryptochain.network.connect", func(f flat) bool {
		return f.lr.EventName() == "cryptochain.network.connect" && parentIs(f, bashPID) && !pidIs(f, bashPID)
	})
	assert.Equal(t, want, str(c.res, "cryptochain.context.id"), "the forked child inherits its parent's context")
	assert.Equal(t, str(be.lr.Attributes(), "process.executable.path"), str(c.lr.Attributes(), "process.executable.path"))
}

// A daemonized process tree started under one receiver keeps its context id under the next one,
// which only knows it from the procfs snapshot.
func TestKernelContextIDSurvivesRestart(t *testing.T) {
	testutil.RequirePrivileged(t)
	start := func() (*ebpfReceiver, *consumertest.LogsSink) {
		cfg := createDefaultConfig()
		cfg.Batch.Timeout = 50 * time.Millisecond
		require.NoError(t, cfg.Validate())
		sink := new(consumertest.LogsSink)
		r, err := newReceiver(receivertest.NewNopSettings(metadata.Type), cfg, sink, kernel.New)
		require.NoError(t, err)
		require.NoError(t, r.Start(context.Background(), componenttest.NewNopHost()))
		return r, sink
	}
	r1, sink1 := start()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = r1.Shutdown(context.Background())
		}
	})
	// sh (a child of this test, which the receiver excludes) starts a setsid'd loop that keeps
	// exec'ing sleep. The loop ends when sh is gone: killing sh's process group does not reach the
	// new session, and a leaked loop would keep the test binary's inherited descriptors (the
	// shared privileged-test lock) open.
	marker := randName("marker-")
	cmd := exec.Command("sh", "-c", "setsid bash -c 'while kill -0 $PPID 2>/dev/null; do sleep 0.1; done; echo "+marker+"' & wait")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); _ = cmd.Wait() })

	wait := func(sink *consumertest.LogsSink, what string, ok func(flat) bool) flat {
		t.Helper()
		k := &kernelReceiver{sink: sink}
		return k.wait(t, what, ok)
	}
	loop := wait(sink1, "setsid'd bash", func(f flat) bool {
		return f.lr.EventName() == "cryptochain.process.exec" && str(f.lr.Attributes(), "process.executable.name") == "bash" &&
			strings.Contains(str(f.lr.Attributes(), "process.command_line"), marker)
	})
	loopPID, _ := strconv.Atoi(str(loop.lr.Attributes(), "process.pid"))
	before := wait(sink1, "sleep under the first receiver", func(f flat) bool {
		return f.lr.EventName() == "cryptochain.process.exec" && parentIs(f, loopPID)
	})
	want := str(before.res, "cryptochain.context.id")
	require.True(t, strings.HasPrefix(want, "daemonized:"), want)
	require.Equal(t, str(loop.res, "cryptochain.context.id"), want)
	require.NoError(t, r1.Shutdown(context.Background()))
	stopped = true

	r2, sink2 := start()
	t.Cleanup(func() { require.NoError(t, r2.Shutdown(context.Background())) })
	snap := wait(sink2, "bash in the snapshot", func(f flat) bool {
		return f.lr.EventName() == "cryptochain.process.exec" && pidIs(f, loopPID)
	})
	assert.Equal(t, want, str(snap.res, "cryptochain.context.id"), "the snapshot rebuilds the same context")
	after := wait(sink2, "sleep under the second receiver", func(f flat) bool {
		return f.lr.EventName() == "cryptochain.process.exec" && parentIs(f, loopPID) && str(f.lr.Attributes(), "cryptochain.event.source") != "procfs"
	})
	assert.Equal(t, want, str(after.res, "cryptochain.context.id"), "a new event of the tree keeps its context id")
}
