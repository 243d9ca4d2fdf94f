package readback

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/event"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/process"
)

func TestIsPersistenceWrite(t *testing.T) {
	for _, tt := range []struct {
		name string
		f    event.File
		want bool
	}{
		{"cron.d create", event.File{Op: event.FileCreate, Path: "/etc/cron.d/x"}, true},
		{"user crontab via rename", event.File{Op: event.FileRename, Path: "/var/spool/cron/crontabs/root"}, true},
		{"systemd unit open for write", event.File{Op: event.FileOpen, Path: "/etc/systemd/system/m.service", WriteIntent: true}, true},
		{"user unit", event.File{Op: event.FileOpen, Path: "/home/u/.config/systemd/user/m.service", WriteIntent: true}, true},
		{"preload", event.File{Op: event.FileOpen, Path: "/etc/ld.so.preload", WriteIntent: true}, true},
		{"read-only open", event.File{Op: event.FileOpen, Path: "/etc/cron.d/x"}, false},
		{"failed write", event.File{Op: event.FileCreate, Path: "/etc/cron.d/x", Errno: 13}, false},
		{"unlink", event.File{Op: event.FileUnlink, Path: "/etc/cron.d/x"}, false},
		{"chmod", event.File{Op: event.FileChmod, Path: "/etc/cron.d/x"}, false},
		{"tuning file", event.File{Op: event.FileOpen, Path: "/proc/sys/vm/nr_hugepages", WriteIntent: true}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, isPersistenceWrite(&tt.f))
		})
	}
}

func writeFile(t *testing.T, name, content string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(name), 0o755))
	require.NoError(t, os.WriteFile(name, []byte(content), 0o644))
}

// collected gathers what a Persistence emits, by path.
type collected struct {
	mu  sync.Mutex
	got map[string]Result
}

func (c *collected) emit(w *Write, res Result) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.got == nil {
		c.got = map[string]Result{}
	}
	c.got[w.Event.File.Path] = res
}

func (c *collected) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.got)
}

func (c *collected) of(p string) Result {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.got[p]
}

func cronWrite(pid uint32, path string) *event.Event {
	return &event.Event{Kind: event.KindFile, Proc: event.Process{PID: pid, Comm: "sh"},
		File: &event.File{Op: event.FileCreate, Path: path}}
}

// runWorker runs w until the test ends.
func runWorker(t *testing.T, w *Worker) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

// A held write is read back through the writer's root after Delay, bounded to max bytes, and says
// where it was read from; a writer on the host that is already gone is read under the host root; a
// container writer that is gone is reported without content; the event is copied, so the source may
// reuse its own.
func TestPersistenceReadBack(t *testing.T) {
	procfs, host := t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(procfs, "42", "root", "etc/cron.d/miner"), "* * * * * root /tmp/x\n")
	writeFile(t, filepath.Join(host, "etc/cron.d/gone"), "@reboot /tmp/y\n")
	writeFile(t, filepath.Join(host, "etc/cron.d/container"), "host file, not the container's\n")
	var c collected
	w := newWorker(QueueSize, time.Second)
	p := NewPersistence(procfs, host, 8, w, c.emit)
	at := time.Now()
	onHost := process.Actor{Context: process.Context{ID: "cron:1"}}
	inContainer := process.Actor{Cgroup: process.Cgroup{ContainerID: "c0ffee"}}
	ev := cronWrite(42, "/etc/cron.d/miner")
	held, _ := p.Hold(ev, &onHost, at)
	require.True(t, held)
	held, _ = p.Hold(cronWrite(43, "/etc/cron.d/gone"), &onHost, at)
	require.True(t, held)
	held, _ = p.Hold(cronWrite(44, "/etc/cron.d/container"), &inContainer, at)
	require.True(t, held)
	ev.File.Path = "/changed" // the source reuses its event

	runWorker(t, w)
	time.Sleep(Delay / 2)
	assert.Zero(t, c.len(), "not due yet")
	require.Eventually(t, func() bool { return c.len() == 3 }, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, Result{Content: []byte("* * * * "), Status: StatusOK, Root: RootWriter}, c.of("/etc/cron.d/miner"), "bounded to max bytes")
	assert.Equal(t, Result{Content: []byte("@reboot "), Status: StatusOK, Root: RootHost}, c.of("/etc/cron.d/gone"))
	assert.Equal(t, Result{Status: StatusGone}, c.of("/etc/cron.d/container"), "never the host's file for a container")
}

func TestPersistenceHoldsOnlyWhatNeedsReading(t *testing.T) {
	var c collected
	f := func() *event.Event { return cronWrite(uint32(os.Getpid()), "/etc/cron.d/x") }
	held, status := NewPersistence("/proc", "/", 0, NewWorker(), c.emit).Hold(f(), &process.Actor{}, time.Now())
	assert.False(t, held, "read-back off")
	assert.Empty(t, status)
	withContent := f()
	withContent.File.Content = []byte("copied by the kernel")
	p := NewPersistence("/proc", "/", 64, newWorker(4, time.Second), c.emit)
	held, _ = p.Hold(withContent, &process.Actor{}, time.Now())
	assert.False(t, held)
	held, _ = p.Hold(&event.Event{Kind: event.KindExit, Exit: &event.Exit{}}, &process.Actor{}, time.Now())
	assert.False(t, held)
	for range 4 {
		held, _ = p.Hold(f(), &process.Actor{}, time.Now())
		require.True(t, held)
	}
	held, status = p.Hold(f(), &process.Actor{}, time.Now())
	assert.False(t, held, "bounded: more are mapped at once, without content")
	assert.Equal(t, StatusDropped, status)
	assert.Equal(t, uint64(1), p.Dropped())
}

// An unprivileged user who floods writes to a persistence location it may write cannot push root's
// writes out of the queue: each unprivileged user has a share of it.
func TestPersistenceQueueShareOfOneUser(t *testing.T) {
	var c collected
	p := NewPersistence("/proc", "/", 64, newWorker(16, time.Second), c.emit)
	user := &process.Actor{Proc: &process.Proc{EUID: 1000}}
	lean := func() *event.Event {
		ev := cronWrite(uint32(os.Getpid()), "/etc/cron.d/x")
		ev.Proc.Lean = true
		return ev
	}
	took := 0
	for range 100 {
		if held, _ := p.Hold(lean(), user, time.Now()); held {
			took++
		}
	}
	assert.Equal(t, 2, took, "a user's share is an eighth of the queue")
	for range 14 {
		held, _ := p.Hold(cronWrite(uint32(os.Getpid()), "/etc/cron.d/root"), &process.Actor{}, time.Now())
		require.True(t, held, "root's writes still find room")
	}
}

// Offer never blocks, and what was queued is still read at shutdown, without waiting for Delay.
func TestPersistenceShutdownReadsWhatWasQueued(t *testing.T) {
	procfs := t.TempDir()
	writeFile(t, filepath.Join(procfs, "42", "root", "etc/cron.d/a"), "a")
	var c collected
	w := NewWorker()
	p := NewPersistence(procfs, "/nonexistent", 64, w, c.emit)
	held, _ := p.Hold(cronWrite(42, "/etc/cron.d/a"), &process.Actor{}, time.Now().Add(time.Hour))
	require.True(t, held)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	w.Run(ctx)
	assert.Less(t, time.Since(start), time.Second)
	assert.Equal(t, Result{Content: []byte("a"), Status: StatusOK, Root: RootWriter}, c.of("/etc/cron.d/a"))
}
