package cgroups

import (
	"bufio"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// FindCgroup2Mount returns the mount point of the cgroup2 hierarchy listed in a mounts file
// (<procfs>/mounts), "" when there is none. On hybrid hosts it is /sys/fs/cgroup/unified.
func FindCgroup2Mount(mountsFile string) string {
	f, err := os.Open(mountsFile)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 3 && fields[2] == "cgroup2" {
			return unescapeMount(fields[1])
		}
	}
	return ""
}

// unescapeMount undoes the octal escapes (\040 for space) of /proc/mounts.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if v, ok := octal(s[i+1 : i+4]); ok {
				b.WriteByte(v)
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func octal(s string) (byte, bool) {
	if len(s) != 3 {
		return 0, false
	}
	var v int
	for i := 0; i < 3; i++ {
		if s[i] < '0' || s[i] > '7' {
			return 0, false
		}
		v = v*8 + int(s[i]-'0')
	}
	return byte(v), v < 256
}

// Resolver maps cgroup ids (inode numbers of cgroup2 directories) to paths relative to the
// cgroup2 root ("/libpod_parent/libpod-<id>"). It walks the mount once and again on a miss, at
// most once per MinRewalk, and holds at most MaxEntries ids.
type Resolver struct {
	Root       string
	MinRewalk  time.Duration
	MaxEntries int

	mu       sync.Mutex
	paths    map[uint64]string
	lastWalk time.Time
	walks    int
}

// NewResolver makes a resolver for the cgroup2 mount at root.
func NewResolver(root string) *Resolver {
	return &Resolver{Root: root, MinRewalk: 200 * time.Millisecond, MaxEntries: 65536, paths: map[uint64]string{}}
}

// Path returns the path of cgroup id, walking the hierarchy when the id is unknown.
func (r *Resolver) Path(id uint64) (string, bool) {
	if r == nil || r.Root == "" || id == 0 {
		return "", false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if p, ok := r.paths[id]; ok {
		return p, true
	}
	if !r.lastWalk.IsZero() && time.Since(r.lastWalk) < r.MinRewalk {
		return "", false
	}
	r.walkLocked()
	p, ok := r.paths[id]
	return p, ok
}

// Learn records a path found another way (e.g. /proc/<pid>/cgroup) for an id.
func (r *Resolver) Learn(id uint64, path string) {
	if r == nil || id == 0 || path == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.paths) < r.MaxEntries {
		r.paths[id] = path
	}
}

// Walks says how many times the hierarchy was walked (for tests and telemetry).
func (r *Resolver) Walks() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.walks
}

func (r *Resolver) walkLocked() {
	r.lastWalk = time.Now()
	r.walks++
	fresh := make(map[uint64]string, len(r.paths))
	_ = filepath.WalkDir(r.Root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if !d.IsDir() {
			return nil
		}
		if len(fresh) >= r.MaxEntries {
			return fs.SkipAll
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		ino, ok := inode(info)
		if !ok {
			return nil
		}
		rel := strings.TrimPrefix(p, r.Root)
		if rel == "" {
			rel = "/"
		}
		fresh[ino] = rel
		return nil
	})
	r.paths = fresh
}
