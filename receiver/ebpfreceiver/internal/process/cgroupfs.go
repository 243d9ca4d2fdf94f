package process

import (
	"bufio"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/event"
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

// cgroupResolver maps cgroup ids (inode numbers of cgroup2 directories) to paths relative to the
// cgroup2 root ("/libpod_parent/libpod-<id>"). It walks the mount once and again on a miss, at
// most once per minRewalk, and holds at most maxEntries ids.
type cgroupResolver struct {
	root       string
	minRewalk  time.Duration
	maxEntries int

	mu       sync.Mutex
	paths    map[uint64]string
	lastWalk time.Time
}

// newCgroupResolver makes a resolver for the cgroup2 mount at root.
func newCgroupResolver(root string) *cgroupResolver {
	return &cgroupResolver{root: root, minRewalk: 200 * time.Millisecond, maxEntries: 65536, paths: map[uint64]string{}}
}

// path returns the path of cgroup id, walking the hierarchy when the id is unknown.
func (r *cgroupResolver) path(id uint64) (string, bool) {
	if r == nil || r.root == "" || id == 0 {
		return "", false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if p, ok := r.paths[id]; ok {
		return p, true
	}
	if !r.lastWalk.IsZero() && time.Since(r.lastWalk) < r.minRewalk {
		return "", false
	}
	r.walkLocked()
	p, ok := r.paths[id]
	return p, ok
}

// learn records a path found another way (e.g. /proc/<pid>/cgroup) for an id.
func (r *cgroupResolver) learn(id uint64, path string) {
	if r == nil || id == 0 || path == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.paths) < r.maxEntries {
		r.paths[id] = path
	}
}

func (r *cgroupResolver) walkLocked() {
	r.lastWalk = time.Now()
	fresh := make(map[uint64]string, len(r.paths))
	_ = filepath.WalkDir(r.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if !d.IsDir() {
			return nil
		}
		if len(fresh) >= r.maxEntries {
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
		rel := strings.TrimPrefix(p, r.root)
		if rel == "" {
			rel = "/"
		}
		fresh[ino] = rel
		return nil
	})
	r.paths = fresh
}

// cgroupOf returns the cgroup of the process an event is about.
func (t *Table) cgroupOf(ev *event.Event) Cgroup {
	cg := Cgroup{ID: ev.Proc.CgroupID, Path: t.cgroupPath(ev)}
	id := parseCgroup(cg.Path)
	cg.ContainerID, cg.PodUID, cg.Runtime = id.ContainerID, id.PodUID, id.Runtime
	if t.workload != nil && (cg.ContainerID != "" || cg.PodUID != "") {
		cg.Workload = t.workload.Lookup(cg.PodUID, cg.Runtime, cg.ContainerID)
	}
	return cg
}

func (t *Table) cgroupPath(ev *event.Event) string {
	if ev.Proc.CgroupID != 0 {
		if cg, ok := t.cgroups.path(ev.Proc.CgroupID); ok {
			return cg
		}
	}
	if ev.Proc.PID == 0 {
		return ""
	}
	// A cgroup created a moment ago (a container start) may not be walked yet, or already gone:
	// ask procfs while the process lives, and remember the answer.
	cg := t.procfs.cgroupPath(ev.Proc.PID)
	if cg != "" && ev.Proc.CgroupID != 0 {
		// The pid may have been reused by now: trust the answer only if that cgroup has the id.
		if t.cgroupID(cg) != ev.Proc.CgroupID {
			cg = ""
		} else {
			t.cgroups.learn(ev.Proc.CgroupID, cg)
		}
	}
	if cg == "" && ev.Exec != nil && ev.Exec.CgroupLeafName != "" {
		// Last resort: the kernfs name the kernel saw (libpod-<id>, docker-<id>.scope) still
		// names the container.
		cg = "/" + ev.Exec.CgroupLeafName
	}
	return cg
}

// cgroupID returns the id (inode) of a cgroup v2 path, 0 when it cannot be found.
func (t *Table) cgroupID(cgPath string) uint64 {
	if t.cgroups.root == "" {
		return 0
	}
	return statInode(filepath.Join(t.cgroups.root, cgPath))
}
