package chain

import (
	"slices"
	"time"
)

// A finding counts as reported only once the next consumer accepted it: evaluation marks the level
// sent (Context.Sent), Accepted makes it the reported level (Context.Level, what is stored and what
// later escalations are measured against), Refused puts the context up for Retry, which evaluates
// it again and so offers the finding (with what the chain holds by then) once more, with backoff,
// at most maxDeliveryAttempts times.

const (
	maxDeliveryAttempts = 10
	firstRetryDelay     = time.Second
	maxRetryDelay       = time.Minute
)

type retryState struct {
	attempts int
	due      int64 // wall clock (Unix ns) from which Retry offers it; waiting for a verdict: MaxInt64
}

const waiting = int64(^uint64(0) >> 1)

// Accepted records that the next consumer accepted the finding of the context with this key at
// this level.
func (t *Tracker) Accepted(key string, level Level) {
	if st, ok := t.retry[key]; ok && st.due == waiting {
		delete(t.retry, key) // the verdict on the offer Retry made; another refusal stays due
	}
	if c := t.contexts[key]; c != nil {
		if level > c.Level {
			c.Level = level
			c.dirty = true
			t.queue(c)
			t.account(c, false)
		}
		c.Sent = max(c.Sent, c.Level)
		return
	}
	if tc := t.tombs.m[key]; tc != nil && level > tc.Level {
		tc.Level = level
		tc.Sent = max(tc.Sent, level)
		t.queueTomb(tc)
	}
}

// Refused records that the next consumer refused the finding of the context with this key at this
// level; now is the wall clock (Unix ns). It returns false when the finding is given up (refused
// maxDeliveryAttempts times in a row): the context reports again on its next evidence.
func (t *Tracker) Refused(key string, level Level, now int64) bool {
	c := t.contexts[key]
	if c == nil {
		c = t.tombs.m[key]
	}
	if c != nil && c.Sent <= level {
		c.Sent = c.Level // nothing outstanding: evaluation may emit it again
		c.refusedUpdate()
		if t.contexts[key] == c {
			t.account(c, false)
		}
	}
	st := t.retry[key]
	st.attempts++
	if st.attempts >= maxDeliveryAttempts || c == nil {
		delete(t.retry, key)
		return false
	}
	delay := min(firstRetryDelay<<(st.attempts-1), maxRetryDelay)
	st.due = now + int64(delay)
	t.retry[key] = st
	return true
}

// RetryPending reports whether some context waits for Retry.
func (t *Tracker) RetryPending() bool { return len(t.retry) > 0 }

// Retry evaluates the contexts whose finding is due to be offered again at now (wall clock, Unix
// ns) and returns the findings to emit (valid until the next Retry or Ingest). A context evicted
// meanwhile comes back from its tombstone.
func (t *Tracker) Retry(now int64) []*Finding {
	t.found = t.found[:0]
	if len(t.retry) == 0 {
		return t.found
	}
	keys := make([]string, 0, len(t.retry))
	for k, st := range t.retry {
		if st.due <= now {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys) // a stable order of findings
	for _, k := range keys {
		c := t.contexts[k]
		if c == nil {
			c = t.reviveStored(k)
		}
		if c == nil {
			delete(t.retry, k)
			continue
		}
		n := len(t.found)
		t.report(c)
		t.account(c, false)
		t.queue(c)
		if len(t.found) == n {
			delete(t.retry, k) // nothing beyond what was accepted: nothing to offer
			continue
		}
		st := t.retry[k]
		st.due = waiting
		t.retry[k] = st
	}
	return t.found
}
