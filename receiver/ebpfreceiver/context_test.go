package ebpfreceiver

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/event"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/records"
)

// A child that forked but never exec'd (its exec of /sbin/modprobe failed, it opened a file, it
// connected) inherits its parent's context, even when procfs no longer has it.
func TestForkedChildInheritsParentContext(t *testing.T) {
	cfg := testConfig(t)
	cfg.ProcfsRoot = t.TempDir() // the child is gone from procfs by the time its events are read
	_, src, sink, _ := startFake(t, cfg, nil)

	shell := execEv(22100, 900, 1e9, 5e8, "bash", "/bin/bash", "bash")
	daemon := execEv(22197, 22100, 2e9+123, 1e9, "nohup", "/usr/bin/nohup", "nohup", "./loader")
	loader := execEv(22197, 22100, 2e9+123, 1e9, "loader", "/tmp/loader", "./loader")
	src.push(shell, daemon, loader)
	child := event.Process{PID: 23118, TID: 23118, StartBootNS: 3e9 + 7, PPID: 22197, ParentStartNS: 2e9 + 123, Comm: "loader",
		LoginUID: 4294967295, SessionID: 4294967295}
	src.push(
		&event.Event{Kind: event.KindExecFailed, BootNS: 3e9 + 10, Proc: child, ExecFailed: &event.ExecFailed{Filename: "/sbin/modprobe", Errno: 2}},
		&event.Event{Kind: event.KindFile, BootNS: 3e9 + 20, Proc: child, File: &event.File{Op: event.FileOpen, Path: "/dev/cpu/0/msr", WriteIntent: true, Errno: 2}},
		&event.Event{Kind: event.KindConnect, BootNS: 3e9 + 30, Proc: child, Connect: &event.Connect{Family: 2, Transport: 6, Addr: [16]byte{127, 0, 0, 1}, Port: 3333, Errno: 111}},
	)
	require.Eventually(t, func() bool {
		_, ok := find(collected(sink), "cryptochain.network.connect", 23118)
		return ok
	}, 5*time.Second, 10*time.Millisecond)
	recs := collected(sink)
	pr, ok := find(recs, "cryptochain.process.exec", 22197)
	require.True(t, ok)
	want := str(pr.res, "cryptochain.context.id")
	require.True(t, strings.HasPrefix(want, "daemonized:"), want)
	for _, name := range []string{"cryptochain.process.exec_failed", "cryptochain.file.open", "cryptochain.network.connect"} {
		r, ok := findAny(recs, name, 23118)
		require.True(t, ok, name)
		assert.Equal(t, want, str(r.res, "cryptochain.context.id"), name)
		assert.Equal(t, "/tmp/loader", str(r.lr.Attributes(), "process.executable.path"), "%s: a fork runs its parent's image", name)
	}
}

// findAny finds a record of pid whose event name is name or a sibling of it (cryptochain.file.open
// may be reported as cryptochain.file.write).
func findAny(recs []flat, name string, pid int64) (flat, bool) {
	if r, ok := find(recs, name, pid); ok {
		return r, true
	}
	for _, r := range recs {
		if v, ok := r.lr.Attributes().Get("process.pid"); ok && v.Int() == pid && strings.HasPrefix(r.lr.EventName(), name[:strings.LastIndex(name, ".")+1]) {
			return r, true
		}
	}
	return flat{}, false
}

// fakeProc writes the procfs files the snapshot reads for one process.
func fakeProc(t *testing.T, root string, pid, ppid, sid, startTicks int, comm, exe string, args ...string) {
	t.Helper()
	dir := filepath.Join(root, strconv.Itoa(pid))
	require.NoError(t, os.MkdirAll(dir, 0o755))
	// Fields 3..22: state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime
	// stime cutime cstime priority nice num_threads itrealvalue starttime.
	stat := fmt.Sprintf("%d (%s) S %d %d %d 0 -1 4194304 0 0 0 0 0 0 0 0 20 0 1 0 %d 0 0\n", pid, comm, ppid, sid, sid, startTicks)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "stat"), []byte(stat), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "status"), []byte("Uid:\t0\t0\t0\t0\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "cmdline"), []byte(strings.Join(args, "\x00")+"\x00"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "cgroup"), []byte("0::/user.slice/session-3.scope\n"), 0o644))
	require.NoError(t, os.Symlink(exe, filepath.Join(dir, "exe")))
}

