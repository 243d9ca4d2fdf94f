// Package workload names the Kubernetes pod and the container image behind a pod uid and a container
// id, from what the node keeps on disk: the kubelet's pod log directories and the container runtimes'
// state files. It asks no API server and no runtime socket. It must not know processes, cgroups,
// events or records.
package workload // import "github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/workload"

import (
	"os"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// Info is what is known about the workload of a container; fields that could not be found are "".
type Info struct {
	Namespace     string // k8s.namespace.name
	PodName       string // k8s.pod.name
	ContainerName string // k8s.container.name
	Image         string // container.image.name, as the runtime was asked for it (repository[:tag] or @digest)
}

// Options say where the node's files are and how often a miss may be looked up again.
type Options struct {
	// PodsDir is the kubelet's pod log directory (/var/log/pods on the node, as the collector sees
	// it); "" turns pod lookups off.
	PodsDir string
	// StateRoot is where the host's / is (the runtimes' state lives under <StateRoot>/run and
	// <StateRoot>/var/lib); "" turns container lookups off.
	StateRoot string
	// Refresh is the least time between two re-reads after a miss (the pods directory, the state
	// of one container id, podman's containers.json).
	Refresh time.Duration
	// MaxEntries bounds the pods and the containers held (each).
	MaxEntries int
}

// Resolver answers Lookup from caches that it fills from the node's files. Safe for concurrent use.
type Resolver struct {
	opts Options
	now  func() time.Time

	mu         sync.Mutex
	pods       map[string]pod // pod uid -> pod, as of the last read of PodsDir
	podsReadAt time.Time
	podsMtime  time.Time                     // PodsDir's mtime at that read
	podMisses  *lru.Cache[string, time.Time] // pod uids not found, and when
	containers *lru.Cache[string, containerEntry]
	dirNames   *lru.Cache[string, string] // container id -> its pod's only container directory, "" when not one
	storage    storageIndex               // podman/CRI-O containers.json
}

type containerEntry struct {
	c      container
	found  bool
	readAt time.Time
}

// New makes a resolver; a zero Refresh or MaxEntries gets a default (5s, 4096).
func New(opts Options) *Resolver {
	if opts.Refresh <= 0 {
		opts.Refresh = 5 * time.Second
	}
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = 4096
	}
	cache, err := lru.New[string, containerEntry](opts.MaxEntries)
	if err != nil {
		panic(err) // only for a non-positive size
	}
	dirNames, _ := lru.New[string, string](opts.MaxEntries)
	misses, _ := lru.New[string, time.Time](opts.MaxEntries)
	return &Resolver{opts: opts, now: time.Now, pods: map[string]pod{}, containers: cache, dirNames: dirNames, podMisses: misses}
}

// Lookup returns what the node says about the pod podUID ("" outside Kubernetes) and the container
// containerID (64 hex, "" on the host) that the runtime named by the cgroup layout (may be "") runs.
// A miss costs at most one directory read and a few bounded file reads, and is not looked up again
// for Refresh.
func (r *Resolver) Lookup(podUID, runtime, containerID string) Info {
	if r == nil || (podUID == "" && containerID == "") {
		return Info{}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var info Info
	var c container
	if containerID != "" && r.opts.StateRoot != "" {
		c = r.containerLocked(runtime, containerID)
		info.Image, info.ContainerName = c.image, c.name
	}
	if podUID != "" && r.opts.PodsDir != "" {
		if p, ok := r.podLocked(podUID); ok {
			info.Namespace, info.PodName = p.namespace, p.name
			if info.ContainerName == "" && containerID != "" {
				info.ContainerName = r.onlyContainerDirLocked(p, containerID)
			}
		}
	}
	// The runtime's annotations name the pod too, for a pods directory that is not mounted; only
	// when they are about the same pod.
	if info.PodName == "" && c.podName != "" && (c.podUID == "" || c.podUID == podUID) && podUID != "" {
		info.Namespace, info.PodName = c.podNamespace, c.podName
	}
	return info
}

func (r *Resolver) podLocked(uid string) (pod, bool) {
	if p, ok := r.pods[uid]; ok {
		return p, true
	}
	now := r.now()
	// The pod of a process is made before the process: a uid not found stays not found for a while
	// (the pods directory is not mounted, or the pod is gone) and costs nothing until then.
	if at, ok := r.podMisses.Get(uid); ok && now.Sub(at) < r.opts.Refresh {
		return pod{}, false
	}
	// A pod directory made since the last read changed the directory's mtime: read again at once.
	// Otherwise (nothing new, or a change within the mtime's granularity) once per Refresh.
	mtime := modTime(r.opts.PodsDir)
	if !r.podsReadAt.IsZero() && mtime.Equal(r.podsMtime) && now.Sub(r.podsReadAt) < r.opts.Refresh {
		return pod{}, false
	}
	r.podsReadAt, r.podsMtime = now, mtime
	if fresh, err := readPods(r.opts.PodsDir, r.opts.MaxEntries); err == nil {
		r.pods = fresh
	}
	p, ok := r.pods[uid]
	if !ok {
		r.podMisses.Add(uid, now)
	}
	return p, ok
}

// onlyContainerDirLocked names a container the runtime did not name from its pod's log directory:
// the kubelet makes a container's directory before starting it, so when the container is first
// seen and its pod has one container directory, that one is the container's. The answer is kept
// per container id: later containers of the pod (after an init container) do not change it.
func (r *Resolver) onlyContainerDirLocked(p pod, containerID string) string {
	if name, ok := r.dirNames.Get(containerID); ok {
		return name
	}
	var name string
	if dirs := readContainerDirs(r.opts.PodsDir, p); len(dirs) == 1 {
		name = dirs[0]
	}
	r.dirNames.Add(containerID, name)
	return name
}

// modTime is the mtime of path, zero when it cannot be read.
func modTime(path string) time.Time {
	fi, err := os.Stat(path)
	if err != nil {
		return time.Time{}
	}
	return fi.ModTime()
}

func (r *Resolver) containerLocked(runtime, id string) container {
	now := r.now()
	if e, ok := r.containers.Get(id); ok && (e.found || now.Sub(e.readAt) < r.opts.Refresh) {
		return e.c
	}
	c, found := r.readContainer(runtime, id, now)
	r.containers.Add(id, containerEntry{c: c, found: found, readAt: now})
	return c
}
