package terminate

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// startSlack absorbs the 10 ms resolution of a start time and the clock conversion.
const startSlack = 30 * time.Millisecond

// maxDescendants bounds the walk of a target's process tree.
const maxDescendants = 256

// Target names a process to stop and what it must still be.
type Target struct {
	PID int
	// StartedBy is a time (since boot) the process had started by: its first evidence. A process
	// that started later is another process that reuses the pid. Zero refuses the target.
	StartedBy time.Duration
	// Start, when set, is the exact start time since boot (10 ms resolution).
	Start time.Duration
	// Exe, when set, must be the process's executable.
	Exe string
	// Cgroup, when set, must be the process's cgroup v2 path or an ancestor of it.
	Cgroup string
	// ContainerID, when set, must appear in the process's cgroup path.
	ContainerID string
}

// Refusal is a scope or identity check that failed: the process was not signalled.
type Refusal struct{ Reason string }

func (r *Refusal) Error() string { return "refused: " + r.Reason }

func refuse(format string, a ...any) error { return &Refusal{Reason: fmt.Sprintf(format, a...)} }

// Plan checks the target against /proc and returns it followed by its descendants, each checked
// too (pid 1, kernel threads, the caller and processes outside the target's cgroup never are).
// A descendant that fails a check is returned in skipped with the reason.
func Plan(t Target) (procs []Proc, skipped map[int]error, err error) {
	p, err := Inspect(t.PID)
	if err != nil {
		return nil, nil, err
	}
	if err := check(t, p); err != nil {
		return nil, nil, err
	}
	procs = []Proc{p}
	skipped = map[int]error{}
	queue := []Proc{p}
	for len(queue) > 0 && len(procs) < maxDescendants {
		parent := queue[0]
		queue = queue[1:]
		for _, c := range children(parent.PID) {
			cp, err := Inspect(c)
			if err != nil {
				continue
			}
			// A child cannot have started before its parent: otherwise the pid was reused in between.
			if cerr := checkScope(Target{PID: c, Cgroup: t.Cgroup, ContainerID: t.ContainerID}, cp); cerr != nil {
				skipped[c] = cerr
				continue
			}
			if cp.PPID != parent.PID || cp.Start+startSlack < parent.Start {
				skipped[c] = refuse("pid %d is no longer a child of %d", c, parent.PID)
				continue
			}
			procs = append(procs, cp)
			queue = append(queue, cp)
		}
	}
	return procs, skipped, nil
}

// check is the identity and scope check of a target.
func check(t Target, p Proc) error {
	if err := checkScope(t, p); err != nil {
		return err
	}
	switch {
	case t.Start != 0:
		if d := p.Start - t.Start; d > startSlack || d < -startSlack {
			return refuse("pid %d started at %s since boot, not %s: the pid was reused", p.PID, p.Start, t.Start)
		}
	case t.StartedBy != 0:
		if p.Start > t.StartedBy+startSlack {
			return refuse("pid %d started %s after its evidence: the pid was reused", p.PID, (p.Start - t.StartedBy).Round(time.Millisecond))
		}
	default:
		return refuse("pid %d has no start time to check its identity against", p.PID)
	}
	if t.Exe != "" && p.Exe != "" && p.Exe != t.Exe {
		return refuse("pid %d runs %s, not %s", p.PID, p.Exe, t.Exe)
	}
	return nil
}

// checkScope refuses what must never be signalled and what lies outside the target's cgroup.
func checkScope(t Target, p Proc) error {
	switch {
	case p.PID <= 1:
		return refuse("pid %d is init", p.PID)
	case p.Kthread:
		return refuse("pid %d (%s) is a kernel thread", p.PID, p.Comm)
	case p.PID == os.Getpid():
		return refuse("pid %d is the collector itself", p.PID)
	case t.Cgroup != "" && p.Cgroup != t.Cgroup && !strings.HasPrefix(p.Cgroup, strings.TrimSuffix(t.Cgroup, "/")+"/"):
		return refuse("pid %d is in cgroup %s, outside the finding's %s", p.PID, p.Cgroup, t.Cgroup)
	case t.ContainerID != "" && !strings.Contains(p.Cgroup, t.ContainerID):
		return refuse("pid %d is in cgroup %s, not in container %.12s", p.PID, p.Cgroup, t.ContainerID)
	}
	return nil
}

// Handle is a process held through a pidfd: the signal reaches exactly this process even if its
// pid is reused meanwhile.
type Handle struct {
	Proc Proc
	fd   int
}

// Hold opens a pidfd for p and re-checks, through /proc, that the pid still names the same
// process (same start time and executable, same scope); the pidfd then pins that process.
func Hold(p Proc, t Target) (*Handle, error) {
	fd, err := unix.PidfdOpen(p.PID, 0)
	if err != nil {
		if errors.Is(err, unix.ESRCH) {
			return nil, ErrGone
		}
		return nil, fmt.Errorf("pidfd_open %d: %w", p.PID, err)
	}
	now, err := Inspect(p.PID)
	if err == nil {
		t.PID, t.Start, t.StartedBy, t.Exe = p.PID, p.Start, 0, p.Exe
		err = check(t, now)
	}
	if err != nil {
		_ = unix.Close(fd)
		return nil, err
	}
	return &Handle{Proc: now, fd: fd}, nil
}

// Kill sends SIGKILL through the pidfd and waits up to wait for the process to exit.
func (h *Handle) Kill(wait time.Duration) error {
	if err := unix.PidfdSendSignal(h.fd, unix.SIGKILL, nil, 0); err != nil {
		if errors.Is(err, unix.ESRCH) {
			return ErrGone
		}
		return fmt.Errorf("pidfd_send_signal %d: %w", h.Proc.PID, err)
	}
	// A pidfd becomes readable when the process exits.
	fds := []unix.PollFd{{Fd: int32(h.fd), Events: unix.POLLIN}}
	deadline := time.Now().Add(wait)
	for {
		n, err := unix.Poll(fds, int(time.Until(deadline).Milliseconds()))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("poll pidfd %d: %w", h.Proc.PID, err)
		}
		if n > 0 {
			return nil
		}
		return fmt.Errorf("pid %d still running %s after SIGKILL", h.Proc.PID, wait)
	}
}

// Close releases the pidfd.
func (h *Handle) Close() error { return unix.Close(h.fd) }
