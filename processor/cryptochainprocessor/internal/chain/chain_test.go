package chain

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"

	ev "github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/evidence"
)

var t0 = time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)

func newTracker() *Tracker {
	return New(Config{Window: time.Hour, MaxContexts: 100, MaxEvidence: 16})
}

func ctxFor(t *Tracker, key string) *Context {
	if c := t.lookup([]byte(key)); c != nil {
		return c
	}
	res := pcommon.NewResource()
	res.Attributes().PutStr("cryptochain.context.id", key)
	return t.create([]byte(key), res)
}

// proc describes the acting process of an event.
type proc struct {
	pid       int64
	ancestors []int64
	ppid      int64
}

func event(name string, p proc, at time.Duration) *ev.Event {
	return &ev.Event{Name: name, Time: t0.Add(at), PID: p.pid, Start: "t" + string(rune('0'+p.pid%10)),
		PPID: p.ppid, Ancestors: p.ancestors, Exe: "/usr/bin/x"}
}

var (
	minerStrong = ev.Evidence{Group: ev.Miner, Strength: ev.Strong, Kind: "pool_url", Indicator: "stratum+tcp://pool.example:3333", Endpoint: "pool.example:3333"}
	minerName   = ev.Evidence{Group: ev.Miner, Strength: ev.Weak, Kind: "miner_name", Indicator: "xmrig"}
	minerFlag   = ev.Evidence{Group: ev.Miner, Strength: ev.Weak, Kind: "miner_flag", Indicator: "--donate-level"}
	poolStrong  = ev.Evidence{Group: ev.Pool, Strength: ev.Strong, Kind: "pool_domain", Indicator: "pool.example", Endpoint: "pool.example"}
	poolWeak    = ev.Evidence{Group: ev.Pool, Strength: ev.Weak, Kind: "stratum_port", Endpoint: "10.0.0.1:3333"}
	persist     = ev.Evidence{Group: ev.Persistence, Strength: ev.Strong, Kind: "cron", Path: "/etc/cron.d/x", Command: "/tmp/.x/kworker --config /tmp/.x/c.json"}
	persistFail = ev.Evidence{Group: ev.Persistence, Strength: ev.Strong, Kind: "cron", Path: "/etc/cron.d/x", Failed: true}
	optim       = ev.Evidence{Group: ev.Optimization, Strength: ev.Strong, Kind: "hugepages", Path: "/proc/sys/vm/nr_hugepages"}
	optimFail   = ev.Evidence{Group: ev.Optimization, Strength: ev.Strong, Kind: "msr", Path: "/dev/cpu/0/msr", Failed: true}
)

type step struct {
	name string
	p    proc
	evs  []ev.Evidence
}

