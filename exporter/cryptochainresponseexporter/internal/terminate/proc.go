// Package terminate stops processes named by a finding, safely: each target is identified by pid
// and start time (and executable, cgroup), re-checked through a pidfd right before the signal, and
// pid 1, kernel threads and the caller itself are never signalled. It knows nothing of findings.
package terminate // import "github.com/cryptochain-otel/cryptochain/exporter/cryptochainresponseexporter/internal/terminate"

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// ticksPerSecond is USER_HZ, the unit of the start time in /proc/<pid>/stat (100 on Linux).
const ticksPerSecond = 100

// pfKthread is PF_KTHREAD in the flags field of /proc/<pid>/stat.
const pfKthread = 0x00200000

// Proc is what /proc says about one process.
type Proc struct {
	PID, PPID int
	// Start is the start time since boot (CLOCK_BOOTTIME, 10 ms resolution).
	Start   time.Duration
	Kthread bool
	Comm    string
	// Exe is the executable path in the process's own mount namespace ("" when unreadable).
	Exe string
	// Cgroup is the cgroup v2 path ("/libpod_parent/libpod-…").
	Cgroup string
}

// ErrGone means the process no longer exists.
var ErrGone = errors.New("process is gone")

// Inspect reads /proc/<pid>.
func Inspect(pid int) (Proc, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, unix.ESRCH) {
			return Proc{}, ErrGone
		}
		return Proc{}, err
	}
	p, err := parseStat(pid, string(b))
	if err != nil {
		return Proc{}, err
	}
	if exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); err == nil {
		p.Exe = strings.TrimSuffix(exe, " (deleted)")
	}
	if cg, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid)); err == nil {
		p.Cgroup = cgroupV2(string(cg))
	}
	return p, nil
}

// parseStat reads pid, comm, ppid, flags and starttime; comm may hold spaces and parentheses.
func parseStat(pid int, s string) (Proc, error) {
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open {
		return Proc{}, fmt.Errorf("/proc/%d/stat: unreadable", pid)
	}
	f := strings.Fields(s[end+1:])
	// f[0] is field 3 (state): ppid is field 4, flags 9, starttime 22.
	if len(f) < 20 {
		return Proc{}, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f)+2)
	}
	ppid, err1 := strconv.Atoi(f[1])
	flags, err2 := strconv.ParseUint(f[6], 10, 64)
	start, err3 := strconv.ParseUint(f[19], 10, 64)
	if err := errors.Join(err1, err2, err3); err != nil {
		return Proc{}, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return Proc{
		PID: pid, PPID: ppid, Comm: s[open+1 : end],
		Start:   time.Duration(start) * time.Second / ticksPerSecond,
		Kthread: flags&pfKthread != 0 || pid == 2 || ppid == 2,
	}, nil
}

// cgroupV2 returns the path of the "0::" line of /proc/<pid>/cgroup.
func cgroupV2(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if p, ok := strings.CutPrefix(l, "0::"); ok {
			return p
		}
	}
	return ""
}

// children lists the direct children of pid (every thread's children).
func children(pid int) []int {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	var out []int
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			if c, err := strconv.Atoi(f); err == nil {
				out = append(out, c)
			}
		}
	}
	return out
}

// BootTime converts a wall-clock time into time since boot (CLOCK_BOOTTIME), the clock of Proc.Start.
func BootTime(wall time.Time) (time.Duration, error) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		return 0, err
	}
	now := time.Now()
	return time.Duration(ts.Nano()) - now.Sub(wall), nil
}
