package chain

import (
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/evidence"
)

// Ref is a context key resolved once for the records of one resource: its context once one exists,
// and the key's hash once needed. It is valid while those records are handled (the tracker is not
// swept in between); key and res must stay unchanged meanwhile.
type Ref struct {
	key  []byte
	res  pcommon.Resource
	c    *Context
	hash uint64
}

// Resolve looks up the context of key, marking it recently used: the resource of a batch arrived.
func (t *Tracker) Resolve(key []byte, res pcommon.Resource) Ref {
	return Ref{key: key, res: res, c: t.lookup(key)}
}

// Active reports whether the context holds state. An exit only matters to such a context.
func (r *Ref) Active() bool { return r.c != nil }

// Ingest feeds one decoded record and the evidence the classifier found in it (possibly none) into
// the context of r. It returns the findings the record completes, usually none; the slice is reused
// by the next call. Changed contexts are kept for TakeChanges.
func (t *Tracker) Ingest(r *Ref, ev *evidence.Event, evs []evidence.Evidence) []*Finding {
	t.found = t.found[:0]
	c := r.c
	hash := r.hash
	if c != nil {
		hash = c.Hash
	} else if hash == 0 {
		hash = HashKey(r.key)
		r.hash = hash
	}
	// An exec of a command another context wrote into a persistence location carries that
	// context's persistence evidence, even when the exec itself is benign (cron's /bin/sh -c).
	linkable := ev.Name == contract.EventExec && t.linkable(r.key, ev)
	if !linkable && ev.Name == contract.EventExec && respawnCandidate(ev, len(evs) > 0) {
		// The persistence it runs may arrive later (read-back, reordering): kept for OrderWindow.
		t.pending.remember(r.key, parentGroup(r.key, r.res), len(evs) > 0, ev, t.maxTime, t.contexts)
	}
	if len(evs) == 0 && !linkable {
		if t.observe(c, hash, ev) {
			t.report(c)
			t.account(c, false)
			t.enforce(c)
		}
		if c != nil {
			t.queue(c)
		}
		return t.found
	}
	if c == nil {
		c = t.create(r.key, r.res)
		r.c = c
	}
	added := 0
	if len(c.Items) == 0 {
		added += t.linkCreated(c)
	}
	if linkable {
		added += t.linkRespawn(c, ev)
	}
	added += t.add(c, ev, evs)
	if len(t.links.fresh) > 0 {
		t.resolveLate()
	}
	if added > 0 {
		t.report(c)
		// Persistence or tuning in a context may escalate the chains of contexts opened from it
		// (a miner started with nohup from the session that writes the crontab).
		for i := range evs {
			if g := evs[i].Group; (g == evidence.Persistence || g == evidence.Optimization || g == evidence.Concealment) && !evs[i].Delegated {
				for _, d := range t.descendants(c) {
					t.report(d)
					t.account(d, false)
					t.queue(d)
				}
				break
			}
		}
	}
	t.queue(c)
	t.account(c, false)
	t.enforce(c)
	return t.found
}

// report evaluates c and keeps the finding, if any, for the caller of Ingest.
func (t *Tracker) report(c *Context) {
	if f := t.evaluate(c); f != nil {
		t.found = append(t.found, f)
	}
}

// queue remembers a changed context for the next TakeChanges.
func (t *Tracker) queue(c *Context) {
	if !c.dirty || c.queued {
		return
	}
	c.queued = true
	c.qidx = int32(len(t.changed))
	t.changed = append(t.changed, c)
}

// unqueue takes a dropped context out of the changes, so the queue never keeps it alive.
func (t *Tracker) unqueue(c *Context) {
	if !c.queued {
		return
	}
	last := t.changed[len(t.changed)-1]
	t.changed[c.qidx] = last
	last.qidx = c.qidx
	t.changed[len(t.changed)-1] = nil
	t.changed = t.changed[:len(t.changed)-1]
	c.queued = false
}

// Changes is what changed in the state since the last TakeChanges: what a store writes and deletes.
// Its slices are reused by the next TakeChanges.
type Changes struct {
	Contexts     []*Context // changed contexts, each once
	Removed      []string   // keys of contexts dropped (evicted or expired) of which a copy was saved
	Tombs        []*Context // tombstones buried or changed (tombstone.go)
	TombsRemoved []string   // keys of tombstones dropped or revived of which a copy was saved
	links        *links     // set when the remembered persistence commands changed
}

// Links returns the remembered persistence commands, oldest first, when they changed (nil, false
// otherwise). It is computed on demand: a tracker without a store never pays for it.
func (ch Changes) Links() ([]Link, bool) {
	if ch.links == nil {
		return nil, false
	}
	return ch.links.snapshot(), true
}

// TakeChanges returns the changes since the last call and starts collecting anew.
func (t *Tracker) TakeChanges() Changes {
	ch := Changes{Contexts: t.changed, Removed: t.removed, TombsRemoved: t.tombsRemoved}
	for _, tc := range t.tombChanged {
		tc.queued = false
		if t.tombs.m[tc.Key] == tc { // not dropped or revived since
			ch.Tombs = append(ch.Tombs, tc)
		}
	}
	t.tombChanged, t.tombsRemoved = nil, nil
	if t.links.dirty {
		t.links.dirty = false
		ch.links = t.links
	}
	for _, c := range t.changed {
		c.queued = false
		c.dirty = false
	}
	// The caller reads the returned slices before the next call; their backing arrays are reused.
	clear(t.spare)
	t.changed, t.spare = t.spare[:0], t.changed
	t.removed, t.spareRemoved = t.spareRemoved[:0], t.removed
	return ch
}