func TestSeverity(t *testing.T) {
	miner := proc{pid: 100, ancestors: []int64{10, 1}}
	child := proc{pid: 101, ancestors: []int64{100, 10, 1}}
	shell := proc{pid: 10, ancestors: []int64{1}}
	grep := proc{pid: 11, ancestors: []int64{10, 1}}
	dig := proc{pid: 12, ancestors: []int64{10, 1}}
	other := proc{pid: 200, ancestors: []int64{1}}
	tests := []struct {
		name   string
		steps  []step
		want   Level
		groups []ev.Group
	}{
		{"miner only", []step{{"cryptochain.process.exec", miner, []ev.Evidence{minerStrong}}}, None, nil},
		{"pool only", []step{{"cryptochain.dns.query", miner, []ev.Evidence{poolStrong}}}, None, nil},
		{"medium same process", []step{
			{"cryptochain.process.exec", miner, []ev.Evidence{minerStrong}},
			{"cryptochain.dns.query", miner, []ev.Evidence{poolStrong}},
		}, Medium, []ev.Group{ev.Miner, ev.Pool}},
		{"medium pool from descendant", []step{
			{"cryptochain.process.exec", miner, []ev.Evidence{minerStrong}},
			{"cryptochain.dns.query", child, []ev.Evidence{poolStrong}},
		}, Medium, []ev.Group{ev.Miner, ev.Pool}},
		{"medium miner from descendant", []step{
			{"cryptochain.dns.query", miner, []ev.Evidence{poolStrong}},
			{"cryptochain.process.exec", child, []ev.Evidence{minerStrong}},
		}, Medium, []ev.Group{ev.Miner, ev.Pool}},
		{"siblings of one shell are not a chain", []step{
			{"cryptochain.process.exec", grep, []ev.Evidence{minerStrong}},
			{"cryptochain.dns.query", dig, []ev.Evidence{poolStrong}},
		}, None, nil},
		{"unrelated processes are not a chain", []step{
			{"cryptochain.process.exec", miner, []ev.Evidence{minerStrong}},
			{"cryptochain.dns.query", other, []ev.Evidence{poolStrong}},
		}, None, nil},
		{"high", []step{
			{"cryptochain.process.exec", miner, []ev.Evidence{minerStrong}},
			{"cryptochain.dns.query", miner, []ev.Evidence{poolStrong}},
			{"cryptochain.file.write", other, []ev.Evidence{persist}},
		}, High, []ev.Group{ev.Miner, ev.Pool, ev.Persistence}},
		{"critical", []step{
			{"cryptochain.process.exec", miner, []ev.Evidence{minerStrong}},
			{"cryptochain.dns.query", miner, []ev.Evidence{poolStrong}},
			{"cryptochain.file.write", other, []ev.Evidence{persist}},
			{"cryptochain.sysctl.write", shell, []ev.Evidence{optim}},
		}, Critical, []ev.Group{ev.Miner, ev.Pool, ev.Persistence, ev.Optimization}},
		{"miner pool optimization is medium listing optimization", []step{
			{"cryptochain.sysctl.write", shell, []ev.Evidence{optim}},
			{"cryptochain.process.exec", miner, []ev.Evidence{minerStrong}},
			{"cryptochain.dns.query", miner, []ev.Evidence{poolStrong}},
		}, Medium, []ev.Group{ev.Miner, ev.Pool, ev.Optimization}},
		{"failed persistence does not count", []step{
			{"cryptochain.process.exec", miner, []ev.Evidence{minerStrong}},
			{"cryptochain.dns.query", miner, []ev.Evidence{poolStrong}},
			{"cryptochain.file.write", other, []ev.Evidence{persistFail}},
		}, Medium, []ev.Group{ev.Miner, ev.Pool}},
		{"failed optimization counts", []step{
			{"cryptochain.process.exec", miner, []ev.Evidence{minerStrong}},
			{"cryptochain.dns.query", miner, []ev.Evidence{poolStrong}},
			{"cryptochain.file.write", other, []ev.Evidence{persist}},
			{"cryptochain.file.open", miner, []ev.Evidence{optimFail}},
		}, Critical, []ev.Group{ev.Miner, ev.Pool, ev.Persistence, ev.Optimization}},
		{"one weak miner and a stratum port are not enough", []step{
			{"cryptochain.process.exec", miner, []ev.Evidence{minerName}},
			{"cryptochain.network.connect", miner, []ev.Evidence{poolWeak}},
		}, None, nil},
		{"two weak miner kinds and a stratum port from the miner", []step{
			{"cryptochain.process.exec", miner, []ev.Evidence{minerName, minerFlag}},
			{"cryptochain.network.connect", miner, []ev.Evidence{poolWeak}},
		}, Medium, []ev.Group{ev.Miner, ev.Pool}},
		{"two weak items of one kind are not enough", []step{
			{"cryptochain.process.exec", miner, []ev.Evidence{minerName, {Group: ev.Miner, Strength: ev.Weak, Kind: "miner_name", Indicator: "xmr-stak"}}},
			{"cryptochain.dns.query", miner, []ev.Evidence{poolStrong}},
		}, None, nil},
		{"weak pool from a process without miner evidence", []step{
			{"cryptochain.process.exec", miner, []ev.Evidence{minerStrong}},
			{"cryptochain.network.connect", child, []ev.Evidence{poolWeak}},
		}, None, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := newTracker()
			c := ctxFor(tr, "ctx")
			var last *Finding
			for i, s := range tt.steps {
				tr.add(c, event(s.name, s.p, time.Duration(i)*time.Second), s.evs)
				if f := tr.evaluate(c); f != nil {
					last = f
				}
			}
			if tt.want == None {
				assert.Nil(t, last)
				return
			}
			require.NotNil(t, last)
			assert.Equal(t, tt.want, last.Level)
			assert.Equal(t, tt.groups, last.Groups)
			for _, it := range last.Items {
				assert.Contains(t, tt.groups, it.Group)
			}
		})
	}
}

