package chain

import (
	"math"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/evidence"
)

// What the store needs beyond TakeChanges: a save is only done when it succeeded (Saved); a failed
// one is handed back (Requeue) and written again by a later save, deletes included.

// Saved records that the changes ch, taken by the last TakeChanges, are stored.
func (t *Tracker) Saved(ch Changes) {
	for _, c := range ch.Contexts {
		if t.contexts[c.Key] == c {
			c.saved = true
		}
	}
	for _, tc := range ch.Tombs {
		if t.tombs.m[tc.Key] == tc {
			tc.saved = true
		}
	}
}

// Requeue hands back the changes ch, taken by the last TakeChanges, whose save failed: the next
// TakeChanges returns them again (merged with what changed since).
func (t *Tracker) Requeue(ch Changes) {
	for _, c := range ch.Contexts {
		if t.contexts[c.Key] == c {
			c.dirty = true
			t.queue(c)
		}
	}
	for _, tc := range ch.Tombs {
		if t.tombs.m[tc.Key] == tc {
			t.queueTomb(tc)
		}
	}
	t.removed = appendMissing(t.removed, ch.Removed)
	t.tombsRemoved = appendMissing(t.tombsRemoved, ch.TombsRemoved)
	if ch.links != nil {
		t.links.dirty = true
	}
}

// appendMissing appends the keys of add not in dst. While the store fails, deletes accumulate at
// most once per stored key.
func appendMissing(dst, add []string) []string {
	if len(add) == 0 {
		return dst
	}
	seen := make(map[string]struct{}, len(dst))
	for _, k := range dst {
		seen[k] = struct{}{}
	}
	for _, k := range add {
		if _, ok := seen[k]; !ok {
			seen[k] = struct{}{}
			dst = append(dst, k)
		}
	}
	return dst
}

// PendingSaves returns how many context and tombstone writes and deletes wait for the next save.
func (t *Tracker) PendingSaves() int {
	return len(t.changed) + len(t.removed) + len(t.tombChanged) + len(t.tombsRemoved)
}

// maxRestoredProcs bounds the processes a restored context keeps.
const maxRestoredProcs = 256

// sanitize bounds what a stored context may hold, whatever the store returned: the bounds a live
// context has (evidence per context, field sizes, levels, groups), no nil origin.
func (t *Tracker) sanitize(c *Context) {
	c.Level = min(c.Level, Critical)
	c.Sent = None
	c.ID = bound(c.ID)
	c.FindingID = clipTo(c.FindingID, 64)
	if t.cfg.MaxEvidence > 0 && len(c.Items) > t.cfg.MaxEvidence {
		c.Items = c.Items[:t.cfg.MaxEvidence]
	}
	if len(c.Procs) > maxRestoredProcs {
		c.Procs = c.Procs[:maxRestoredProcs]
	}
	n := 0
	for i := range c.Items {
		it := c.Items[i]
		if it.Group >= evidence.NumGroups {
			continue
		}
		if it.Strength != evidence.Strong {
			it.Strength = evidence.Weak
		}
		e := &it.Evidence
		e.Kind, e.Indicator, e.Source, e.Endpoint = bound(e.Kind), bound(e.Indicator), bound(e.Source), bound(e.Endpoint)
		e.Wallet, e.Path, e.Action, e.Command = bound(e.Wallet), bound(e.Path), bound(e.Action), bound(e.Command)
		if it.Origin == nil {
			it.Origin = &Origin{}
		} else if i == 0 || c.Items[i-1].Origin != it.Origin {
			o := it.Origin
			o.Start, o.Exe, o.CmdLine, o.LinkedFrom = bound(o.Start), bound(o.Exe), bound(o.CmdLine), bound(o.LinkedFrom)
		}
		c.Items[n] = it
		n++
	}
	clear(c.Items[n:])
	c.Items = c.Items[:n]
	for i := range c.Procs {
		p := &c.Procs[i]
		p.Start, p.Exe, p.ConnAddr = bound(p.Start), bound(p.Exe), bound(p.ConnAddr)
		p.ExeHash = evidence.SHA256Hex(p.ExeHash)
		p.Ancestors = clipAncestors(p.Ancestors)
		if math.IsNaN(p.CPU) || math.IsInf(p.CPU, 0) || p.CPU < 0 {
			p.CPU, p.HasCPU = 0, false
		}
	}
}

func decodedResource(b []byte) (pcommon.Resource, error) {
	res := pcommon.NewResource()
	return res, DecodeResource(b, res)
}

// Snapshot returns the open contexts, to inspect (not to change) what the store should hold.
func (t *Tracker) Snapshot() []*Context {
	out := make([]*Context, 0, len(t.contexts))
	t.each(func(c *Context) { out = append(out, c) })
	return out
}

// TombSnapshot returns the tombstones, to inspect (not to change) what the store should hold.
func (t *Tracker) TombSnapshot() []*Context {
	out := make([]*Context, 0, len(t.tombs.m))
	for tc := t.tombs.list.head; tc != nil; tc = tc.next {
		out = append(out, tc)
	}
	return out
}
