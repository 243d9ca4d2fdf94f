// Package process keeps one Proc per live process: identity (pid + start), lineage, execution
// context, cgroup, and procfs where the kernel was silent. It must not know log records or pdata.
package process // import "github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/process"

import (
	"path"
	"time"

	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/workload"
)

// Key identifies a process: host tgid and start time (ns since boot). Pids are reused, so the
// start time is part of the identity.
type Key struct {
	PID   uint32
	Start uint64
}

// Proc is one process image as last seen.
type Proc struct {
	Key
	Parent    Key
	Exe       string
	Comm      string
	Args      []string // bounded argv, for the context rules
	Cgroup    Cgroup
	VPID      uint32 // pid in the process's own pid namespace
	UID, EUID uint32
	LoginUID  uint32
	SessionID uint32
	TTY       string
	SID, PGID uint32
	CI        bool // the environment carries CI markers
	Context   Context

	exitedAt time.Time
	// ancestors is the last answer of store.ancestors for this image, so the records of a busy
	// process do not walk the table again: final once the walk reached pid 0 or the limit,
	// otherwise valid while the store holds no new image (ancestorsGen). The store clears it
	// whenever it stores an image. Never modified once set: it is shared.
	ancestors     []int64
	ancestorsDone bool
	ancestorsGen  uint64
}

// Cgroup is where a process runs: its cgroup v2 id and path and the workload the path names.
type Cgroup struct {
	ID          uint64        // kernfs inode of the cgroup directory
	Path        string        // relative to the cgroup2 mount, e.g. /system.slice/cron.service
	ContainerID string        // full 64-hex container id, "" on the host
	PodUID      string        // k8s pod uid with dashes, "" outside kubepods
	Runtime     string        // container runtime named by the cgroup path (docker, containerd, crio, podman)
	Workload    workload.Info // pod, container and image names the node's files give for the above
}

// Actor is the process an event is about, as the table knows it: the process (nil when unknown),
// its ancestors' pids nearest first, and the context and cgroup it acts in (known even when the
// process is not).
type Actor struct {
	Proc      *Proc
	Ancestors []int64
	Context   Context
	Cgroup    Cgroup
}

// exeName is the base name of the executable the rules compare ("." when the executable is
// unknown, as path.Base gives).
func (p *Proc) exeName() string { return path.Base(p.Exe) }