func TestEscalationOneFindingID(t *testing.T) {
	tr := newTracker()
	c := ctxFor(tr, "ctx")
	miner := proc{pid: 100, ancestors: []int64{1}}
	tr.add(c, event("cryptochain.process.exec", miner, 0), []ev.Evidence{minerStrong})
	require.Nil(t, tr.evaluate(c))
	tr.add(c, event("cryptochain.dns.query", miner, time.Second), []ev.Evidence{poolStrong})
	f1 := tr.evaluate(c)
	require.NotNil(t, f1)
	// The same evidence again: no new finding.
	tr.add(c, event("cryptochain.dns.query", miner, 2*time.Second), []ev.Evidence{poolStrong})
	assert.Nil(t, tr.evaluate(c))
	tr.add(c, event("cryptochain.file.write", miner, 3*time.Second), []ev.Evidence{persist})
	f2 := tr.evaluate(c)
	require.NotNil(t, f2)
	assert.Nil(t, tr.evaluate(c))
	tr.add(c, event("cryptochain.sysctl.write", miner, 4*time.Second), []ev.Evidence{optim})
	f3 := tr.evaluate(c)
	require.NotNil(t, f3)
	assert.Equal(t, []Level{Medium, High, Critical}, []Level{f1.Level, f2.Level, f3.Level})
	assert.Equal(t, f1.ID, f2.ID)
	assert.Equal(t, f1.ID, f3.ID)
	assert.Len(t, f1.ID, 36)
	// Nothing above Critical: more evidence never re-emits.
	tr.add(c, event("cryptochain.sysctl.write", miner, 5*time.Second), []ev.Evidence{{Group: ev.Optimization, Strength: ev.Strong, Kind: "msr"}})
	assert.Nil(t, tr.evaluate(c))
}

func TestLineageWithoutAncestors(t *testing.T) {
	tr := newTracker()
	key := []byte("ctx")
	h := HashKey(key)
	// Execs without ancestors feed the lineage cache before the context has any state.
	tr.observe(nil, h, &ev.Event{Name: "cryptochain.process.exec", Time: t0, PID: 10, PPID: 1})
	tr.observe(nil, h, &ev.Event{Name: "cryptochain.process.exec", Time: t0, PID: 11, PPID: 10})
	tr.observe(nil, h, &ev.Event{Name: "cryptochain.process.exec", Time: t0, PID: 12, PPID: 11})
	tr.observe(nil, h, &ev.Event{Name: "cryptochain.process.exec", Time: t0, PID: 13, PPID: 10})
	c := ctxFor(tr, "ctx")
	tr.add(c, &ev.Event{Name: "cryptochain.process.exec", Time: t0, PID: 11, PPID: 10}, []ev.Evidence{minerStrong})
	tr.add(c, &ev.Event{Name: "cryptochain.dns.query", Time: t0, PID: 13, PPID: 10}, []ev.Evidence{poolStrong})
	assert.Nil(t, tr.evaluate(c), "11 and 13 are siblings")
	tr.add(c, &ev.Event{Name: "cryptochain.dns.query", Time: t0, PID: 12, PPID: 11}, []ev.Evidence{poolStrong})
	f := tr.evaluate(c)
	require.NotNil(t, f, "12 is a child of 11")
	assert.Equal(t, Medium, f.Level)
}

