package impact

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestRateLimitedUpdatesOfOneFinding(t *testing.T) {
	tr := New(time.Minute, 0.36, 10)
	tr.Found("ctx", "F1", "medium", nil, []Proc{{PID: 100, Start: "s"}})
	_, ok := tr.Usage("ctx", 200, "s", t0, 1, 1) // not a miner
	assert.False(t, ok)
	_, ok = tr.Usage("other", 100, "s", t0, 1, 1) // another context
	assert.False(t, ok)
	_, ok = tr.Usage("ctx", 100, "older", t0, 1, 1) // a reused pid
	assert.False(t, ok)

	u, ok := tr.Usage("ctx", 100, "s", t0, 10, 4096)
	require.True(t, ok)
	assert.Equal(t, "F1", u.ID)
	assert.Equal(t, 10.0, u.CPUSeconds)
	assert.Equal(t, int64(4096), u.RSSBytes)
	assert.InDelta(t, 0.001, u.Cost, 1e-12) // 10 s of one core at 0.36 per core-hour
	_, ok = tr.Usage("ctx", 100, "s", t0.Add(30*time.Second), 40, 4096)
	assert.False(t, ok, "within the interval")
	u, ok = tr.Usage("ctx", 100, "s", t0.Add(time.Minute), 70, 8192)
	require.True(t, ok)
	assert.Equal(t, 70.0, u.CPUSeconds)
	assert.Equal(t, []int64{100}, u.PIDs)

	// Escalation keeps the id and the samples; a second miner adds up.
	tr.Found("ctx", "F1", "high", nil, []Proc{{PID: 101}})
	u, ok = tr.Usage("ctx", 101, "x", t0.Add(2*time.Minute), 5, 100)
	require.True(t, ok)
	assert.Equal(t, "high", u.Severity)
	assert.Equal(t, 75.0, u.CPUSeconds)
	assert.Equal(t, []int64{100, 101}, u.PIDs)

	// A counter going back is a stale sample.
	_, ok = tr.Usage("ctx", 101, "x", t0.Add(10*time.Minute), 1, 100)
	assert.False(t, ok)
}

func TestBounded(t *testing.T) {
	tr := New(time.Minute, 0, 3)
	for i := 0; i < 10; i++ {
		tr.Found(fmt.Sprint(i), "id", "medium", nil, []Proc{{PID: 1}})
	}
	assert.Equal(t, 3, tr.Len())
	many := make([]Proc, 1000)
	for i := range many {
		many[i] = Proc{PID: int64(i)}
	}
	tr.Found("big", "id", "medium", nil, many)
	assert.Len(t, tr.byKey["big"].procs, maxPIDs)
}
