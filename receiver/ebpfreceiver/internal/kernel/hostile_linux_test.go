//go:build linux && amd64

package kernel

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/cryptochain-otel/cryptochain/internal/testutil"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/event"
)

func TestExecHugeArgvAndEnvAreBounded(t *testing.T) {
	opts := allFamilies()
	opts.ArgvMaxArgs = 1000
	_, rec := startSource(t, opts)
	args := make([]string, 100000)
	for i := range args {
		args[i] = "x"
	}
	cmd := exec.Command("/bin/true", args...)
	env := make([]string, 3000)
	for i := range env {
		env[i] = fmt.Sprintf("VAR_%d=%s", i, strings.Repeat("v", 10))
	}
	cmd.Env = env
	require.NoError(t, cmd.Run())
	pid := uint32(cmd.Process.Pid)
	ev := rec.wait(t, "exec", func(e *event.Event) bool { return e.Kind == event.KindExec && e.Proc.PID == pid })
	x := ev.Exec
	require.Equal(t, 100001, x.Argc)
	require.True(t, x.ArgsTruncated)
	require.Equal(t, 1000, x.ArgsTailAt, "ArgvMaxArgs bounds the head")
	require.Len(t, x.Args, 2000, "ArgvMaxArgs bounds the end of argv too")
	require.Equal(t, 10+200000-DefaultArgvMaxBytes-2048, x.ArgsSkipped, "skipped bytes: argv (\"/bin/true\" and 100000 \"x\", NULs included) less its head and end")
	require.Equal(t, "/bin/true", string(x.Args[0]))
	require.True(t, x.EnvTruncated)
	total := 0
	for _, e := range x.Env {
		total += len(e) + 1
	}
	require.LessOrEqual(t, total, DefaultEnvMaxBytes+1)
	require.Equal(t, "VAR_0=vvvvvvvvvv", string(x.Env[0]))
}

// execFromFD runs the file open as fd through /proc/self/fd, as fileless malware does.
func execFromFD(t *testing.T, f *os.File) uint32 {
	t.Helper()
	cmd := exec.Command("/proc/self/fd/3")
	cmd.ExtraFiles = []*os.File{f}
	require.NoError(t, cmd.Run())
	return uint32(cmd.Process.Pid)
}

func TestExecMemfdAndDeleted(t *testing.T) {
	_, rec := startSource(t, allFamilies())
	src, err := os.ReadFile("/bin/true")
	require.NoError(t, err)

	fd, err := unix.MemfdCreate("kworker", unix.MFD_CLOEXEC)
	require.NoError(t, err)
	mem := os.NewFile(uintptr(fd), "memfd")
	defer mem.Close()
	_, err = mem.Write(src)
	require.NoError(t, err)
	pid := execFromFD(t, mem)
	ev := rec.wait(t, "memfd exec", func(e *event.Event) bool { return e.Kind == event.KindExec && e.Proc.PID == pid })
	require.True(t, ev.Exec.ExeMemfd)
	require.Equal(t, "/memfd:kworker", ev.Exec.ExePath)
	require.Equal(t, "/proc/self/fd/3", ev.Exec.Filename)

	path := filepath.Join(t.TempDir(), "miner")
	w, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o755)
	require.NoError(t, err)
	in, err := os.Open("/bin/true")
	require.NoError(t, err)
	_, err = io.Copy(w, in)
	in.Close()
	require.NoError(t, err)
	require.NoError(t, w.Close())
	r, err := os.Open(path)
	require.NoError(t, err)
	defer r.Close()
	require.NoError(t, os.Remove(path))
	pid = execFromFD(t, r)
	ev = rec.wait(t, "deleted exec", func(e *event.Event) bool { return e.Kind == event.KindExec && e.Proc.PID == pid })
	require.True(t, ev.Exec.ExeDeleted)
	require.False(t, ev.Exec.ExeMemfd)
	require.Equal(t, path, ev.Exec.ExePath)
}

func TestExecScriptInterpreter(t *testing.T) {
	_, rec := startSource(t, allFamilies())
	script := filepath.Join(t.TempDir(), "run.sh")
	require.NoError(t, os.WriteFile(script, []byte("#!/bin/sh\nexit 0\n"), 0o755))
	cmd := exec.Command(script, "-o", "pool")
	require.NoError(t, cmd.Run())
	pid := uint32(cmd.Process.Pid)
	ev := rec.wait(t, "script exec", func(e *event.Event) bool { return e.Kind == event.KindExec && e.Proc.PID == pid })
	require.Equal(t, script, ev.Exec.Filename)
	require.Equal(t, "/bin/sh", ev.Exec.Interpreter)
	require.Equal(t, "/usr/bin/dash", ev.Exec.ExePath)
	require.Equal(t, [][]byte{[]byte("/bin/sh"), []byte(script), []byte("-o"), []byte("pool")}, ev.Exec.Args)
}

// Start as an unprivileged user fails with one message naming the missing capabilities.
func TestStartUnprivilegedNamesWhatIsMissing(t *testing.T) {
	testutil.RequirePrivileged(t)
	self, err := os.Executable()
	require.NoError(t, err)
	// the test binary's own directory is private to root: run a copy from a world-readable one
	dir, err := os.MkdirTemp("", "cckern")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755))
	bin, err := os.ReadFile(self)
	require.NoError(t, err)
	copyPath := filepath.Join(dir, "kernel.test")
	require.NoError(t, os.WriteFile(copyPath, bin, 0o755))
	cmd := exec.Command(copyPath)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), helperEnv+"=start")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Contains(t, string(out), "missing CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN")
	require.Contains(t, string(out), "run the collector as root")
}

// A failure after some programs are attached leaves nothing attached.
func TestStartFailureDetachesEverything(t *testing.T) {
	testutil.RequirePrivileged(t)
	opts := allFamilies()
	opts.CgroupRoot = t.TempDir() // not a cgroup2 directory: cgroup programs cannot attach
	src, err := New(opts, nil)
	require.NoError(t, err)
	s := src.(*Source)
	err = s.Start()
	require.ErrorContains(t, err, "attaching handle_connect4 to cgroup")
	require.Nil(t, s.coll)
	require.Empty(t, s.links)
	require.NoError(t, s.Close())
	require.NoError(t, s.Close())
}