func TestWindow(t *testing.T) {
	miner := proc{pid: 100, ancestors: []int64{1}}
	child := proc{pid: 101, ancestors: []int64{100, 1}}
	for _, tc := range []struct {
		name   string
		exited bool
		gap    time.Duration
		want   Level
	}{
		{"exited miner expires", true, 2 * time.Hour, None},
		{"running miner keeps its evidence", false, 2 * time.Hour, Medium},
		{"exited miner within the window", true, 30 * time.Minute, Medium},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTracker()
			c := ctxFor(tr, "ctx")
			tr.add(c, event("cryptochain.process.exec", miner, 0), []ev.Evidence{minerStrong})
			require.Nil(t, tr.evaluate(c))
			if tc.exited {
				tr.observe(c, c.Hash, event("cryptochain.process.exit", miner, time.Second))
			}
			tr.add(c, event("cryptochain.dns.query", child, tc.gap), []ev.Evidence{poolStrong})
			f := tr.evaluate(c)
			if tc.want == None {
				assert.Nil(t, f)
				return
			}
			require.NotNil(t, f)
			assert.Equal(t, tc.want, f.Level)
		})
	}
}

func TestLateRecordsCorrelate(t *testing.T) {
	tr := newTracker()
	c := ctxFor(tr, "ctx")
	miner := proc{pid: 100, ancestors: []int64{1}}
	tr.add(c, event("cryptochain.dns.query", miner, 50*time.Minute), []ev.Evidence{poolStrong})
	tr.observe(c, c.Hash, event("cryptochain.process.exit", miner, 55*time.Minute))
	// The exec arrives late (out of order) but within the window.
	tr.add(c, event("cryptochain.process.exec", miner, 0), []ev.Evidence{minerStrong})
	f := tr.evaluate(c)
	require.NotNil(t, f)
	assert.Equal(t, Medium, f.Level)
}

func TestSweepDropsEmptyContexts(t *testing.T) {
	tr := newTracker()
	a := ctxFor(tr, "a")
	tr.add(a, event("cryptochain.process.exec", proc{pid: 5}, 0), []ev.Evidence{minerStrong})
	tr.observe(a, a.Hash, event("cryptochain.process.exit", proc{pid: 5}, time.Second))
	b := ctxFor(tr, "b")
	tr.add(b, event("cryptochain.process.exec", proc{pid: 6}, 3*time.Hour), []ev.Evidence{minerStrong})
	tr.queue(a)
	tr.queue(b)
	tr.Saved(tr.TakeChanges()) // stored: dropping them must delete them
	assert.Equal(t, 1, tr.Sweep())
	assert.Equal(t, 1, tr.Len())
	assert.Equal(t, []string{"a"}, tr.removed)
}

func TestBounds(t *testing.T) {
	tr := New(Config{Window: time.Hour, MaxContexts: 2, MaxEvidence: 2})
	a := ctxFor(tr, "a")
	tr.add(a, event("cryptochain.process.exec", proc{pid: 5}, 0), []ev.Evidence{minerStrong, minerName, minerFlag})
	assert.Len(t, a.Items, 2)
	ctxFor(tr, "b")
	tr.lookup([]byte("a")) // a is now the most recently used
	ctxFor(tr, "c")        // evicts b
	evicted, dropped := tr.TakeCounters()
	assert.Equal(t, int64(1), evicted)
	assert.Equal(t, int64(1), dropped)
	assert.NotNil(t, tr.lookup([]byte("a")))
	assert.Nil(t, tr.lookup([]byte("b")))
	assert.Equal(t, 2, tr.Len())
}

