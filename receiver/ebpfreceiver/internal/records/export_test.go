package records

import "time"

// setOffset fixes the offset, so that records carry predictable times.
func (c *Clock) setOffset(ns int64) { c.offset.Store(ns) }

// bootNow is the current boot time in ns as the clock sees it.
func (c *Clock) bootNow() uint64 {
	return uint64(time.Now().UnixNano() - c.offset.Load())
}
