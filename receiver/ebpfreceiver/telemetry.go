package ebpfreceiver // import "github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver"

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/event"
)

// registerGauges reports the size of the process table and how full the kernel ring is.
func (r *ebpfReceiver) registerGauges() error {
	if err := r.tb.RegisterEbpfProcessesTrackedCallback(func(_ context.Context, o metric.Int64Observer) error {
		o.Observe(int64(r.pipe.procs.Len()))
		return nil
	}); err != nil {
		return err
	}
	if err := r.tb.RegisterEbpfLifecycleRingBufferFillCallback(func(_ context.Context, o metric.Float64Observer) error {
		if r.src == nil {
			return nil
		}
		st := r.src.Stats()
		if st.LifecycleSize > 0 {
			o.Observe(float64(st.LifecycleUsed) / float64(st.LifecycleSize))
		}
		return nil
	}); err != nil {
		return err
	}
	if err := r.registerUsageGauges(); err != nil {
		return err
	}
	return r.tb.RegisterEbpfRingBufferFillCallback(func(_ context.Context, o metric.Float64Observer) error {
		if r.src == nil {
			return nil
		}
		st := r.src.Stats()
		if st.RingSize > 0 {
			o.Observe(float64(st.RingUsed) / float64(st.RingSize))
		}
		return nil
	})
}

// initCounters records a zero for every loss counter, so that "nothing lost" is a series that
// exists (alert rules and dashboards can tell it from "not exported").
func (r *ebpfReceiver) initCounters() {
	ctx := context.Background()
	for k := event.Kind(0); k < event.KindCount; k++ {
		r.tb.EbpfEventsLost.Add(ctx, 0, r.kindAttr[k])
		r.tb.EbpfEventsSuppressed.Add(ctx, 0, r.kindAttr[k])
	}
	r.tb.EbpfLifecycleEventsLost.Add(ctx, 0)
	r.tb.EbpfParseErrors.Add(ctx, 0)
	r.tb.EbpfRecordsDropped.Add(ctx, 0)
	r.tb.EbpfReadbackTimeouts.Add(ctx, 0)
	for _, a := range r.readbackAttr {
		r.tb.EbpfReadbackDropped.Add(ctx, 0, a)
	}
}

// countEvent counts an event by kind; the counts reach the telemetry at the next flush, so the
// per-event path pays one atomic add instead of a metric update.
func (r *ebpfReceiver) countEvent(ev *event.Event) {
	k := ev.Kind
	if k >= event.KindCount {
		k = event.KindUnknown
	}
	r.eventCounts[k].Add(1)
}

// reportEventCounts adds the events counted since the last call to the telemetry.
func (r *ebpfReceiver) reportEventCounts(ctx context.Context) {
	for k := range r.eventCounts {
		if n := r.eventCounts[k].Swap(0); n > 0 {
			r.tb.EbpfEvents.Add(ctx, int64(n), r.kindAttr[k])
		}
	}
}

// checkLoss turns the source's cumulative counters into telemetry, into data_loss records for the
// processor (a record lost in a full ring has no known context), and into a status that changes
// only on transitions: RecoverableError while events are being lost, OK once a period passes
// without.
func (r *ebpfReceiver) checkLoss() {
	var st event.Stats
	if r.src != nil {
		st = r.src.Stats()
	}
	lostNow := uint64(0)
	now := time.Now()
	for k := event.Kind(0); k < event.KindCount; k++ {
		if d := st.Lost[k] - r.lastLost[k]; st.Lost[k] > r.lastLost[k] {
			r.tb.EbpfEventsLost.Add(context.Background(), int64(d), r.kindAttr[k])
			lostNow += d
			r.lastLost[k] = st.Lost[k]
			ring := contract.RingBulk
			if k.Lifecycle() {
				ring = contract.RingLifecycle
			}
			r.pipe.dataLoss(ring, k, d, now)
		}
		if d := st.Suppressed[k] - r.lastSuppressed[k]; st.Suppressed[k] > r.lastSuppressed[k] {
			r.tb.EbpfEventsSuppressed.Add(context.Background(), int64(d), r.kindAttr[k])
			r.lastSuppressed[k] = st.Suppressed[k]
		}
	}
	if st.LifecycleLost > r.lastLifecycleLost {
		r.tb.EbpfLifecycleEventsLost.Add(context.Background(), int64(st.LifecycleLost-r.lastLifecycleLost))
		r.set.Logger.Error("exec/exit records lost: the lifecycle ring buffer was full (raise lifecycle_ring_buffer_size)",
			zap.Uint64("lost", st.LifecycleLost-r.lastLifecycleLost))
		r.lastLifecycleLost = st.LifecycleLost
	}
	parse := st.ParseErrors + r.pipe.dnsParseErrors()
	if parse > r.lastParse {
		r.tb.EbpfParseErrors.Add(context.Background(), int64(parse-r.lastParse))
		r.lastParse = parse
	}
	r.checkReadBack()
	switch {
	case lostNow > 0 && !r.lossStatus:
		r.lossStatus = true
		r.set.Logger.Warn("kernel ring buffer full: events lost", zap.Uint64("lost", lostNow))
		componentstatus.ReportStatus(r.host, componentstatus.NewRecoverableErrorEvent(
			fmt.Errorf("%d events lost: a kernel ring buffer was full (raise ring_buffer_size or lifecycle_ring_buffer_size, or lower the event rate)", lostNow)))
	case lostNow == 0 && r.lossStatus:
		r.lossStatus = false
		componentstatus.ReportStatus(r.host, componentstatus.NewEvent(componentstatus.StatusOK))
	}
}

// checkReadBack turns the read-back counters into telemetry.
func (r *ebpfReceiver) checkReadBack() {
	ctx := context.Background()
	persist, conf := r.pipe.readBackDropped()
	for i, now := range [2]uint64{persist, conf} {
		if now > r.lastReadBack[i] {
			r.tb.EbpfReadbackDropped.Add(ctx, int64(now-r.lastReadBack[i]), r.readbackAttr[i])
			r.lastReadBack[i] = now
		}
	}
	if t := r.pipe.reads.Timeouts(); t > r.lastTimeouts {
		r.tb.EbpfReadbackTimeouts.Add(ctx, int64(t-r.lastTimeouts))
		r.lastTimeouts = t
	}
}

// registerUsageGauges reports the usage watcher's fill and the processes its bound refused: a user
// who keeps usage.max_processes processes connecting out keeps a miner's impact from being sampled.
func (r *ebpfReceiver) registerUsageGauges() error {
	if err := r.tb.RegisterEbpfUsageProcessesWatchedCallback(func(_ context.Context, o metric.Int64Observer) error {
		n, _, _ := r.pipe.usageStats()
		o.Observe(int64(n))
		return nil
	}); err != nil {
		return err
	}
	if err := r.tb.RegisterEbpfUsageTCPErrorsCallback(func(_ context.Context, o metric.Int64Observer) error {
		_, _, errs := r.pipe.usageStats()
		o.Observe(int64(errs))
		return nil
	}); err != nil {
		return err
	}
	return r.tb.RegisterEbpfUsageWatchDroppedCallback(func(_ context.Context, o metric.Int64Observer) error {
		_, refused, _ := r.pipe.usageStats()
		o.Observe(int64(refused))
		return nil
	})
}