func TestHalfChainsInTwoContexts(t *testing.T) {
	tr := newTracker()
	a, b := ctxFor(tr, "a"), ctxFor(tr, "b")
	p := proc{pid: 100, ancestors: []int64{1}}
	tr.add(a, event("cryptochain.process.exec", p, 0), []ev.Evidence{minerStrong})
	tr.add(b, event("cryptochain.dns.query", p, time.Second), []ev.Evidence{poolStrong, persist})
	assert.Nil(t, tr.evaluate(a))
	assert.Nil(t, tr.evaluate(b))
}

func TestCronRespawnLinksContexts(t *testing.T) {
	tr := newTracker()
	writer := ctxFor(tr, "writer")
	tr.add(writer, event("cryptochain.file.write", proc{pid: 50, ancestors: []int64{1}}, 0), []ev.Evidence{persist})
	assert.Nil(t, tr.evaluate(writer))

	// Cron starts `/bin/sh -c <command>` in a new context.
	respawn := &ev.Event{Name: "cryptochain.process.exec", Time: t0.Add(time.Minute), PID: 300, Ancestors: []int64{299, 1},
		Exe: "/bin/dash", Args: []string{"/bin/sh", "-c", "/tmp/.x/kworker --config /tmp/.x/c.json"},
		CmdLine: "/bin/sh -c /tmp/.x/kworker --config /tmp/.x/c.json"}
	require.True(t, tr.linkable([]byte("cron1"), respawn))
	assert.False(t, tr.linkable([]byte("writer"), respawn), "same context is no link")
	assert.False(t, tr.linkable([]byte("cron1"), &ev.Event{Name: "cryptochain.process.exec", Exe: "/usr/bin/crontab", Args: []string{"crontab", "-l"}}))
	c := ctxFor(tr, "cron1")
	require.Equal(t, 1, tr.linkRespawn(c, respawn))
	assert.Equal(t, 0, tr.linkRespawn(c, respawn), "linked once")

	// The re-spawned miner, started by exec of the written executable.
	miner := &ev.Event{Name: "cryptochain.process.exec", Time: t0.Add(time.Minute + time.Second), PID: 301, Ancestors: []int64{300, 299, 1},
		Exe: "/tmp/.x/kworker", Args: []string{"/tmp/.x/kworker", "--config", "/tmp/.x/c.json"}}
	tr.add(c, miner, []ev.Evidence{minerStrong})
	dns := *miner
	dns.Name = "dns.query"
	tr.add(c, &dns, []ev.Evidence{poolStrong})
	f := tr.evaluate(c)
	require.NotNil(t, f)
	assert.Equal(t, High, f.Level)
	var linked *Item
	for i := range f.Items {
		if f.Items[i].Group == ev.Persistence {
			linked = &f.Items[i]
		}
	}
	require.NotNil(t, linked)
	assert.Equal(t, "writer", linked.LinkedFrom)
	assert.Equal(t, "/etc/cron.d/x", linked.Path)
}

func TestRandomXConnectionIsPoolEvidence(t *testing.T) {
	tr := newTracker()
	key := []byte("ctx")
	h := HashKey(key)
	p := proc{pid: 100, ancestors: []int64{1}}
	// A renamed miner: nothing suspicious at exec; it connects to a bare IP on 443.
	tr.observe(nil, h, &ev.Event{Name: "cryptochain.network.connect", Time: t0, PID: 100, Address: "192.0.2.7", Port: 443, Transport: "tcp"})
	c := ctxFor(tr, "ctx")
	tr.add(c, event("cryptochain.process.fpu_rounding", p, 10*time.Second), []ev.Evidence{{Group: ev.Miner, Strength: ev.Strong, Kind: "randomx"}})
	f := tr.evaluate(c)
	require.NotNil(t, f)
	assert.Equal(t, Medium, f.Level)
	assert.Equal(t, "192.0.2.7:443", f.Items[1].Endpoint)

	// A connection after the RandomX event counts once it has lasted.
	tr2 := newTracker()
	c2 := ctxFor(tr2, "ctx")
	tr2.add(c2, event("cryptochain.process.fpu_rounding", p, 0), []ev.Evidence{{Group: ev.Miner, Strength: ev.Strong, Kind: "randomx"}})
	tr2.observe(c2, c2.Hash, &ev.Event{Name: "cryptochain.network.connect", Time: t0.Add(time.Second), PID: 100, Start: "t0", Address: "192.0.2.7", Port: 443, Transport: "tcp"})
	assert.Nil(t, tr2.evaluate(c2))
	tr2.observe(c2, c2.Hash, event("cryptochain.process.rename", proc{pid: 7}, time.Minute))
	f = tr2.evaluate(c2)
	require.NotNil(t, f)
	assert.Equal(t, Medium, f.Level)
}

