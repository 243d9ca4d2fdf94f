package process

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAncestorsAndPidReuse(t *testing.T) {
	tb := newStore(100, time.Second)
	tb.put(&Proc{Key: Key{1, 10}})
	tb.put(&Proc{Key: Key{50, 20}, Parent: Key{1, 10}})
	tb.put(&Proc{Key: Key{60, 30}, Parent: Key{50, 20}, Exe: "/bin/sh"})
	tb.put(&Proc{Key: Key{70, 40}, Parent: Key{60, 30}})
	assert.Equal(t, []int64{60, 50, 1}, tb.ancestors(Key{70, 40}, 8))
	assert.Equal(t, []int64{60, 50}, tb.ancestors(Key{70, 40}, 2))
	assert.Nil(t, tb.ancestors(Key{99, 1}, 8))

	// pid 60 reused by a later process: the old key still resolves, Start 0 finds the newest.
	tb.put(&Proc{Key: Key{60, 900}, Parent: Key{1, 10}, Exe: "/usr/bin/xmrig"})
	p, ok := tb.get(Key{60, 30})
	require.True(t, ok)
	assert.Equal(t, "/bin/sh", p.Exe)
	p, ok = tb.get(Key{PID: 60})
	require.True(t, ok)
	assert.Equal(t, "/usr/bin/xmrig", p.Exe)
	assert.Equal(t, []int64{60, 50, 1}, tb.ancestors(Key{70, 40}, 8), "ancestry follows the exact parent key")

	// A snapshot start (tick-rounded) matches the kernel's exact start a few ms later.
	tb.put(&Proc{Key: Key{90, 5_000_000_000}, Exe: "/snap"})
	p, ok = tb.get(Key{90, 5_004_000_123})
	require.True(t, ok)
	assert.Equal(t, "/snap", p.Exe)
	_, ok = tb.get(Key{90, 5_100_000_000})
	assert.False(t, ok, "a later incarnation does not match")

	// Unknown parent: its pid is reported, the walk stops.
	tb.put(&Proc{Key: Key{80, 50}, Parent: Key{79, 45}})
	assert.Equal(t, []int64{79}, tb.ancestors(Key{80, 50}, 8))
}

func TestExitGraceAndBound(t *testing.T) {
	tb := newStore(3, time.Second)
	now := time.Unix(1000, 0)
	tb.put(&Proc{Key: Key{1, 1}})
	tb.exit(Key{1, 1}, now)
	tb.sweep(now.Add(500 * time.Millisecond))
	_, ok := tb.get(Key{1, 1})
	assert.True(t, ok, "kept during grace")
	tb.sweep(now.Add(2 * time.Second))
	_, ok = tb.get(Key{1, 1})
	assert.False(t, ok, "gone after grace")

	for i := uint32(10); i < 20; i++ {
		tb.put(&Proc{Key: Key{i, uint64(i)}})
	}
	assert.Equal(t, 3, tb.len())
	_, ok = tb.get(Key{PID: 10})
	assert.False(t, ok, "evicted pid no longer resolvable by pid")
	_, ok = tb.get(Key{PID: 19})
	assert.True(t, ok)
	// A cycle cannot loop forever.
	tb.put(&Proc{Key: Key{30, 1}, Parent: Key{31, 1}})
	tb.put(&Proc{Key: Key{31, 1}, Parent: Key{30, 1}})
	assert.Equal(t, []int64{31, 30}, tb.ancestors(Key{30, 1}, 8))
}

func TestAncestorsKeptPerImage(t *testing.T) {
	tb := newStore(100, time.Second)
	tb.put(&Proc{Key: Key{1, 10}})
	tb.put(&Proc{Key: Key{50, 20}, Parent: Key{1, 10}})
	shell := &Proc{Key: Key{60, 30}, Parent: Key{50, 20}}
	tb.put(shell)
	assert.Equal(t, []int64{50, 1}, tb.ancestors(Key{60, 30}, 8))
	assert.True(t, shell.ancestorsDone, "a chain that reached pid 0 is kept")

	// A child starts from its parent's kept answer.
	tb.put(&Proc{Key: Key{70, 40}, Parent: Key{60, 30}})
	assert.Equal(t, []int64{60, 50, 1}, tb.ancestors(Key{70, 40}, 8))

	// A fork copies its parent's image: storing it drops the parent's answer.
	fork := *shell
	fork.Key, fork.Parent = Key{61, 35}, shell.Key
	tb.put(&fork)
	assert.Equal(t, []int64{60, 50, 1}, tb.ancestors(Key{61, 35}, 8))

	// A chain that stopped at a parent the table did not know is not kept: once the parent is
	// learned, the answer grows.
	tb.put(&Proc{Key: Key{90, 60}, Parent: Key{89, 55}})
	assert.Equal(t, []int64{89}, tb.ancestors(Key{90, 60}, 8))
	tb.put(&Proc{Key: Key{89, 55}, Parent: Key{60, 30}})
	assert.Equal(t, []int64{89, 60, 50, 1}, tb.ancestors(Key{90, 60}, 8))

	// The limit applies to kept answers too.
	assert.Equal(t, []int64{89, 60}, tb.ancestors(Key{90, 60}, 2))
}
