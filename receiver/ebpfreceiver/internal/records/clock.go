package records

import (
	"sync/atomic"
	"time"
)

// Clock converts kernel boot-time nanoseconds (CLOCK_BOOTTIME) to wall-clock time. The offset is
// measured once and refreshed by Refresh (the wall clock can be stepped by NTP).
type Clock struct {
	offset atomic.Int64 // wall ns - boot ns
}

// NewClock measures the offset now.
func NewClock() *Clock {
	c := &Clock{}
	c.Refresh()
	return c
}

// Refresh re-measures the offset.
func (c *Clock) Refresh() {
	c.offset.Store(bootOffset())
}

// Wall returns the wall-clock time of a boot-time instant.
func (c *Clock) Wall(bootNS uint64) time.Time {
	return time.Unix(0, int64(bootNS)+c.offset.Load())
}
