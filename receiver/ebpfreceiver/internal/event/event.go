// Package event holds the host events the kernel source produces and the receiver maps to log records.
// It must not know eBPF, the record layouts or pdata: plain Go, built and tested anywhere.
package event // import "github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/event"

import (
	"context"
	"time"
)

// Kind says which hook produced an event.
type Kind uint16

// Event kinds. The numbers are enum record_kind of bpf/include/records.h; internal/kernel fails to
// compile when they differ.
const (
	KindUnknown    Kind = 0
	KindExec       Kind = 1  // successful exec (sched_process_exec)
	KindExecFailed Kind = 2  // exec attempt that returned an error
	KindExit       Kind = 3  // thread-group exit
	KindRename     Kind = 4  // comm changed after start
	KindConnect    Kind = 5  // connect attempt
	KindDNS        Kind = 6  // a DNS packet (query or answer), raw
	KindFile       Kind = 7  // write intent on a watched path, or an open of an always-watched path
	KindSysctl     Kind = 8  // write to /proc/sys
	KindKill       Kind = 9  // a signal sent to another process (clearing the field)
	KindFPU        Kind = 10 // non-default MXCSR rounding observed (RandomX behaviour)
	KindPayload    Kind = 11 // first bytes sent on a new TCP connection (stratum on the wire)
	KindSuppressed Kind = 12 // a count of repeated records of one process held back by the rate limiter
	KindCount      Kind = 13 // number of kinds, for per-kind counters
)

var kindNames = [...]string{"unknown", "exec", "exec_failed", "exit", "rename", "connect", "dns", "file",
	"sysctl", "kill", "fpu", "payload", "suppressed"}

// LifecycleKinds is the set of kinds (bit 1<<Kind) the kernel sends through the lifecycle ring,
// which no flood of another kind can fill (RING_LIFECYCLE_KINDS in bpf/include/records.h;
// internal/kernel fails to compile when they differ).
const LifecycleKinds = 1<<KindExec | 1<<KindExit

// Lifecycle says whether k goes through the lifecycle ring.
func (k Kind) Lifecycle() bool {
	return k < 32 && LifecycleKinds>>k&1 != 0
}

// String returns the lower-case name used in telemetry attributes.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Process identifies the acting task. Times are nanoseconds since boot (CLOCK_BOOTTIME), as the kernel
// keeps them in task->start_boottime; the receiver converts them to wall clock.
type Process struct {
	PID           uint32 // tgid in the host pid namespace
	TID           uint32
	StartBootNS   uint64 // task group leader start_boottime
	PPID          uint32 // real_parent tgid
	ParentStartNS uint64
	VPID          uint32 // pid inside the task's own pid namespace
	Comm          string
	CgroupID      uint64 // cgroup v2 id (kernfs inode) of the task
	UID, EUID     uint32
	LoginUID      uint32 // 4294967295 when unset
	SessionID     uint32 // audit session id
	// Lean: the kernel sent identity, parent, cgroup and comm only (records about a process already
	// known from its exec or the snapshot); VPID, UID, EUID, LoginUID and SessionID are unknown
	// here and are taken from the process table.
	Lean bool
}

// Event is one observation. Exactly one of the kind-specific pointers is set, matching Kind.
type Event struct {
	Kind   Kind
	Seq    uint64 // global sequence number stamped by the kernel; gaps mean loss
	BootNS uint64 // when it happened, nanoseconds since boot
	Proc   Process

	Exec       *Exec
	ExecFailed *ExecFailed
	Exit       *Exit
	Rename     *Rename
	Connect    *Connect
	DNS        *DNSPacket
	File       *File
	Sysctl     *Sysctl
	Kill       *Kill
	FPU        *FPU
	Payload    *Payload
	Suppressed *Suppressed
}

// Exec is a successful exec, read after the new image is in place.
type Exec struct {
	Filename      string // the path handed to exec
	Interpreter   string // bprm->interp when it differs from Filename (scripts)
	ExePath       string // path of the executable file actually mapped
	Cwd           string
	Args          [][]byte // argv, bounded; elements may be empty and may hold any bytes
	Argc          int      // the true argument count
	ArgsTruncated bool
	// ArgsTailAt > 0: argv was longer than its captured head and end; Args[:ArgsTailAt] is the head,
	// Args[ArgsTailAt:] the end of argv, and ArgsSkipped bytes between them were not captured.
	ArgsTailAt  int
	ArgsSkipped int
	// Creator is the process whose image this one ran before its exec, recorded at fork (zero when
	// unknown): the process that started it, whatever its parent is now.
	CreatorPID     uint32
	CreatorStart   uint64
	Env            [][]byte // KEY=VALUE entries, bounded
	EnvTruncated   bool
	ExeMemfd       bool
	ExeDeleted     bool // nlink == 0
	TTY            string
	SID, PGID      uint32 // session and process-group leaders (host pids)
	CgroupLeafName string // kernfs name of the task's cgroup (e.g. libpod-<id>.scope)
	FromSnapshot   bool   // true when built from procfs at start, not from a kernel hook
}

// ExecFailed is an exec attempt whose syscall returned an error.
type ExecFailed struct {
	Filename      string
	Args          [][]byte
	ArgsTruncated bool
	Errno         int32 // positive errno
}

// Exit is the end of a thread group.
type Exit struct {
	Code     int32 // exit status as the parent sees it (code << 8 | signal)
	UserNS   uint64
	SystemNS uint64
}

// Rename is a comm change.
type Rename struct {
	OldComm, NewComm string
}

