package readback

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Result is the outcome of one read.
type Result struct {
	Content []byte
	Status  string // a Status* value
	Root    string // RootWriter or RootHost; "" when nothing was read
}

// reader reads files with a time limit: a lookup or read that hangs (a stalled FUSE or network
// mount) is left behind after timeout, and while maxHung of them hang every read gives up at once.
type reader struct {
	timeout  time.Duration
	readFn   func(rootfd int, p string, n int, owner int64) ([]byte, string) // readIn; tests replace it
	hung     atomic.Int32                                                    // reads started and not yet returned
	timeouts atomic.Uint64
}

// read reads at most n bytes of p inside root (see readIn).
func (r *reader) read(root *Root, p string, n int, owner int64) Result {
	if root == nil {
		return Result{Status: StatusGone}
	}
	if r.hung.Load() >= maxHung {
		r.timeouts.Add(1)
		return Result{Status: StatusTimeout, Root: root.Via}
	}
	fd, err := root.dup()
	if err != nil {
		return Result{Status: StatusError}
	}
	done := make(chan Result, 1)
	r.hung.Add(1)
	go func() {
		defer r.hung.Add(-1)
		b, st := r.readFn(fd, p, n, owner)
		closeFd(fd)
		done <- Result{Content: b, Status: st, Root: root.Via}
	}()
	t := time.NewTimer(r.timeout)
	defer t.Stop()
	select {
	case res := <-done:
		if res.Status != StatusOK {
			res.Content = nil
		}
		return res
	case <-t.C:
		r.timeouts.Add(1)
		return Result{Status: StatusTimeout, Root: root.Via}
	}
}

// queue runs read-back jobs off the event path, in the order they were offered, each not before its
// due time. Offering never blocks: a full queue refuses the job, and so does a user other than root
// who already has perUser jobs queued (one user's flood cannot push out another's reads).
type queue struct {
	jobs    chan *job
	perUser int
	mu      sync.Mutex
	users   map[uint32]int // queued jobs per unprivileged user
}

type job struct {
	uid     uint32 // the acting user; 0 is not limited
	due     time.Time
	run     func(now time.Time) // reads and emits
	release func()              // frees what the job holds (its root); called exactly once
}

func newQueue(size int) *queue {
	return &queue{jobs: make(chan *job, size), perUser: max(1, size/8), users: map[uint32]int{}}
}

// offer queues j and says whether it was taken; a refused job is released here.
func (q *queue) offer(j *job) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if j.uid != 0 && q.users[j.uid] >= q.perUser {
		j.release()
		return false
	}
	select {
	case q.jobs <- j:
		if j.uid != 0 {
			q.users[j.uid]++
		}
		return true
	default:
		j.release()
		return false
	}
}

// finish runs j and frees it.
func (q *queue) finish(j *job) {
	j.run(time.Now())
	j.release()
	if j.uid != 0 {
		q.mu.Lock()
		if q.users[j.uid]--; q.users[j.uid] <= 0 {
			delete(q.users, j.uid)
		}
		q.mu.Unlock()
	}
}

// run works through the queue with n workers until ctx is done, then runs what is still queued
// at once (a shutdown still reports what it had accepted) and returns.
func (q *queue) run(ctx context.Context, n int) {
	done := make(chan struct{})
	for range n {
		go func() {
			defer func() { done <- struct{}{} }()
			for {
				select {
				case <-ctx.Done():
					return
				case j := <-q.jobs:
					if wait := time.Until(j.due); wait > 0 {
						t := time.NewTimer(wait)
						select {
						case <-ctx.Done():
							t.Stop()
						case <-t.C:
						}
					}
					q.finish(j)
				}
			}
		}()
	}
	for range n {
		<-done
	}
	for {
		select {
		case j := <-q.jobs:
			q.finish(j)
		default:
			return
		}
	}
}

// Worker is the read-back machinery the persistence and config-file reads share: one bounded
// queue and its workers, one time-limited reader.
type Worker struct {
	q  *queue
	rd reader
}

// NewWorker returns a worker with the default bounds (QueueSize, ReadTimeout).
func NewWorker() *Worker { return newWorker(QueueSize, ReadTimeout) }

func newWorker(size int, timeout time.Duration) *Worker {
	return &Worker{q: newQueue(size), rd: reader{timeout: timeout, readFn: readIn}}
}

// Run reads until ctx is done, then reads what is still queued without waiting and returns.
func (w *Worker) Run(ctx context.Context) { w.q.run(ctx, Workers) }

// Timeouts is the number of reads given up because the file system did not answer in time, so far.
func (w *Worker) Timeouts() uint64 { return w.rd.timeouts.Load() }
