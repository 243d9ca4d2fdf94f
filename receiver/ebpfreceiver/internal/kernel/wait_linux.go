//go:build linux && amd64

package kernel // import "github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/kernel"

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// ringWait parks the reader until the kernel wakes one of the rings (it does so only on a backlog)
// or a deadline passes. It is an epoll set of the ring fds, itself waited on through the Go
// runtime's network poller: the reader's goroutine parks like one waiting on a socket instead of
// sitting in a blocking epoll_wait, which keeps the runtime's sysmon from spinning every 20 µs for
// as long as the reader is blocked in a system call.
type ringWait struct {
	f    *os.File        // the epoll fd, nonblocking, registered with the runtime poller
	raw  syscall.RawConn // f's
	evs  [2]unix.EpollEvent
	done atomic.Bool // interrupted or closed: every wait returns at once
}

func newRingWait(fds ...int) (*ringWait, error) {
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("creating the ring wait set: %w", err)
	}
	for _, fd := range fds {
		ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}
		if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
			unix.Close(ep)
			return nil, fmt.Errorf("adding a ring to the wait set: %w", err)
		}
	}
	if err := unix.SetNonblock(ep, true); err != nil {
		unix.Close(ep)
		return nil, fmt.Errorf("setting the ring wait set nonblocking: %w", err)
	}
	f := os.NewFile(uintptr(ep), "ring-wait")
	raw, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("the ring wait set is not pollable: %w", err)
	}
	return &ringWait{f: f, raw: raw}, nil
}

// wait returns when a ring was woken, at deadline, or at once after interrupt or close (done true).
func (w *ringWait) wait(deadline time.Time) (done bool, err error) {
	if err := w.f.SetReadDeadline(deadline); err != nil || w.done.Load() {
		return true, nil
	}
	err = w.raw.Read(func(fd uintptr) bool {
		n, err := unix.EpollWait(int(fd), w.evs[:], 0)
		return n > 0 || (err != nil && err != unix.EINTR)
	})
	switch {
	case w.done.Load():
		return true, nil
	case err == nil, errors.Is(err, os.ErrDeadlineExceeded):
		return false, nil
	}
	return true, fmt.Errorf("waiting on the ring buffers: %w", err)
}

// interrupt makes a pending wait and every later one return at once, done.
func (w *ringWait) interrupt() {
	w.done.Store(true)
	_ = w.f.SetReadDeadline(time.Unix(0, 1))
}

// close interrupts the wait and releases the set.
func (w *ringWait) close() error {
	w.done.Store(true)
	return w.f.Close()
}
