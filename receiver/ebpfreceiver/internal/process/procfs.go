package process

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/event"
)

// Limits bound what of argv and environ a procfs read keeps.
type Limits struct {
	MaxArgs, MaxArgBytes int
	MaxEnv, MaxEnvBytes  int
}

// procfsReader reads running processes from a procfs mount (the host's, possibly mounted
// elsewhere), bounded and tolerant of processes that exit while being read. It builds the
// start-up snapshot and fills gaps when a live event's process or parent was never seen.
type procfsReader struct {
	root string
	// clockTicks is USER_HZ (100 on Linux); start times are in these ticks.
	clockTicks uint64
	limits     Limits
	// cgroupID resolves a cgroup v2 path to its id (inode); nil leaves CgroupID zero.
	cgroupID func(path string) uint64
}

const maxFileBytes = 256 << 10 // cmdline/environ are never read beyond this

// errKernelThread is returned for kernel threads, which are not reported.
var errKernelThread = errors.New("kernel thread")

// snapshot reads every process except those in exclude, oldest first (so parents come before
// their children). Processes that vanish or cannot be read are skipped.
func (r *procfsReader) snapshot(exclude map[uint32]bool, limit int) ([]*event.Event, error) {
	entries, err := os.ReadDir(r.root)
	if err != nil {
		return nil, fmt.Errorf("procfs_root: reading %s: %w", r.root, err)
	}
	var out []*event.Event
	for _, e := range entries {
		pid, err := strconv.ParseUint(e.Name(), 10, 32)
		if err != nil || exclude[uint32(pid)] {
			continue
		}
		ev, err := r.process(uint32(pid))
		if err != nil {
			continue
		}
		out = append(out, ev)
		if limit > 0 && len(out) >= limit {
			break
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Proc.StartBootNS < out[j].Proc.StartBootNS })
	return parentsFirst(out), nil
}

// parentsFirst reorders processes sorted by start time so that every parent comes before its
// children: start times are in 10 ms ticks, so a parent and its child often tie.
func parentsFirst(evs []*event.Event) []*event.Event {
	byPID := make(map[uint32]*event.Event, len(evs))
	for _, ev := range evs {
		byPID[ev.Proc.PID] = ev
	}
	done := make(map[uint32]bool, len(evs))
	out := make([]*event.Event, 0, len(evs))
	var chain []*event.Event
	for _, ev := range evs {
		// Climb to the oldest ancestor not placed yet, then place the chain top down.
		chain = chain[:0]
		for cur := ev; cur != nil && !done[cur.Proc.PID]; cur = byPID[cur.Proc.PPID] {
			done[cur.Proc.PID] = true
			chain = append(chain, cur)
		}
		for i := len(chain) - 1; i >= 0; i-- {
			out = append(out, chain[i])
		}
	}
	return out
}

// process reads one process as a process.exec event with Exec.FromSnapshot set.
func (r *procfsReader) process(pid uint32) (*event.Event, error) {
	dir := filepath.Join(r.root, strconv.FormatUint(uint64(pid), 10))
	st, err := r.stat(dir)
	if err != nil {
		return nil, err
	}
	if st.flags&pfKthread != 0 {
		return nil, errKernelThread
	}
	ev := &event.Event{
		Kind:   event.KindExec,
		BootNS: st.startNS,
		Proc: event.Process{
			PID: pid, TID: pid, StartBootNS: st.startNS, PPID: st.ppid, Comm: st.comm,
			LoginUID: 4294967295, SessionID: 4294967295,
		},
	}
	x := &event.Exec{FromSnapshot: true, SID: st.session, PGID: st.pgrp, TTY: ttyName(st.ttyNr)}
	ev.Exec = x
	if st.ppid != 0 {
		if pst, err := r.stat(filepath.Join(r.root, strconv.FormatUint(uint64(st.ppid), 10))); err == nil {
			ev.Proc.ParentStartNS = pst.startNS
		}
	}
	r.status(dir, ev)
	if v, ok := readUint(filepath.Join(dir, "loginuid")); ok {
		ev.Proc.LoginUID = v
	}
	if v, ok := readUint(filepath.Join(dir, "sessionid")); ok {
		ev.Proc.SessionID = v
	}
	if exe, err := os.Readlink(filepath.Join(dir, "exe")); err == nil {
		exe, x.ExeDeleted = strings.CutSuffix(exe, " (deleted)")
		x.ExeMemfd = strings.HasPrefix(exe, "/memfd:")
		x.ExePath = exe
		x.Filename = exe
	}
	x.Cwd, _ = os.Readlink(filepath.Join(dir, "cwd"))
	if b, err := readBounded(filepath.Join(dir, "cmdline")); err == nil {
		x.Args, x.Argc, x.ArgsTruncated = splitNUL(b, r.limits.MaxArgs, r.limits.MaxArgBytes)
	}
	if b, err := readBounded(filepath.Join(dir, "environ")); err == nil {
		x.Env, _, x.EnvTruncated = splitNUL(b, r.limits.MaxEnv, r.limits.MaxEnvBytes)
	}
	if cg, ok := readCgroup2(filepath.Join(dir, "cgroup")); ok {
		x.CgroupLeafName = filepath.Base(cg)
		if r.cgroupID != nil {
			ev.Proc.CgroupID = r.cgroupID(cg)
		}
	}
	return ev, nil
}

