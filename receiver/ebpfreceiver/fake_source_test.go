package ebpfreceiver

import (
	"context"
	"errors"
	"sync"

	"go.uber.org/zap"

	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/event"
)

// fakeSource replays events handed to it through push, like the kernel source would.
type fakeSource struct {
	mu       sync.Mutex
	opts     event.Options
	startErr error
	runErr   error
	started  bool
	closed   bool
	stats    event.Stats
	ch       chan *event.Event
	done     chan struct{}
	once     sync.Once
}

func newFakeSource() *fakeSource {
	return &fakeSource{ch: make(chan *event.Event, 1024), done: make(chan struct{})}
}

func (f *fakeSource) factory() sourceFactory {
	return func(opts event.Options, _ *zap.Logger) (event.Source, error) {
		f.opts = opts
		return f, nil
	}
}

func (f *fakeSource) Start() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.startErr != nil {
		return f.startErr
	}
	f.started = true
	return nil
}

func (f *fakeSource) Run(ctx context.Context, fn func(*event.Event)) error {
	if f.runErr != nil {
		return f.runErr
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-f.done:
			return nil
		case ev := <-f.ch:
			fn(ev)
		}
	}
}

func (f *fakeSource) Stats() event.Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stats
}

func (f *fakeSource) Close() error {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
	f.once.Do(func() { close(f.done) })
	return nil
}

func (f *fakeSource) push(evs ...*event.Event) {
	for _, ev := range evs {
		f.ch <- ev
	}
}

func (f *fakeSource) addLost(k event.Kind, n uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stats.Lost[k] += n
}

var errFakeStart = errors.New("missing CAP_BPF: run as root or grant CAP_BPF, CAP_PERFMON and CAP_SYS_RESOURCE")
