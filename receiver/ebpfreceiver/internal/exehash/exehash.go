// Package exehash computes the SHA-256 of a process's executable file, for blocklists and hunting.
// It reads through /proc/<pid>/exe (so memfd and deleted executables are read, and a container's
// file from its own mount namespace), bounds every read, caches digests per file identity
// (device, inode, modification time, size) so a storm of execs of one binary costs one fstat each,
// and spends at most a byte budget per second on files not seen before. It must not know events,
// records or what makes an executable interesting.
package exehash // import "github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/exehash"

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// Reasons a digest is absent (the value of cryptochain.process.executable.hash.skipped).
const (
	SkipTooLarge   = "too_large"    // the file is larger than the read bound
	SkipBudget     = "budget"       // this second's byte budget for new files is spent
	SkipGone       = "process_gone" // the process exited before its executable was opened
	SkipReplaced   = "replaced"     // the process exec'd another file before its executable was opened
	SkipUnreadable = "unreadable"   // open, stat or read failed
	SkipChanged    = "changed"      // the file changed while it was read
)

// Defaults: xmrig and its forks are 5–10 MiB; a 64 MiB bound leaves room for packed or bundled
// builds. The budget lets first sightings cost at most 64 MiB of reading per second (about a
// twentieth of a core with the CPU's SHA extensions, a fifth without).
const (
	DefaultMaxBytes     = 64 << 20
	DefaultBytesPerSec  = 64 << 20
	DefaultCacheEntries = 4096
)

// Key is a file's identity: the same key is the same content unless the file was rewritten within
// the mtime granularity with the same size (the read itself checks for that).
type Key struct {
	Dev, Ino uint64
	MtimeNS  int64
	Size     int64
}

// Hasher hashes executables. It is safe for concurrent use.
type Hasher struct {
	procfsRoot string
	maxBytes   int64
	perSec     int64
	now        func() time.Time

	mu     sync.Mutex
	cache  *lru.Cache[Key, string]
	tokens int64
	last   time.Time

	hits, misses, skipped uint64
}

// New returns a Hasher that reads /proc under procfsRoot ("" is "/proc"), files of at most maxBytes,
// and at most bytesPerSec of not yet cached files per second.
func New(procfsRoot string, maxBytes, bytesPerSec int64) *Hasher {
	if procfsRoot == "" {
		procfsRoot = "/proc"
	}
	c, _ := lru.New[Key, string](DefaultCacheEntries)
	return &Hasher{procfsRoot: procfsRoot, maxBytes: maxBytes, perSec: bytesPerSec, now: time.Now, cache: c, tokens: bytesPerSec}
}

// Stats returns cache hits, files hashed and digests skipped so far.
func (h *Hasher) Stats() (hits, misses, skipped uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.hits, h.misses, h.skipped
}

// Process returns the hex SHA-256 of the executable of pid, or "" and the reason it is absent.
// exe is the executable the caller expects (the exec event's path, "" for any): when the process
// has exec'd a file of another name since (nohup, a shell's exec), nothing is returned, so a
// launcher is never given its payload's hash. Names are compared, not paths, because the path a
// container process's exe link shows depends on who reads it.
func (h *Hasher) Process(pid uint32, exe string) (sum, skip string) {
	link := filepath.Join(h.procfsRoot, strconv.FormatUint(uint64(pid), 10), "exe")
	if exe != "" {
		now, err := os.Readlink(link)
		if err == nil && baseName(now) != baseName(exe) {
			return h.skip(SkipReplaced)
		}
	}
	f, err := os.Open(link)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return h.skip(SkipGone)
		}
		return h.skip(SkipUnreadable)
	}
	defer f.Close()
	return h.File(f)
}

// File returns the hex SHA-256 of an open file, or "" and the reason it is absent.
func (h *Hasher) File(f *os.File) (sum, skip string) {
	key, ok := keyOf(f)
	if !ok {
		return h.skip(SkipUnreadable)
	}
	h.mu.Lock()
	if s, ok := h.cache.Get(key); ok {
		h.hits++
		h.mu.Unlock()
		return s, ""
	}
	if key.Size > h.maxBytes {
		h.skipped++
		h.mu.Unlock()
		return "", SkipTooLarge
	}
	if !h.spend(key.Size) {
		h.skipped++
		h.mu.Unlock()
		return "", SkipBudget
	}
	h.mu.Unlock()

	d := sha256.New()
	n, err := io.Copy(d, io.LimitReader(f, h.maxBytes+1))
	if err != nil {
		return h.skip(SkipUnreadable)
	}
	if after, ok := keyOf(f); !ok || after != key || n != key.Size {
		return h.skip(SkipChanged)
	}
	s := hex.EncodeToString(d.Sum(nil))
	h.mu.Lock()
	h.cache.Add(key, s)
	h.misses++
	h.mu.Unlock()
	return s, ""
}

// baseName is the last element of an exe path without the " (deleted)" the kernel appends.
func baseName(p string) string {
	return filepath.Base(strings.TrimSuffix(p, " (deleted)"))
}

func (h *Hasher) skip(reason string) (string, string) {
	h.mu.Lock()
	h.skipped++
	h.mu.Unlock()
	return "", reason
}

// spend takes n bytes from the budget, refilled at perSec and capped at one second's worth.
// Called with mu held.
func (h *Hasher) spend(n int64) bool {
	now := h.now()
	if !h.last.IsZero() {
		h.tokens += int64(now.Sub(h.last).Seconds() * float64(h.perSec))
		if h.tokens > h.perSec {
			h.tokens = h.perSec
		}
	}
	h.last = now
	if n > h.tokens {
		return false
	}
	h.tokens -= n
	return true
}
