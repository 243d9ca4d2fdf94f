//go:build !linux

package records

import "time"

var processStart = time.Now()

// bootOffset has no boot clock to read off Linux; boot time counts from process start.
func bootOffset() int64 { return processStart.UnixNano() }