// Two independent snapshots of the same procfs give every process the same context id, and a
// daemonized process's context is keyed by its own identity, not by the order of discovery.
func TestSnapshotContextIDsAreStable(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "sys/kernel/random"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "sys/kernel/random/boot_id"), []byte("3f1c0f9e-1b7a-4f7e-9d55-0b0f3e2a7c11\n"), 0o644))
	fakeProc(t, root, 1, 0, 1, 1, "systemd", "/usr/lib/systemd/systemd", "/sbin/init")
	fakeProc(t, root, 400, 1, 400, 200, "sshd", "/usr/sbin/sshd", "sshd")
	fakeProc(t, root, 900, 400, 900, 5000, "bash", "/usr/bin/bash", "-bash")
	fakeProc(t, root, 950, 900, 950, 6000, "xmrig", "/tmp/xmrig", "/tmp/xmrig", "-o", "pool:3333") // setsid'd
	fakeProc(t, root, 951, 950, 950, 6001, "xmrig", "/tmp/xmrig", "/tmp/xmrig")

	ids := func() map[uint32]string {
		cfg := testConfig(t)
		cfg.ProcfsRoot = root
		p := newPipeline(cfg, records.Host{}, "test", "")
		evs, err := p.snapshot(nil, 0)
		require.NoError(t, err)
		require.Len(t, evs, 5)
		out := map[uint32]string{}
		for _, ev := range evs {
			p.handle(ev, time.Now())
			actor := p.procs.Exec(ev) // re-deciding the same image must not change anything either
			out[ev.Proc.PID] = actor.Context.ID
		}
		return out
	}
	a, b := ids(), ids()
	assert.Equal(t, a, b)
	assert.True(t, strings.HasPrefix(a[400], "systemd:"), a[400])
	assert.True(t, strings.HasPrefix(a[950], "daemonized:"), a[950])
	assert.Equal(t, a[950], a[951], "the child inherits")
	assert.NotEqual(t, a[900], a[950])

	// Another boot (another boot id) gives other ids for the same pids.
	require.NoError(t, os.WriteFile(filepath.Join(root, "sys/kernel/random/boot_id"), []byte("0000\n"), 0o644))
	c := ids()
	assert.NotEqual(t, a[950], c[950])
}

// A lean kernel header (exit, connect, file, ...) leaves credentials and the namespaced pid out:
// the record gets them from the process's exec, and a fork learned from one keeps its parent's.
func TestLeanHeaderCompletedFromProcessTable(t *testing.T) {
	cfg := testConfig(t)
	cfg.ProcfsRoot = t.TempDir()
	_, src, sink, _ := startFake(t, cfg, nil)

	miner := execEv(31000, 1, 5e9, 1, "xmr", "/tmp/xmr", "/tmp/xmr")
	miner.Proc.VPID, miner.Proc.UID, miner.Proc.EUID = 7, 1000, 1000
	src.push(miner)
	lean := event.Process{PID: 31000, TID: 31000, StartBootNS: 5e9, PPID: 1, ParentStartNS: 1, Comm: "xmr", Lean: true,
		LoginUID: 4294967295, SessionID: 4294967295}
	fork := event.Process{PID: 31001, TID: 31001, StartBootNS: 6e9, PPID: 31000, ParentStartNS: 5e9, Comm: "xmr", Lean: true,
		LoginUID: 4294967295, SessionID: 4294967295}
	src.push(
		&event.Event{Kind: event.KindConnect, BootNS: 5e9 + 30, Proc: lean, Connect: &event.Connect{Family: 2, Transport: 6, Addr: [16]byte{127, 0, 0, 1}, Port: 3333}},
		&event.Event{Kind: event.KindConnect, BootNS: 6e9 + 30, Proc: fork, Connect: &event.Connect{Family: 2, Transport: 6, Addr: [16]byte{127, 0, 0, 1}, Port: 3334}},
		&event.Event{Kind: event.KindExit, BootNS: 6e9 + 50, Proc: fork, Exit: &event.Exit{}},
	)
	require.Eventually(t, func() bool {
		_, ok := find(collected(sink), "cryptochain.process.exit", 31001)
		return ok
	}, 5*time.Second, 10*time.Millisecond)
	recs := collected(sink)
	c, ok := find(recs, "cryptochain.network.connect", 31000)
	require.True(t, ok)
	vpid, ok := c.lr.Attributes().Get("process.vpid")
	require.True(t, ok, "the namespaced pid comes from the exec")
	assert.Equal(t, int64(7), vpid.Int())
	f, ok := find(recs, "cryptochain.network.connect", 31001)
	require.True(t, ok)
	_, ok = f.lr.Attributes().Get("process.vpid")
	assert.False(t, ok, "a fork seen only through lean headers has no known namespaced pid")
	assert.Equal(t, "/tmp/xmr", str(f.lr.Attributes(), "process.executable.path"), "the fork runs its parent's image")
}
