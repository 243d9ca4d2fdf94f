package ebpfreceiver // import "github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver"

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.uber.org/zap"
)

// Refused data: a batch the next consumer refuses with a non-permanent error (memory_limiter under
// pressure, an exporter queue that is full) is tried again with exponential backoff for at most
// retryFor; batches made meanwhile wait in a queue of sendQueue batches, the oldest dropped when it
// is full (the kernel ring must keep being read). Every dropped record is counted
// (otelcol_ebpf_records_dropped) and warned about at most once per dropWarnEvery.
const (
	sendQueue     = 16
	retryFirst    = 100 * time.Millisecond
	retryMax      = 2 * time.Second
	retryFor      = 30 * time.Second
	dropWarnEvery = 10 * time.Second
)

type batch struct {
	ld plog.Logs
	n  int
}

// sender hands batches to the next consumer in order, from one goroutine.
type sender struct {
	r     *ebpfReceiver
	queue chan batch
	// retry bounds, shortened by tests
	first, most, total time.Duration

	mu       sync.Mutex
	lastWarn time.Time
	unwarned int64 // records dropped since the last warning
}

func newSender(r *ebpfReceiver) *sender {
	return &sender{r: r, queue: make(chan batch, sendQueue), first: retryFirst, most: retryMax, total: retryFor}
}

// enqueue queues a batch without blocking; when the queue is full the oldest batch is dropped.
func (s *sender) enqueue(b batch) {
	for {
		select {
		case s.queue <- b:
			return
		default:
		}
		select {
		case old := <-s.queue:
			s.dropped(old.n, "send queue full", nil)
		default:
		}
	}
}

// run sends queued batches until ctx is done; what is still queued is left for drain.
func (s *sender) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case b := <-s.queue:
			s.deliver(ctx, b)
		}
	}
}

// drain sends what is still queued, each batch once (at shutdown).
func (s *sender) drain(ctx context.Context) {
	for {
		select {
		case b := <-s.queue:
			if err := s.r.consume(ctx, b); err != nil {
				s.dropped(b.n, "shutting down", err)
			}
		default:
			return
		}
	}
}

// deliver sends one batch, retrying non-permanent refusals with backoff for at most s.total; a
// shutdown during the wait makes one last attempt.
func (s *sender) deliver(ctx context.Context, b batch) {
	send := context.WithoutCancel(ctx)
	wait, deadline := s.first, time.Now().Add(s.total)
	for {
		err := s.r.consume(send, b)
		switch {
		case err == nil:
			return
		case consumererror.IsPermanent(err):
			s.dropped(b.n, "refused permanently", err)
			return
		case time.Now().Add(wait).After(deadline):
			s.dropped(b.n, "still refused after retrying", err)
			return
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			if err := s.r.consume(send, b); err != nil {
				s.dropped(b.n, "shutting down", err)
			}
			return
		}
		wait = min(2*wait, s.most)
	}
}

// dropped counts n dropped records and warns, at most once per dropWarnEvery.
func (s *sender) dropped(n int, why string, err error) {
	s.r.tb.EbpfRecordsDropped.Add(context.Background(), int64(n))
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unwarned += int64(n)
	if now := time.Now(); now.Sub(s.lastWarn) >= dropWarnEvery {
		s.r.set.Logger.Warn("ebpf records dropped: the next consumer did not take them",
			zap.Int64("records", s.unwarned), zap.String("reason", why), zap.Error(err))
		s.lastWarn, s.unwarned = now, 0
	}
}