func TestRandomXConnectionArrivingAfterTheRandomXEvent(t *testing.T) {
	// The connection was made first but its record is read after the RandomX record: it counts at
	// once, as it would have in order; a connection made after the RandomX event still has to last.
	tr := newTracker()
	c := ctxFor(tr, "ctx")
	p := proc{pid: 100, ancestors: []int64{1}}
	tr.add(c, event("cryptochain.process.fpu_rounding", p, 10*time.Second), []ev.Evidence{{Group: ev.Miner, Strength: ev.Strong, Kind: "randomx"}})
	tr.observe(c, c.Hash, &ev.Event{Name: "cryptochain.network.connect", Time: t0.Add(12 * time.Second), PID: 100, Start: "t0", Address: "192.0.2.9", Port: 443, Transport: "tcp"})
	assert.Nil(t, tr.evaluate(c), "a connection made after the RandomX event has not lasted yet")

	tr2 := newTracker()
	c2 := ctxFor(tr2, "ctx")
	tr2.add(c2, event("cryptochain.process.fpu_rounding", p, 10*time.Second), []ev.Evidence{{Group: ev.Miner, Strength: ev.Strong, Kind: "randomx"}})
	tr2.observe(c2, c2.Hash, &ev.Event{Name: "cryptochain.network.connect", Time: t0.Add(time.Second), PID: 100, Start: "t0", Address: "192.0.2.7", Port: 443, Transport: "tcp"})
	f := tr2.evaluate(c2)
	require.NotNil(t, f)
	assert.Equal(t, Medium, f.Level)
	assert.Equal(t, "192.0.2.7:443", f.Items[1].Endpoint)
}

func TestRandomXConnectionInContextWithState(t *testing.T) {
	// The context already holds evidence of another process when the renamed miner connects.
	tr := newTracker()
	c := ctxFor(tr, "ctx")
	tr.add(c, event("cryptochain.file.write", proc{pid: 50, ancestors: []int64{1}}, 0), []ev.Evidence{persist})
	p := proc{pid: 100, ancestors: []int64{1}}
	tr.observe(c, c.Hash, &ev.Event{Name: "cryptochain.network.connect", Time: t0.Add(time.Second), PID: 100, Start: "t0", Address: "192.0.2.7", Port: 443, Transport: "tcp"})
	tr.add(c, event("cryptochain.process.fpu_rounding", p, 10*time.Second), []ev.Evidence{{Group: ev.Miner, Strength: ev.Strong, Kind: "randomx"}})
	f := tr.evaluate(c)
	require.NotNil(t, f)
	assert.Equal(t, High, f.Level)
}

func TestContextTreeIndexFollowsEviction(t *testing.T) {
	tr := New(Config{Window: time.Hour, MaxContexts: 2, MaxEvidence: 16})
	mk := func(id, parent string) *Context {
		res := pcommon.NewResource()
		res.Attributes().PutStr("host.id", "h")
		res.Attributes().PutStr("cryptochain.context.id", id)
		if parent != "" {
			res.Attributes().PutStr("cryptochain.context.parent_id", parent)
		}
		return tr.create([]byte(id), res)
	}
	parent := mk("login:1", "")
	child := mk("daemonized:2", "login:1")
	child.Level = Medium
	assert.Equal(t, []*Context{child}, tr.descendants(parent))
	tr.lookup([]byte("login:1"))
	mk("other:3", "") // evicts the child (least recently used)
	assert.Empty(t, tr.descendants(parent))
	assert.Empty(t, tr.children)
	// Same id on another host is another context.
	res := pcommon.NewResource()
	res.Attributes().PutStr("host.id", "h2")
	res.Attributes().PutStr("cryptochain.context.parent_id", "login:1")
	other := tr.create([]byte("x"), res)
	other.Level = Medium
	assert.Empty(t, tr.descendants(parent))
}

