// Package usage samples the CPU time and resident memory of a bounded set of watched processes from
// procfs (/proc/<pid>/stat and statm), and the bytes sent and received on their TCP sockets (socket
// inodes from /proc/<pid>/fd, counters from one NETLINK_SOCK_DIAG dump per network namespace and
// sample, the namespace entered only to create the netlink socket), for the
// `cryptochain.process.usage` record (docs/events.md).
// It must not know events, records or which processes deserve watching; the caller decides and
// hands each process an opaque value that comes back with its sample.
package usage // import "github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/usage"

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
)

// Linux reports times in stat in clock ticks of USER_HZ, which is 100 on every architecture Go
// supports on Linux; memory in statm in pages.
const (
	userHZ   = 100
	maxStat  = 4096
	maxStatm = 256
	// maxRefused bounds the pids remembered as refused (so each counts once) while the set is full.
	maxRefused = 4096
)

// Sample is one reading of a process.
type Sample struct {
	CPUSeconds float64 // user + system time so far
	RSSBytes   int64   // resident set size
	// TCP holds the process's TCP connections per remote endpoint; nil when they were not read
	// (its network namespace or fds are unreadable, or the dump failed).
	TCP []Conn
}

type entry[T any] struct {
	startTicks uint64 // process start in clock ticks since boot (stat field 22), 0 = not checked
	v          T
}

// Watcher holds the watched processes. It is not safe for concurrent use.
type Watcher[T any] struct {
	root     string
	max      int
	procs    map[uint32]*entry[T]
	pageSize int64
	dropped  uint64              // processes refused because the set was full
	refused  map[uint32]struct{} // pids refused since a slot last freed (at most maxRefused), counted once
	tcp      bool                // read TCP byte counts
	tcpErrs  uint64              // samples whose TCP counts could not be read (dump failed, other netns)
}

// New watches at most max processes under procfs root.
func New[T any](root string, max int) *Watcher[T] {
	if root == "" {
		root = "/proc"
	}
	return &Watcher[T]{root: root, max: max, procs: map[uint32]*entry[T]{}, refused: map[uint32]struct{}{},
		pageSize: int64(os.Getpagesize())}
}

// Watch adds pid (started startBootNS nanoseconds after boot; 0 when unknown) with its value v,
// or refreshes v when pid is watched already. It reports false when the set is full.
func (w *Watcher[T]) Watch(pid uint32, startBootNS uint64, v T) bool {
	if e := w.procs[pid]; e != nil {
		e.v = v
		return true
	}
	if len(w.procs) >= w.max {
		// A refused process that keeps connecting counts once; beyond maxRefused pids every call
		// counts, so a flood still shows.
		if _, seen := w.refused[pid]; !seen {
			w.dropped++
			if len(w.refused) < maxRefused {
				w.refused[pid] = struct{}{}
			}
		}
		return false
	}
	w.procs[pid] = &entry[T]{startTicks: startBootNS / (1e9 / userHZ), v: v}
	return true
}

// ReadTCP turns reading the TCP byte counts of watched processes on or off (off by default).
func (w *Watcher[T]) ReadTCP(on bool) { w.tcp = on }

// TCPErrors is the number of process samples whose TCP byte counts could not be read: its network
// namespace or fds were unreadable, more than 16 namespaces were to be dumped, or the dump failed.
func (w *Watcher[T]) TCPErrors() uint64 { return w.tcpErrs }

// Len is the number of watched processes.
func (w *Watcher[T]) Len() int { return len(w.procs) }

// Dropped is the number of processes refused so far because the set was full (a pid refused again
// before a slot frees is not counted twice).
func (w *Watcher[T]) Dropped() uint64 { return w.dropped }

// Sample reads every watched process and calls fn with its value and reading. A process that is
// gone, or whose pid now names another process (start time differs), is forgotten.
func (w *Watcher[T]) Sample(fn func(pid uint32, v T, s Sample)) {
	type read struct {
		pid    uint32
		e      *entry[T]
		s      Sample
		inodes []uint64
		tcp    bool
		ns     netnsID
	}
	type netns struct {
		path string // "" = this process's
		want map[uint64]struct{}
		err  bool
	}
	var reads []read
	namespaces := map[netnsID]*netns{}
	own, ownErr := ownNetns()
	for pid, e := range w.procs {
		s, start, err := w.read(pid)
		if err != nil || (e.startTicks != 0 && !near(start, e.startTicks)) {
			delete(w.procs, pid)
			clear(w.refused) // a slot is free: a refused process is watched at its next event
			continue
		}
		r := read{pid: pid, e: e, s: s}
		if w.tcp {
			id, path, err := netnsOf(w.root, pid)
			ns := namespaces[id]
			if err == nil && ns == nil && len(namespaces) < maxNetns {
				if ownErr == nil && id == own {
					path = ""
				}
				ns = &netns{path: path, want: map[uint64]struct{}{}}
				namespaces[id] = ns
			}
			if ns == nil {
				w.tcpErrs++
			} else if inodes, err := socketInodes(w.root, pid); err != nil {
				w.tcpErrs++
			} else {
				r.inodes, r.tcp, r.ns = inodes, true, id
				for _, ino := range inodes {
					ns.want[ino] = struct{}{}
				}
			}
		}
		reads = append(reads, r)
	}
	// Socket inodes are unique across namespaces: one map holds the sockets of all of them.
	socks := map[uint64]tcpSock{}
	for _, ns := range namespaces {
		if len(ns.want) > 0 && dumpTCP(ns.path, ns.want, socks) != nil {
			ns.err = true
		}
	}
	for i := range reads {
		r := &reads[i]
		if r.tcp {
			if namespaces[r.ns].err {
				w.tcpErrs++
			} else {
				r.s.TCP = sumByRemote(r.inodes, socks)
			}
		}
		fn(r.pid, r.e.v, r.s)
	}
}

// near allows one tick of rounding between the kernel's start_boottime and stat's field.
func near(a, b uint64) bool { return a == b || a+1 == b || b+1 == a }

var errFormat = errors.New("usage: unexpected stat format")

func (w *Watcher[T]) read(pid uint32) (Sample, uint64, error) {
	dir := filepath.Join(w.root, strconv.FormatUint(uint64(pid), 10))
	stat, err := readBounded(filepath.Join(dir, "stat"), maxStat)
	if err != nil {
		return Sample{}, 0, err
	}
	// comm (field 2) may hold spaces and parentheses: the fields that follow start after the last ')'.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return Sample{}, 0, errFormat
	}
	f := bytes.Fields(stat[i+1:])
	// After comm: state is field 3, so field n is f[n-3]. utime 14, stime 15, starttime 22.
	if len(f) < 20 {
		return Sample{}, 0, errFormat
	}
	utime, err1 := strconv.ParseUint(string(f[11]), 10, 64)
	stime, err2 := strconv.ParseUint(string(f[12]), 10, 64)
	start, err3 := strconv.ParseUint(string(f[19]), 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return Sample{}, 0, errFormat
	}
	s := Sample{CPUSeconds: float64(utime+stime) / userHZ}
	if statm, err := readBounded(filepath.Join(dir, "statm"), maxStatm); err == nil {
		if g := bytes.Fields(statm); len(g) >= 2 {
			if pages, err := strconv.ParseInt(string(g[1]), 10, 64); err == nil {
				s.RSSBytes = pages * w.pageSize
			}
		}
	}
	return s, start, nil
}

func readBounded(path string, n int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, n)
	m, err := f.Read(buf)
	if m == 0 && err != nil {
		return nil, err
	}
	return buf[:m], nil
}
