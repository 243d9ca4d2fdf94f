//go:build linux

package exehash

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func sumOf(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestFileCachedPerIdentity(t *testing.T) {
	p := filepath.Join(t.TempDir(), "bin")
	require.NoError(t, os.WriteFile(p, []byte("first content"), 0o755))
	h := New("", DefaultMaxBytes, DefaultBytesPerSec)
	open := func() *os.File {
		f, err := os.Open(p)
		require.NoError(t, err)
		t.Cleanup(func() { f.Close() })
		return f
	}

	s, skip := h.File(open())
	assert.Empty(t, skip)
	assert.Equal(t, sumOf(t, p), s)
	s2, _ := h.File(open())
	assert.Equal(t, s, s2)
	hits, misses, _ := h.Stats()
	assert.Equal(t, [2]uint64{1, 1}, [2]uint64{hits, misses})

	// Rewritten (other size and mtime): a new identity, hashed again.
	require.NoError(t, os.WriteFile(p, []byte("second, longer content"), 0o755))
	require.NoError(t, os.Chtimes(p, time.Now(), time.Now().Add(time.Second)))
	s3, _ := h.File(open())
	assert.Equal(t, sumOf(t, p), s3)
	assert.NotEqual(t, s, s3)
}

func TestBoundsAndBudget(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big")
	require.NoError(t, os.WriteFile(big, make([]byte, 2048), 0o755))
	h := New("", 1024, 1<<20)
	f, err := os.Open(big)
	require.NoError(t, err)
	defer f.Close()
	s, skip := h.File(f)
	assert.Empty(t, s)
	assert.Equal(t, SkipTooLarge, skip)

	// A budget of 3 KiB/s: the first 2 KiB file is hashed, a second new one within the second is not,
	// the first again is a cache hit, and a second later the budget is back.
	now := time.Unix(1000, 0)
	h = New("", 1<<20, 3072)
	h.now = func() time.Time { return now }
	var files []*os.File
	for i, c := range []byte{'a', 'b'} {
		p := filepath.Join(dir, string(rune('0'+i)))
		require.NoError(t, os.WriteFile(p, []byte{c, c, c}[:1], 0o755))
		require.NoError(t, os.Truncate(p, 2048))
		f, err := os.Open(p)
		require.NoError(t, err)
		defer f.Close()
		files = append(files, f)
	}
	_, skip = h.File(files[0])
	assert.Empty(t, skip)
	_, skip = h.File(files[1])
	assert.Equal(t, SkipBudget, skip)
	_, _ = files[0].Seek(0, io.SeekStart)
	_, skip = h.File(files[0])
	assert.Empty(t, skip, "cached")
	now = now.Add(time.Second)
	_, skip = h.File(files[1])
	assert.Empty(t, skip)
}

// startFrom runs "sleep 30" from an executable handed over as fd 3 (a memfd) or a path.
func startSleep(t *testing.T, path string, fd *os.File) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(path, "30")
	if fd != nil {
		cmd.ExtraFiles = []*os.File{fd}
	}
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd
}

func sleepBinary(t *testing.T) string {
	p, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep binary")
	}
	p, err = filepath.EvalSymlinks(p)
	require.NoError(t, err)
	return p
}

func TestProcessDeletedAndMemfdExecutables(t *testing.T) {
	orig := sleepBinary(t)
	want := sumOf(t, orig)
	content, err := os.ReadFile(orig)
	require.NoError(t, err)
	h := New("", DefaultMaxBytes, DefaultBytesPerSec)

	// A dropped binary deleted after its start: read through /proc/<pid>/exe.
	p := filepath.Join(t.TempDir(), "kworker")
	require.NoError(t, os.WriteFile(p, content, 0o755))
	cmd := startSleep(t, p, nil)
	time.Sleep(50 * time.Millisecond)
	require.NoError(t, os.Remove(p))
	s, skip := h.Process(uint32(cmd.Process.Pid), p)
	assert.Empty(t, skip)
	assert.Equal(t, want, s)
	_, skip = h.Process(uint32(cmd.Process.Pid), "/usr/bin/nohup")
	assert.Equal(t, SkipReplaced, skip, "a launcher never gets its payload's hash")

	// A fileless (memfd) executable.
	mfd, err := unix.MemfdCreate("x", 0)
	require.NoError(t, err)
	m := os.NewFile(uintptr(mfd), "memfd")
	defer m.Close()
	_, err = m.Write(content)
	require.NoError(t, err)
	cmd = startSleep(t, "/proc/self/fd/3", m)
	time.Sleep(50 * time.Millisecond)
	link, _ := os.Readlink(filepath.Join("/proc", itoa(cmd.Process.Pid), "exe"))
	require.Contains(t, link, "memfd:", "the child runs the memfd")
	h = New("", DefaultMaxBytes, DefaultBytesPerSec)
	s, skip = h.Process(uint32(cmd.Process.Pid), "")
	assert.Empty(t, skip)
	assert.Equal(t, want, s)

	// An exited process.
	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()
	s, skip = h.Process(uint32(cmd.Process.Pid), "")
	assert.Empty(t, s)
	assert.Equal(t, SkipGone, skip)
}

func itoa(i int) string { return strconv.Itoa(i) }

// BenchmarkCachedExec is the cost per exec of a binary already hashed: open /proc/<pid>/exe, fstat, cache.
func BenchmarkCachedExec(b *testing.B) {
	h := New("", DefaultMaxBytes, DefaultBytesPerSec)
	pid := uint32(os.Getpid())
	if _, skip := h.Process(pid, ""); skip != "" {
		b.Fatal(skip)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h.Process(pid, "")
	}
}

// BenchmarkFirstSighting is the cost of hashing an 8 MiB executable not seen before (xmrig's size).
func BenchmarkFirstSighting(b *testing.B) {
	p := filepath.Join(b.TempDir(), "x")
	require.NoError(b, os.WriteFile(p, make([]byte, 8<<20), 0o755))
	f, err := os.Open(p)
	require.NoError(b, err)
	defer f.Close()
	b.SetBytes(8 << 20)
	for i := 0; i < b.N; i++ {
		h := New("", DefaultMaxBytes, 1<<40)
		_, _ = f.Seek(0, io.SeekStart)
		if _, skip := h.File(f); skip != "" {
			b.Fatal(skip)
		}
	}
}