// TestInheritedEvidenceFollowsChildClock: a parent context's persistence counts in a child while it
// would still count there: within the window of the child's newest record, or while its writer runs.
// A quiet parent is not expired by its own clock, so the child's clock decides.
func TestInheritedEvidenceFollowsChildClock(t *testing.T) {
	writer := proc{pid: 50, ancestors: []int64{1}}
	miner := proc{pid: 100, ancestors: []int64{1}}
	for _, tc := range []struct {
		name   string
		exited bool
		gap    time.Duration
		want   Level
	}{
		{"recent parent persistence", true, 30 * time.Minute, High},
		{"stale parent persistence of an exited writer", true, 2 * time.Hour, Medium},
		{"stale parent persistence of a running writer", false, 2 * time.Hour, High},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTracker()
			mk := func(id, parent string) *Context {
				res := pcommon.NewResource()
				res.Attributes().PutStr("cryptochain.context.id", id)
				if parent != "" {
					res.Attributes().PutStr("cryptochain.context.parent_id", parent)
				}
				return tr.create([]byte(id), res)
			}
			p := mk("login:1", "")
			tr.add(p, event("cryptochain.file.write", writer, 0), []ev.Evidence{persist})
			if tc.exited {
				tr.observe(p, p.Hash, event("cryptochain.process.exit", writer, time.Second))
			}
			c := mk("daemonized:2", "login:1")
			tr.add(c, event("cryptochain.process.exec", miner, tc.gap), []ev.Evidence{minerStrong})
			tr.add(c, event("cryptochain.dns.query", miner, tc.gap+time.Second), []ev.Evidence{poolStrong})
			f := tr.evaluate(c)
			require.NotNil(t, f)
			assert.Equal(t, tc.want, f.Level)
		})
	}
}

// TestBootParentIsNoSource: neither the boot context (by kind or by id) nor its ancestors feed a
// child, and new evidence in a boot context re-evaluates no child.
func TestBootParentIsNoSource(t *testing.T) {
	tr := newTracker()
	mk := func(id, kind, parent string) *Context {
		res := pcommon.NewResource()
		res.Attributes().PutStr("cryptochain.context.id", id)
		if kind != "" {
			res.Attributes().PutStr("cryptochain.context.kind", kind)
		}
		if parent != "" {
			res.Attributes().PutStr("cryptochain.context.parent_id", parent)
		}
		return tr.create([]byte(id), res)
	}
	other := proc{pid: 40, ancestors: []int64{1}}
	miner := proc{pid: 100, ancestors: []int64{1}}
	b := mk("cg:1", "boot", "")
	tr.add(b, event("cryptochain.file.write", other, 0), []ev.Evidence{persist, optimFail})
	c := mk("daemonized:2", "daemonized", "cg:1")
	tr.add(c, event("cryptochain.process.exec", miner, time.Second), []ev.Evidence{minerStrong})
	tr.add(c, event("cryptochain.dns.query", miner, 2*time.Second), []ev.Evidence{poolStrong})
	f := tr.evaluate(c)
	require.NotNil(t, f)
	assert.Equal(t, Medium, f.Level)
	assert.Equal(t, []ev.Group{ev.Miner, ev.Pool}, f.Groups)
	assert.Empty(t, tr.descendants(b))
	assert.True(t, b.Boot)
	assert.False(t, c.Boot)
}

