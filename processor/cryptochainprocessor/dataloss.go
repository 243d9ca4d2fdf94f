package cryptochainprocessor // import "github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor"

import (
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
)

// maxLossContexts bounds the contexts whose suppressions are remembered; beyond it the one
// suppressed longest ago is forgotten first.
const maxLossContexts = 4096

// lossTracker remembers, for one chain window, where the input of a finding may be incomplete: the
// contexts whose repeated records the receiver summarised (cryptochain.suppressed), and when records
// of no known context were lost (cryptochain.data_loss). It does not judge anything: it only marks
// the findings emitted meanwhile with cryptochain.finding.data_loss.
type lossTracker struct {
	window     time.Duration
	keys       []string // context_keys
	lastRing   time.Time
	suppressed map[string]suppression
	buf        []byte
}

type suppression struct {
	last  time.Time
	count int64
}

func newLossTracker(window time.Duration, keys []string) *lossTracker {
	return &lossTracker{window: window, keys: keys, suppressed: map[string]suppression{}}
}

// observe takes a loss or suppression record and reports whether lr was one. now is the batch's
// wall clock: loss is judged by when it arrived, as findings are.
func (l *lossTracker) observe(lr plog.LogRecord, res pcommon.Resource, now time.Time) bool {
	switch lr.EventName() {
	case contract.EventDataLoss:
		l.lastRing = now
		return true
	case contract.EventSuppressed:
		n := int64(1)
		if v, ok := lr.Attributes().Get(contract.AttrSuppressedCount); ok && v.Type() == pcommon.ValueTypeInt && v.Int() > 0 {
			n = v.Int()
		}
		l.buf = appendContextKey(l.buf[:0], l.keys, res)
		s, ok := l.suppressed[string(l.buf)]
		if !ok && len(l.suppressed) >= maxLossContexts {
			l.forgetOldest(now)
		}
		s.last = now
		s.count += n
		l.suppressed[string(l.buf)] = s
		return true
	}
	return false
}

// forgetOldest drops every suppression older than the window, or else the oldest one.
func (l *lossTracker) forgetOldest(now time.Time) {
	var oldest string
	var at time.Time
	for k, s := range l.suppressed {
		if now.Sub(s.last) > l.window {
			delete(l.suppressed, k)
			continue
		}
		if oldest == "" || s.last.Before(at) {
			oldest, at = k, s.last
		}
	}
	if len(l.suppressed) >= maxLossContexts {
		delete(l.suppressed, oldest)
	}
}

// annotate marks a finding of the context of res, emitted at now, when its window saw loss:
// ring_loss when records of unknown context were lost within the window (every finding of that
// time is marked, as the lost records could have been anyone's), suppressed with the count when
// its own context's repeats were summarised.
func (l *lossTracker) annotate(lr plog.LogRecord, res pcommon.Resource, now time.Time) {
	ring := !l.lastRing.IsZero() && now.Sub(l.lastRing) <= l.window
	var sup suppression
	if len(l.suppressed) > 0 {
		l.buf = appendContextKey(l.buf[:0], l.keys, res)
		if s, ok := l.suppressed[string(l.buf)]; ok && now.Sub(s.last) <= l.window {
			sup = s
		}
	}
	if !ring && sup.count == 0 {
		return
	}
	a := lr.Attributes()
	reasons := a.PutEmptySlice(contract.AttrFindingDataLoss)
	if ring {
		reasons.AppendEmpty().SetStr(contract.DataLossRing)
	}
	if sup.count > 0 {
		reasons.AppendEmpty().SetStr(contract.DataLossSuppressed)
		a.PutInt(contract.AttrFindingSuppressedCount, sup.count)
	}
}
