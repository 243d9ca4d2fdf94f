package readback

import (
	"os"
	"path/filepath"
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

// A held write is read back through the writer's root once due, and under the host root when
// the writer is gone; the event is copied, so the source may reuse its own.
func TestPersistenceReadBack(t *testing.T) {
	procfs, host := t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(procfs, "42", "root", "etc/cron.d/miner"), "* * * * * root /tmp/x\n")
	writeFile(t, filepath.Join(host, "etc/cron.d/gone"), "@reboot /tmp/y\n")
	p := NewPersistence(procfs, host, 8)
	at := time.Unix(1000, 0)
	ev := &event.Event{Kind: event.KindFile, Proc: event.Process{PID: 42, Comm: "sh"},
		File: &event.File{Op: event.FileCreate, Path: "/etc/cron.d/miner"}}
	actor := process.Actor{Context: process.Context{ID: "cron:1"}}
	require.True(t, p.Hold(ev, &actor, at))
	require.True(t, p.Hold(&event.Event{Kind: event.KindFile, Proc: event.Process{PID: 43},
		File: &event.File{Op: event.FileCreate, Path: "/etc/cron.d/gone"}}, &actor, at))
	ev.File.Path = "/changed" // the source reuses its event

	got := map[string]string{}
	emit := func(w *Write, content []byte) { got[w.Event.File.Path] = string(content) }
	p.Due(at.Add(Delay/2), false, emit)
	assert.Empty(t, got, "not due yet")
	p.Due(at.Add(Delay), false, emit)
	assert.Equal(t, map[string]string{"/etc/cron.d/miner": "* * * * ", "/etc/cron.d/gone": "@reboot "}, got, "bounded to max bytes")
	got = map[string]string{}
	p.Due(at.Add(time.Hour), true, emit)
	assert.Empty(t, got, "each write is emitted once")
}

func TestPersistenceHoldsOnlyWhatNeedsReading(t *testing.T) {
	f := func() *event.Event {
		return &event.Event{Kind: event.KindFile, Proc: event.Process{PID: 1}, File: &event.File{Op: event.FileCreate, Path: "/etc/cron.d/x"}}
	}
	assert.False(t, NewPersistence("/proc", "/", 0).Hold(f(), &process.Actor{}, time.Now()), "read-back off")
	withContent := f()
	withContent.File.Content = []byte("copied by the kernel")
	p := NewPersistence("/proc", "/", 64)
	assert.False(t, p.Hold(withContent, &process.Actor{}, time.Now()))
	assert.False(t, p.Hold(&event.Event{Kind: event.KindExit, Exit: &event.Exit{}}, &process.Actor{}, time.Now()))
	for range maxPending {
		require.True(t, p.Hold(f(), &process.Actor{}, time.Now()))
	}
	assert.False(t, p.Hold(f(), &process.Actor{}, time.Now()), "bounded: more are mapped without content")
}