// TestChainInBootContext: in a boot catch-all context, Persistence and Optimization count only from
// the chain's process line (the miner, its ancestors) and the miner's descendants; other processes
// of the cgroup are unrelated however close in time.
func TestChainInBootContext(t *testing.T) {
	for _, kind := range []string{"boot", ""} {
		tr := newTracker()
		res := pcommon.NewResource()
		res.Attributes().PutStr("cryptochain.context.id", "boot:7")
		if kind != "" {
			res.Attributes().PutStr("cryptochain.context.kind", kind)
		}
		b := tr.create([]byte("boot:7"), res)
		shell := proc{pid: 10, ancestors: []int64{1}}
		miner := proc{pid: 100, ancestors: []int64{10, 1}}
		child := proc{pid: 101, ancestors: []int64{100, 10, 1}}
		admin := proc{pid: 40, ancestors: []int64{1}}
		tr.add(b, event("cryptochain.file.open", admin, 0), []ev.Evidence{optimFail})
		tr.add(b, event("cryptochain.file.write", admin, time.Second), []ev.Evidence{persist})
		tr.add(b, event("cryptochain.process.exec", miner, 2*time.Second), []ev.Evidence{minerStrong})
		tr.add(b, event("cryptochain.dns.query", miner, 3*time.Second), []ev.Evidence{poolStrong})
		f := tr.evaluate(b)
		require.NotNil(t, f)
		assert.Equal(t, Medium, f.Level)
		assert.Equal(t, []ev.Group{ev.Miner, ev.Pool}, f.Groups)
		tr.add(b, event("cryptochain.sysctl.write", child, 4*time.Second), []ev.Evidence{optim})
		assert.Nil(t, tr.evaluate(b), "optimization alone stays Medium")
		tr.add(b, event("cryptochain.file.write", shell, 5*time.Second), []ev.Evidence{persist})
		f = tr.evaluate(b)
		require.NotNil(t, f, "the shell that started the miner writes the crontab")
		assert.Equal(t, Critical, f.Level, "the miner's child tuned the host")
		for _, it := range f.Items {
			assert.NotEqual(t, int64(40), it.PID, "the admin's evidence is not the chain's")
		}
	}
}

func TestExecInPlaceTakesTheNewImage(t *testing.T) {
	// A web shell's `exec ./xmrig …`: same pid and start, new executable and hash.
	tr := newTracker()
	c := ctxFor(tr, "ctx")
	p := proc{pid: 100, ancestors: []int64{1}}
	sh := event("cryptochain.process.exec", p, 0)
	sh.Exe, sh.ExeHash = "/bin/sh", "shellhash"
	tr.add(c, sh, []ev.Evidence{{Group: ev.Pool, Strength: ev.Strong, Kind: "pool_url", Indicator: "stratum+tcp://pool.example:3333", Endpoint: "pool.example:3333"}})
	miner := event("cryptochain.process.exec", p, time.Second)
	miner.Exe, miner.ExeHash = "/tmp/.x/xmrig", "minerhash"
	tr.add(c, miner, []ev.Evidence{minerName})
	got := c.proc(100, sh.Start)
	require.NotNil(t, got)
	assert.Equal(t, "/tmp/.x/xmrig", got.Exe)
	assert.Equal(t, "minerhash", got.ExeHash)

	// An exec without a hash (not hashed: budget, unreadable) does not keep the shell's.
	again := event("cryptochain.process.exec", p, 2*time.Second)
	again.Exe = "/tmp/.y/other"
	tr.add(c, again, []ev.Evidence{minerFlag})
	assert.Equal(t, "", c.proc(100, sh.Start).ExeHash)

	// Records other than exec (which carry no hash) keep what the exec said.
	conn := event("cryptochain.network.connect", p, 3*time.Second)
	conn.Exe = "/bin/sh"
	tr.add(c, conn, []ev.Evidence{poolWeak})
	assert.Equal(t, "/tmp/.y/other", c.proc(100, sh.Start).Exe)
}
