package process

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/event"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/workload"
)

func execEvent(pid, ppid uint32, start, parentStart uint64, exe string, args ...string) *event.Event {
	ev := &event.Event{Kind: event.KindExec, BootNS: start, Proc: event.Process{PID: pid, TID: pid, StartBootNS: start, PPID: ppid,
		ParentStartNS: parentStart, Comm: exe, LoginUID: 1000, SessionID: 3}, Exec: &event.Exec{Filename: exe, ExePath: exe}}
	for _, a := range args {
		ev.Exec.Args = append(ev.Exec.Args, []byte(a))
	}
	return ev
}

// The two doors: an exec decides the image and context, later events of the process and of its
// forks find them, a rename and an exit change what the table holds.
func TestTableDoors(t *testing.T) {
	tb := New(Options{ProcfsRoot: t.TempDir()}) // nothing to learn from procfs
	shell := tb.Exec(execEvent(100, 1, 1e9, 1, "/usr/bin/bash", "bash"))
	require.NotNil(t, shell.Proc)
	assert.Equal(t, KindCgroup, shell.Context.Kind, "unknown parent, seen live: its cgroup's context")

	miner := tb.Exec(execEvent(200, 100, 2e9, 1e9, "/usr/bin/nohup", "nohup", "./m"))
	assert.Equal(t, KindDaemonized, miner.Context.Kind)
	assert.Equal(t, shell.Context.ID, miner.Context.ParentID)
	assert.Equal(t, []int64{100, 1}, miner.Ancestors)
	assert.Equal(t, "nohup", tb.Name(200))

	lean := event.Process{PID: 201, StartBootNS: 3e9, PPID: 200, ParentStartNS: 2e9, Comm: "m", Lean: true}
	ev := &event.Event{Kind: event.KindConnect, Proc: lean, Connect: &event.Connect{}}
	fork := tb.Actor(ev, time.Now())
	require.NotNil(t, fork.Proc, "a fork of a known parent is learned from the header")
	assert.Equal(t, miner.Context, fork.Context)
	assert.Equal(t, "/usr/bin/nohup", fork.Proc.Exe, "a fork runs its parent's image")
	assert.Equal(t, uint32(1000), ev.Proc.LoginUID, "a lean header is completed from the image")

	tb.Actor(&event.Event{Kind: event.KindRename, Proc: lean, Rename: &event.Rename{OldComm: "m", NewComm: "kworker"}}, time.Now())
	p, ok := tb.procs.get(Key{PID: 201, Start: 3e9})
	require.True(t, ok)
	assert.Equal(t, "kworker", p.Comm)

	exited := time.Unix(1000, 0)
	tb.Actor(&event.Event{Kind: event.KindExit, Proc: lean, Exit: &event.Exit{}}, exited)
	tb.Sweep(exited.Add(exitGrace / 2))
	assert.Equal(t, 3, tb.Len(), "kept during the grace period")
	tb.Sweep(exited.Add(exitGrace))
	assert.Equal(t, 2, tb.Len())

	none := tb.Actor(&event.Event{Kind: event.KindConnect, Proc: event.Process{PID: 999, StartBootNS: 9e9}, Connect: &event.Connect{}}, time.Now())
	assert.Nil(t, none.Proc, "unknown and not in procfs")
	assert.Equal(t, KindCgroup, none.Context.Kind)
}

// An orphan of a double fork execs with pid 1 as its parent: the creator recorded at fork decides
// its context and lineage, also when the creator exited long before.
func TestTableOrphanKeepsCreatorContext(t *testing.T) {
	for _, late := range []bool{false, true} {
		tb := New(Options{ProcfsRoot: t.TempDir()})
		initProc := tb.Exec(execEvent(1, 0, 1e6, 0, "/sbin/init", "/sbin/init"))
		tb.Exec(execEvent(100, 1, 1e9, 1e6, "/usr/bin/bash", "bash"))
		dropper := tb.Exec(execEvent(200, 100, 2e9, 1e9, "/usr/bin/sh", "sh", "-c", "x"))
		require.NotEqual(t, initProc.Context.ID, dropper.Context.ID)

		// the same exec without a creator: judged against pid 1
		plain := tb.Exec(execEvent(299, 1, 3e9, 1e6, "/tmp/.x/xmrig", "xmrig"))
		assert.NotEqual(t, dropper.Context.ID, plain.Context.ID, "without lineage, the orphan is judged against pid 1")

		if late {
			exited := time.Unix(1000, 0)
			tb.Actor(&event.Event{Kind: event.KindExit, Proc: event.Process{PID: 200, StartBootNS: 2e9}, Exit: &event.Exit{}}, exited)
			tb.Sweep(exited.Add(2 * exitGrace))
			_, ok := tb.procs.get(Key{PID: 200, Start: 2e9})
			require.False(t, ok, "the creator is gone from the live table")
		}
		orphan := execEvent(300, 1, 4e9, 1e6, "/tmp/.x/xmrig", "xmrig")
		orphan.Exec.CreatorPID, orphan.Exec.CreatorStart = 200, 2e9
		got := tb.Exec(orphan)
		want := tb.contexts.decide(dropper.Proc, got.Proc, false)
		assert.Equal(t, want, got.Context, "late=%v: decided against the creator", late)
		assert.Equal(t, dropper.Context, got.Context, "late=%v: runs in its creator's context", late)
		assert.NotEqual(t, plain.Context, got.Context, "late=%v", late)
		assert.Equal(t, int64(200), got.Ancestors[0], "late=%v: the creator is its parent in the lineage", late)
	}
}

// A process in a kubepods cgroup gets the names the node's files give for its pod and container.
func TestTableNamesTheWorkload(t *testing.T) {
	cgRoot := t.TempDir()
	uid := "3f1c2a4e-8b7d-4c2e-9a1f-0d5e6b7c8a91"
	id := strings.Repeat("c1", 32)
	rel := "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + strings.ReplaceAll(uid, "-", "_") + ".slice/cri-containerd-" + id + ".scope"
	require.NoError(t, os.MkdirAll(filepath.Join(cgRoot, rel), 0o755))
	tb := New(Options{ProcfsRoot: t.TempDir(), CgroupRoot: cgRoot,
		Workload: workload.New(workload.Options{PodsDir: "../workload/testdata/pods", StateRoot: "../workload/testdata/host"})})
	ev := execEvent(300, 1, 1e9, 1, "/usr/sbin/nginx", "nginx")
	ev.Proc.CgroupID = statInode(filepath.Join(cgRoot, rel))
	require.NotZero(t, ev.Proc.CgroupID)
	a := tb.Exec(ev)
	assert.Equal(t, rel, a.Cgroup.Path)
	assert.Equal(t, uid, a.Cgroup.PodUID)
	assert.Equal(t, workload.Info{Namespace: "prod", PodName: "web-7d9f8", ContainerName: "nginx", Image: "docker.io/library/nginx:1.27"}, a.Cgroup.Workload)

	// A later event of a process the table never saw exec, in the same cgroup, gets them too.
	other := &event.Event{Kind: event.KindConnect, Proc: event.Process{PID: 301, StartBootNS: 2e9, CgroupID: ev.Proc.CgroupID}, Connect: &event.Connect{}}
	assert.Equal(t, "docker.io/library/nginx:1.27", tb.Actor(other, time.Now()).Cgroup.Workload.Image)

	// The host's processes are not looked up.
	host := tb.Exec(execEvent(400, 1, 3e9, 1, "/bin/true", "true"))
	assert.Equal(t, workload.Info{}, host.Cgroup.Workload)
}