// cgroupPath returns the cgroup v2 path of pid ("" when unknown).
func (r *procfsReader) cgroupPath(pid uint32) string {
	cg, _ := readCgroup2(filepath.Join(r.root, strconv.FormatUint(uint64(pid), 10), "cgroup"))
	return cg
}

const pfKthread = 0x00200000

type stat struct {
	comm       string
	ppid, pgrp uint32
	session    uint32
	ttyNr      uint32
	flags      uint64
	startNS    uint64
}

// stat parses /proc/<pid>/stat; comm may hold spaces and parentheses, so fields are counted
// from the last ')'.
func (r *procfsReader) stat(dir string) (stat, error) {
	var s stat
	b, err := os.ReadFile(filepath.Join(dir, "stat"))
	if err != nil {
		return s, err
	}
	open, close := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || close < open {
		return s, errors.New("malformed stat")
	}
	s.comm = string(b[open+1 : close])
	f := strings.Fields(string(b[close+1:]))
	// f[0] is state (field 3); field n is f[n-3].
	if len(f) < 20 {
		return s, errors.New("short stat")
	}
	u := func(n int) uint64 { v, _ := strconv.ParseUint(f[n-3], 10, 64); return v }
	s.ppid, s.pgrp, s.session = uint32(u(4)), uint32(u(5)), uint32(u(6))
	tty, _ := strconv.ParseInt(f[7-3], 10, 64)
	s.ttyNr = uint32(tty)
	s.flags = u(9)
	ticks := r.clockTicks
	if ticks == 0 {
		ticks = 100
	}
	s.startNS = u(22) * (1_000_000_000 / ticks)
	return s, nil
}

func (r *procfsReader) status(dir string, ev *event.Event) {
	b, err := os.ReadFile(filepath.Join(dir, "status"))
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(b), "\n") {
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(val)
		switch key {
		case "Uid":
			if len(f) >= 2 {
				ev.Proc.UID = parseU32(f[0])
				ev.Proc.EUID = parseU32(f[1])
			}
		case "NSpid":
			if len(f) >= 1 {
				ev.Proc.VPID = parseU32(f[len(f)-1])
			}
		}
	}
}

func parseU32(s string) uint32 {
	v, _ := strconv.ParseUint(s, 10, 32)
	return uint32(v)
}

func readUint(p string) (uint32, bool) {
	b, err := os.ReadFile(p)
	if err != nil {
		return 0, false
	}
	v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 32)
	return uint32(v), err == nil
}

func readBounded(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxFileBytes))
}

// readCgroup2 returns the path of the "0::" line of a /proc/<pid>/cgroup file.
func readCgroup2(p string) (string, bool) {
	b, err := os.ReadFile(p)
	if err != nil {
		return "", false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "0::"); ok {
			return rest, true
		}
	}
	return "", false
}

// splitNUL splits a NUL-separated list (cmdline, environ) into at most maxN elements and maxBytes
// bytes in total. It returns the elements, the true count and whether anything was cut.
func splitNUL(b []byte, maxN, maxBytes int) ([][]byte, int, bool) {
	b = bytes.TrimSuffix(b, []byte{0})
	if len(b) == 0 {
		return nil, 0, false
	}
	total := bytes.Count(b, []byte{0}) + 1
	var out [][]byte
	used := 0
	truncated := false
	for _, part := range bytes.Split(b, []byte{0}) {
		if len(out) >= maxN {
			truncated = true
			break
		}
		if used+len(part) > maxBytes {
			part = part[:max(0, maxBytes-used)]
			truncated = true
		}
		out = append(out, bytes.Clone(part))
		used += len(part)
		if used >= maxBytes && truncated {
			break
		}
	}
	if len(out) < total {
		truncated = true
	}
	return out, total, truncated
}

// ttyName turns a tty_nr (dev_t) into a name like pts/3, "" when none.
func ttyName(nr uint32) string {
	if nr == 0 {
		return ""
	}
	major := (nr >> 8) & 0xfff
	minor := (nr & 0xff) | ((nr >> 12) & 0xfff00)
	switch {
	case major >= 136 && major <= 143:
		return "pts/" + strconv.FormatUint(uint64((major-136)*256+minor), 10)
	case major == 4 && minor < 64:
		return "tty" + strconv.FormatUint(uint64(minor), 10)
	case major == 4:
		return "ttyS" + strconv.FormatUint(uint64(minor-64), 10)
	case major == 5 && minor == 1:
		return "console"
	}
	return fmt.Sprintf("tty%d:%d", major, minor)
}
