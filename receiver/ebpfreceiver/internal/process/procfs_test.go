package process

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/event"
)

func TestSplitNUL(t *testing.T) {
	args, n, tr := splitNUL([]byte("a\x00bb\x00ccc\x00"), 10, 100)
	assert.Equal(t, [][]byte{[]byte("a"), []byte("bb"), []byte("ccc")}, args)
	assert.Equal(t, 3, n)
	assert.False(t, tr)

	args, n, tr = splitNUL([]byte("a\x00bb\x00ccc"), 2, 100)
	assert.Len(t, args, 2)
	assert.Equal(t, 3, n)
	assert.True(t, tr)

	args, _, tr = splitNUL([]byte("aaaa\x00bbbb"), 10, 6)
	assert.Equal(t, [][]byte{[]byte("aaaa"), []byte("bb")}, args)
	assert.True(t, tr)

	args, n, _ = splitNUL(nil, 10, 10)
	assert.Nil(t, args)
	assert.Equal(t, 0, n)

	huge := []byte(strings.Repeat("x\x00", 100000))
	args, n, tr = splitNUL(huge, 64, 4096)
	assert.Len(t, args, 64)
	assert.Equal(t, 100000, n)
	assert.True(t, tr)
}

func TestTTYName(t *testing.T) {
	assert.Equal(t, "", ttyName(0))
	assert.Equal(t, "pts/3", ttyName(136<<8|3))
	assert.Equal(t, "tty1", ttyName(4<<8|1))
	assert.Equal(t, "ttyS0", ttyName(4<<8|64))
}

func TestFakeProcfs(t *testing.T) {
	root := t.TempDir()
	mk := func(pid, name, content string) {
		dir := filepath.Join(root, pid)
		require.NoError(t, os.MkdirAll(dir, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
	// comm with spaces and a parenthesis.
	mk("42", "stat", "42 (evil ) name) S 1 42 42 34816 42 4194560 0 0 0 0 0 0 0 0 20 0 1 0 12345 0 0 0\n")
	mk("42", "status", "Name:\tx\nUid:\t1000\t0\t0\t0\nNSpid:\t42\t7\n")
	mk("42", "cmdline", "./xmrig\x00-c\x00\xff\xfe\x00")
	mk("42", "environ", "HOME=/root\x00AWS_SECRET_ACCESS_KEY=abc\x00")
	mk("42", "cgroup", "12:memory:/x\n0::/libpod_parent/libpod-abc\n")
	mk("42", "loginuid", "1000")
	mk("42", "sessionid", "5")
	require.NoError(t, os.Symlink("/tmp/.x/xmrig (deleted)", filepath.Join(root, "42", "exe")))
	mk("1", "stat", "1 (systemd) S 0 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 3 0 0 0\n")
	mk("2", "stat", "2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 3 0 0 0\n")
	mk("notapid", "stat", "garbage")
	mk("43", "stat", "garbage")

	r := &procfsReader{root: root, clockTicks: 100, limits: Limits{MaxArgs: 8, MaxArgBytes: 256, MaxEnv: 8, MaxEnvBytes: 256},
		cgroupID: func(p string) uint64 { return uint64(len(p)) }}
	evs, err := r.snapshot(map[uint32]bool{}, 0)
	require.NoError(t, err)
	require.Len(t, evs, 2, "kernel thread and garbage skipped")
	assert.Equal(t, uint32(1), evs[0].Proc.PID, "oldest first")
	ev := evs[1]
	assert.Equal(t, "evil ) name", ev.Proc.Comm)
	assert.Equal(t, uint32(1), ev.Proc.PPID)
	assert.Equal(t, uint64(123450000000), ev.Proc.StartBootNS)
	assert.Equal(t, uint64(30000000), ev.Proc.ParentStartNS)
	assert.Equal(t, uint32(1000), ev.Proc.UID)
	assert.Equal(t, uint32(0), ev.Proc.EUID)
	assert.Equal(t, uint32(7), ev.Proc.VPID)
	assert.Equal(t, uint32(1000), ev.Proc.LoginUID)
	assert.Equal(t, uint32(5), ev.Proc.SessionID)
	assert.Equal(t, "/tmp/.x/xmrig", ev.Exec.ExePath)
	assert.True(t, ev.Exec.ExeDeleted)
	assert.True(t, ev.Exec.FromSnapshot)
	assert.Equal(t, "pts/0", ev.Exec.TTY)
	assert.Equal(t, 3, ev.Exec.Argc)
	assert.Equal(t, []byte("\xff\xfe"), ev.Exec.Args[2])
	assert.Len(t, ev.Exec.Env, 2)
	assert.Equal(t, "libpod-abc", ev.Exec.CgroupLeafName)
	assert.Equal(t, uint64(len("/libpod_parent/libpod-abc")), ev.Proc.CgroupID)

	evs, err = r.snapshot(map[uint32]bool{42: true}, 0)
	require.NoError(t, err)
	assert.Len(t, evs, 1, "excluded pid")
	_, err = (&procfsReader{root: filepath.Join(root, "missing")}).snapshot(nil, 0)
	assert.ErrorContains(t, err, "procfs_root")
}

func TestRealProcfs(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	r := &procfsReader{root: "/proc", clockTicks: 100, limits: Limits{MaxArgs: 8, MaxArgBytes: 256, MaxEnv: 8, MaxEnvBytes: 256}}
	ev, err := r.process(uint32(cmd.Process.Pid))
	require.NoError(t, err)
	assert.Equal(t, "sleep", ev.Proc.Comm)
	assert.Equal(t, uint32(os.Getpid()), ev.Proc.PPID)
	assert.Equal(t, [][]byte{[]byte("sleep"), []byte("30")}, ev.Exec.Args)
	assert.True(t, strings.HasSuffix(ev.Exec.ExePath, "/sleep"))
	assert.NotZero(t, ev.Proc.StartBootNS)
	assert.NotZero(t, ev.Proc.ParentStartNS)
}

func TestParentsFirst(t *testing.T) {
	ev := func(pid, ppid uint32, start uint64) *event.Event {
		return &event.Event{Proc: event.Process{PID: pid, PPID: ppid, StartBootNS: start}}
	}
	// 20 and 21 tie on the tick; 21 is 20's parent. 1 is its own parent's parent (a cycle) on purpose.
	in := []*event.Event{ev(1, 0, 0), ev(20, 21, 5), ev(21, 1, 5), ev(30, 20, 6), ev(40, 41, 7), ev(41, 40, 7)}
	var got []uint32
	for _, e := range parentsFirst(in) {
		got = append(got, e.Proc.PID)
	}
	assert.Equal(t, []uint32{1, 21, 20, 30, 41, 40}, got)
}
