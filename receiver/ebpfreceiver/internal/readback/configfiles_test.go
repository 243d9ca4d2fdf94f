package readback

import (
	"context"
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

// A suspicious exec's config.json is read through its own root; a plain one is not looked at, and
// an executable is looked at once per interval.
func TestConfigReader(t *testing.T) {
	procfs := t.TempDir()
	writeFile(t, filepath.Join(procfs, "77", "root", "tmp/.x/config.json"), minerConfig)
	writeFile(t, filepath.Join(procfs, "78", "root", "usr/bin/config.json"), minerConfig)
	c := NewConfigReader(4096, time.Minute, procfs)
	now := time.Unix(1000, 0)
	actor := process.Actor{Context: process.Context{ID: "daemonized:1"}}
	c.Offer(execOf(78, "/usr/bin/ls", "ls"), actor, now)                                 // not suspicious
	c.Offer(execOf(77, "/tmp/.x/kworker", "[kworker/0:1]"), actor, now)                  // unusual location, kthread name
	c.Offer(execOf(77, "/tmp/.x/kworker", "[kworker/0:1]"), actor, now.Add(time.Second)) // looked at already
	require.Len(t, c.jobs, 1)

	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	var found []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Run(ctx, func(job *ConfigJob, path string, content []byte) {
			mu.Lock()
			defer mu.Unlock()
			assert.Equal(t, "daemonized:1", job.Actor.Context.ID)
			assert.Equal(t, uint32(77), job.Event.Proc.PID)
			assert.Nil(t, job.Event.Exec, "the exec's argv and env are not kept")
			assert.Contains(t, string(content), "pool.cryptochain-test.invalid")
			found = append(found, path)
		})
	}()
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(found) == 1
	}, 5*time.Second, 10*time.Millisecond)
	cancel()
	<-done
	assert.Equal(t, []string{"/tmp/.x/config.json"}, found)

	c.Offer(execOf(77, "/tmp/.x/kworker", "[kworker/0:1]"), actor, now.Add(2*time.Minute))
	assert.Len(t, c.jobs, 1, "looked at again after the interval")
}