// Connect is a connect attempt.
type Connect struct {
	Family     uint16 // AF_INET (2) or AF_INET6 (10)
	Transport  uint8  // 6 TCP, 17 UDP
	Addr       [16]byte
	Port       uint16
	Errno      int32 // 0 on success, positive errno on failure, -1 when the outcome is unknown
	InProgress bool
}

// DNSPacket is a DNS message seen on port 53, unparsed.
type DNSPacket struct {
	Egress    bool // true for a query sent, false for an answer received
	Family    uint16
	Transport uint8
	SrcAddr   [16]byte
	DstAddr   [16]byte
	SrcPort   uint16
	DstPort   uint16
	Payload   []byte // the DNS message (TCP length prefix removed), bounded
}

// File operations.
const (
	FileOpen     = "open"
	FileCreate   = "create"
	FileTruncate = "truncate"
	FileRename   = "rename"
	FileLink     = "link"
	FileSymlink  = "symlink"
	FileUnlink   = "unlink"
	FileChmod    = "chmod"
)

// File is write intent on a watched path, or any open of an always-watched path (/dev/cpu/*/msr).
type File struct {
	Op           string
	Path         string // absolute when it could be resolved, relative to the acting task's root
	Resolved     bool   // Path is the opened file's own path (canonical), not the caller's string
	Chroot       bool   // the task's root is not its mount namespace's root: Path is relative to it
	OtherMountNS bool   // the task's mount namespace is not the host's (a container, a pivot_root)
	SourcePath   string // rename/link source, symlink target
	Flags        uint32
	Mode         uint32
	Errno        int32 // 0 on success, positive errno on failure, -1 unknown
	WriteIntent  bool
	Content      []byte // first bytes written to a persistence file, when captured
}

// Sysctl is a write to /proc/sys.
type Sysctl struct {
	Name     string // "vm/nr_hugepages" as the kernel names it
	NewValue string
	OldValue string
}

// Kill is a signal sent to another process.
type Kill struct {
	TargetPID uint32
	Signal    int32
	Errno     int32
}

// FPU reports non-default MXCSR rounding modes seen at context switches of one process.
type FPU struct {
	MXCSR      uint32 // last non-default value seen
	NonDefault uint32 // switch-outs with non-default rounding in the window
	Samples    uint32 // switch-outs sampled in the window
}

// Payload is the first bytes a process sent on a new TCP connection.
type Payload struct {
	Family  uint16
	Addr    [16]byte
	Port    uint16
	SrcPort uint16 // local port, to pair with the connect
	Data    []byte
}

// Suppressed counts the repeats of one record of one process that the kernel's rate limiter held
// back in a window: the first record of the window was sent in full, these were only counted.
type Suppressed struct {
	Of      Kind   // kind of the records held back
	Count   uint32 // records held back
	Path    string // file path, exec filename or new comm; "" when many distinct ones were merged
	Errno   int32  // their positive errno (0 for renames)
	Op      string // file operation (file records)
	Signal  int32  // signal (kill records)
	FirstNS uint64 // window start, nanoseconds since boot
	LastNS  uint64 // last record held back, nanoseconds since boot
}

// Stats are the source's loss and health counters since start.
type Stats struct {
	Lost          [KindCount]uint64 // dropped in the kernel (ring full), per kind
	Suppressed    [KindCount]uint64 // held back by the kernel's rate limiter, per kind
	LifecycleLost uint64            // of Lost, the kinds of the lifecycle ring (exec, exit)
	ParseErrors   uint64            // records the reader could not decode
	RingSize      uint64            // bytes of the bulk ring
	RingUsed      uint64            // bytes waiting in the bulk ring at the last look
	LifecycleSize uint64            // bytes of the lifecycle ring
	LifecycleUsed uint64            // bytes waiting in the lifecycle ring at the last look
}

// Options configure a Source.
type Options struct {
	RingBufferSize    int           // bytes of the bulk ring, power of two
	LifecycleRingSize int           // bytes of the lifecycle ring (exec, exit), power of two
	PollInterval      time.Duration // how often the reader drains a ring that was not woken
	ArgvMaxArgs       int
	ArgvMaxBytes      int
	EnvMaxVars        int
	EnvMaxBytes       int
	// Families enabled; a disabled family's programs are not loaded.
	Exec, Exit, Network, DNS, Files, Sysctl, Rename bool
	// Miner behaviour: signals to other processes, RandomX-like MXCSR rounding, and the first bytes
	// of new outgoing TCP connections.
	Kill, FPU, Payload bool
	// WatchedPrefixes are path prefixes whose write-intent opens, renames, links, unlinks and chmods
	// are reported. AlwaysPrefixes are reported on any open whatever the flags or the result.
	WatchedPrefixes []string
	AlwaysPrefixes  []string
	// ExcludePIDs are tgids whose own activity is not reported (the collector itself).
	ExcludePIDs []uint32
	// CgroupRoot is the cgroup v2 mount where cgroup programs attach ("" = found from /proc/mounts).
	CgroupRoot string
	// HostMountNS is the inode of the host's mount namespace (/proc/1/ns/mnt); file records of tasks
	// in another one are marked. 0: unknown, nothing is marked.
	HostMountNS uint32
}

// Source produces host events.
type Source interface {
	// Start loads and attaches everything. On error nothing stays attached and the error says what is
	// missing and how to fix it.
	Start() error
	// Run delivers events to fn until ctx is done or the source is closed. fn must not keep the
	// event's byte slices after it returns.
	Run(ctx context.Context, fn func(*Event)) error
	// Stats returns loss and health counters.
	Stats() Stats
	// Close detaches everything; safe to call more than once and without Start.
	Close() error
}
