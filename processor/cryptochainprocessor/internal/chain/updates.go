package chain

import (
	"slices"
	"strings"
	"time"
)

// An update (a reported chain's new response facts, evaluate) waits until UpdateInterval of record
// time has passed since the chain's last finding, so a flood of new pids or paths gives one record per
// interval, not one per event. It is sent by the first evaluation after that, by DueUpdates once
// records show the time has passed, or, when no records come, once the same span has passed on the
// wall clock.

// DefaultUpdateInterval is the least time between two findings of a chain that only add response facts.
const DefaultUpdateInterval = 5 * time.Second

// hold marks c as having an update waiting.
func (t *Tracker) hold(c *Context) {
	if c.held {
		return
	}
	c.held = true
	t.held[c] = 0 // wall-clock deadline set by the next DueUpdates
}

// release forgets a waiting update of c (sent, or nothing left to send).
func (t *Tracker) release(c *Context) {
	if !c.held {
		return
	}
	c.held = false
	c.coalesced = 0
	delete(t.held, c)
}

// UpdatesHeld reports whether some chain has an update waiting.
func (t *Tracker) UpdatesHeld() bool { return len(t.held) > 0 }

// DueUpdates evaluates the chains whose waiting update is due at wall clock now (Unix ns) and returns
// the findings to emit (valid until the next DueUpdates, Retry or Ingest). An update is due once the
// newest record time seen passed the chain's last finding by UpdateInterval, or once the wall clock
// passed the time left then, counted from the first DueUpdates that saw it waiting.
func (t *Tracker) DueUpdates(now int64) []*Finding {
	t.found = t.found[:0]
	if len(t.held) == 0 {
		return t.found
	}
	var due []*Context
	for c, wall := range t.held {
		left := c.reportedAt + int64(t.cfg.UpdateInterval) - t.maxTime
		switch {
		case left <= 0 || (wall != 0 && now >= wall):
			due = append(due, c)
		case wall == 0:
			t.held[c] = now + min(left, int64(t.cfg.UpdateInterval))
		}
	}
	slices.SortFunc(due, func(a, b *Context) int { return strings.Compare(a.Key, b.Key) }) // a stable order
	for _, c := range due {
		if t.contexts[c.Key] != c {
			t.release(c)
			continue
		}
		c.flush = true
		t.report(c)
		t.release(c) // sent, or nothing left to send
		t.account(c, false)
		t.queue(c)
	}
	return t.found
}

// refusedUpdate puts back what c had reported before its last finding, so that evaluation offers
// the refused facts and concealment again.
func (c *Context) refusedUpdate() {
	c.Facts, c.Concealed, c.reportedAt = c.prevFacts, c.prevConcealed, c.prevReportedAt
}

// seedFacts sets the facts of a context restored or revived without them to those it holds now: its
// finding was emitted before, and only what comes after it is new.
func (t *Tracker) seedFacts(c *Context) {
	if c.FindingID == "" || c.Facts != nil {
		return
	}
	items := c.Items
	if c.ParentID != 0 {
		if extra := t.inherited(c); len(extra) > 0 {
			items = append(c.Items[:len(c.Items):len(c.Items)], extra...)
		}
	}
	_, sel, _ := rule(c, items, t.ancestorsFunc(c))
	t.facts = responseFacts(c, items, sel, t.facts[:0])
	c.Facts = factHashes(t.facts, []uint64{})
}
