package readback

import (
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/event"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/process"
)

const minerConfig = `{"pools": [{"url": "pool.cryptochain-test.invalid:443", "user": "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A", "pass": "x"}], "randomx": {"1gb-pages": true}}`

func execOf(pid uint32, exe string, args ...string) *event.Event {
	ev := &event.Event{Kind: event.KindExec, BootNS: 5, Proc: event.Process{PID: pid, Comm: filepath.Base(exe), EUID: 0},
		Exec: &event.Exec{Filename: exe, ExePath: exe, Cwd: filepath.Dir(exe)}}
	for _, a := range args {
		ev.Exec.Args = append(ev.Exec.Args, []byte(a))
	}
	return ev
}

type found struct {
	pid     uint32
	context string
	path    string
	root    string
}

type configSink struct {
	t   *testing.T
	mu  sync.Mutex
	got []found
}

func (s *configSink) emit(job *ConfigJob, path string, res Result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	assert.Nil(s.t, job.Event.Exec, "the exec's argv and env are not kept")
	assert.Contains(s.t, string(res.Content), "pool.cryptochain-test.invalid")
	assert.NotContains(s.t, string(res.Content), `"x"`, "sanitized")
	s.got = append(s.got, found{job.Event.Proc.PID, job.Actor.Context.ID, path, res.Root})
}

func (s *configSink) all() []found {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]found(nil), s.got...)
}

// A suspicious exec's config.json is read through its own root; a plain one is not looked at; every
// suspicious exec gets its read, also the same executable again right after (a replayed chain is
// graded like the first one).
func TestConfigReaderReadsEveryExec(t *testing.T) {
	procfs := t.TempDir()
	writeFile(t, filepath.Join(procfs, "77", "root", "tmp/.x/config.json"), minerConfig)
	writeFile(t, filepath.Join(procfs, "79", "root", "tmp/.x/config.json"), minerConfig)
	writeFile(t, filepath.Join(procfs, "78", "root", "usr/bin/config.json"), minerConfig)
	sink := &configSink{t: t}
	w := NewWorker()
	c := NewConfigReader(4096, procfs, "/nonexistent", w, sink.emit)
	a1 := process.Actor{Context: process.Context{ID: "daemonized:1"}}
	a2 := process.Actor{Context: process.Context{ID: "daemonized:2"}}
	c.Offer(execOf(78, "/usr/bin/ls", "ls"), a1) // not suspicious
	c.Offer(execOf(77, "/tmp/.x/kworker", "[kworker/0:1]"), a1)
	runWorker(t, w)
	require.Eventually(t, func() bool { return len(sink.all()) == 1 }, 5*time.Second, 10*time.Millisecond)
	c.Offer(execOf(79, "/tmp/.x/kworker", "[kworker/0:1]"), a2) // the same executable, a new chain
	require.Eventually(t, func() bool { return len(sink.all()) == 2 }, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, []found{
		{77, "daemonized:1", "/tmp/.x/config.json", RootWriter},
		{79, "daemonized:2", "/tmp/.x/config.json", RootWriter},
	}, sink.all())
	assert.Zero(t, c.Dropped())
}

// Execs that ask for the same files in the same root before the read runs share one read: each
// context gets it once, a context that already has it is not reported twice.
func TestConfigReaderMergesIdenticalPendingReads(t *testing.T) {
	procfs := t.TempDir()
	root := filepath.Join(procfs, "77", "root")
	writeFile(t, filepath.Join(root, "tmp/.x/config.json"), minerConfig)
	sink := &configSink{t: t}
	w := NewWorker()
	c := NewConfigReader(4096, procfs, "/nonexistent", w, sink.emit)
	for i := range 50 {
		ctx := "ctx:" + string(rune('a'+i%3))
		c.Offer(execOf(77, "/tmp/.x/kworker", "[kworker/0:1]"), process.Actor{Context: process.Context{ID: ctx}})
	}
	assert.Len(t, c.pending, 1, "one pending read")
	runWorker(t, w)
	require.Eventually(t, func() bool { return len(sink.all()) == 3 }, 5*time.Second, 10*time.Millisecond)
	time.Sleep(50 * time.Millisecond)
	assert.Len(t, sink.all(), 3, "one record per context")
}

// A miner gone before its exec was handled is read under the host root when it ran on the host, and
// not at all (counted) in a container.
func TestConfigReaderProcessGone(t *testing.T) {
	host := t.TempDir()
	writeFile(t, filepath.Join(host, "tmp/.x/config.json"), minerConfig)
	sink := &configSink{t: t}
	w := NewWorker()
	c := NewConfigReader(4096, t.TempDir(), host, w, sink.emit)
	c.Offer(execOf(77, "/tmp/.x/kworker", "[kworker/0:1]"), process.Actor{Context: process.Context{ID: "h"}})
	c.Offer(execOf(78, "/tmp/.x/kworker", "[kworker/0:1]"), process.Actor{Cgroup: process.Cgroup{ContainerID: "c0ffee"}})
	runWorker(t, w)
	require.Eventually(t, func() bool { return len(sink.all()) == 1 }, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, found{77, "h", "/tmp/.x/config.json", RootHost}, sink.all()[0])
	assert.Equal(t, uint64(1), c.Dropped())
}

// A full queue never blocks Offer; what it refuses is counted.
func TestConfigReaderQueueFull(t *testing.T) {
	procfs := t.TempDir()
	for _, pid := range []string{"1", "2", "3"} {
		writeFile(t, filepath.Join(procfs, pid, "root", "tmp", pid, "config.json"), minerConfig)
	}
	sink := &configSink{t: t}
	c := NewConfigReader(4096, procfs, "/nonexistent", newWorker(2, time.Second), sink.emit)
	a := process.Actor{Context: process.Context{ID: "a"}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Offer(execOf(1, "/tmp/1/kworker", "[kworker/0:1]"), a)
		c.Offer(execOf(2, "/tmp/2/kworker", "[kworker/0:1]"), a)
		c.Offer(execOf(3, "/tmp/3/kworker", "[kworker/0:1]"), a)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Offer blocked")
	}
	assert.Equal(t, uint64(1), c.Dropped())
	assert.Len(t, c.pending, 2)
}
