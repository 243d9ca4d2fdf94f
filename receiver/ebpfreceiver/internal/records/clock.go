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

// SetOffset fixes the offset (tests).
func (c *Clock) SetOffset(ns int64) { c.offset.Store(ns) }

// Wall returns the wall-clock time of a boot-time instant.
func (c *Clock) Wall(bootNS uint64) time.Time {
	return time.Unix(0, int64(bootNS)+c.offset.Load())
}

// BootNow returns the current boot time in ns.
func (c *Clock) BootNow() uint64 {
	return uint64(time.Now().UnixNano() - c.offset.Load())
}
