//go:build linux

package records

import (
	"time"

	"golang.org/x/sys/unix"
)

// bootOffset brackets a CLOCK_BOOTTIME read between two wall-clock reads.
func bootOffset() int64 {
	var ts unix.Timespec
	before := time.Now().UnixNano()
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		return 0
	}
	after := time.Now().UnixNano()
	return (before+after)/2 - ts.Nano()
}
