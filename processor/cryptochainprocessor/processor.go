package cryptochainprocessor // import "github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor"

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
	"github.com/cryptochain-otel/cryptochain/internal/redact"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/chain"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/classify"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/evidence"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/finding"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/impact"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/metadata"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/store"
)

// attrGroup annotates forwarded raw records with the groups they matched.
const attrGroup = "cryptochain.group"

// classifier grades one decoded record (classify.Classifier).
type classifier interface {
	Classify(*evidence.Event) []evidence.Evidence
	Panics() uint64 // records that hit a classifier bug so far
}

type cryptochainProcessor struct {
	cfg    *Config
	set    processor.Settings
	logger *zap.Logger
	tb     *metadata.TelemetryBuilder
	allow  *allowlist
	red    *redact.Redactor
	now    func() time.Time // record-time reference: what counts as the future
	clock  func() time.Time // wall clock of retries (delivery, saves)
	next   consumer.Logs    // the next consumer, for findings offered again between calls

	mu         sync.Mutex
	tracker    *chain.Tracker
	loss       *lossTracker
	cl         classifier
	panics     uint64 // classifier panics already reported
	store      *store.Store
	saveAt     time.Time       // no save before (backoff after a failed one)
	saveDelay  time.Duration   // current backoff
	offered    *delivery       // findings of the current call, settled once the next consumer answered
	camp       *campaigns      // nil unless campaigns.enabled
	imp        *impact.Tracker // nil when impact.interval is 0
	curRes     pcommon.Resource
	keyBuf     []byte
	dec        evidence.Decoder // reused: a benign record allocates nothing to decode
	findings   plog.Logs        // findings of the current call, valid when hasFinding
	hasFinding bool
	batchNow   time.Time // wall clock at the start of the current call
	batchLate  time.Time // batchNow + window: later record times count as now

	// per-call counters, flushed to telemetry at the end of a call
	classified [evidence.NumGroups]int64
	emitted    [chain.Critical + 1]int64
	updates    map[string]int64 // finding updates by reason
	malformed  int64
	refused    int64 // findings the next consumer refused
	abandoned  int64 // findings given up after repeated refusals

	stop chan struct{}
	wg   sync.WaitGroup

	groupAttrs    [evidence.NumGroups]metric.MeasurementOption
	severityAttrs [chain.Critical + 1]metric.MeasurementOption
}

func newProcessor(set processor.Settings, cfg *Config) (*cryptochainProcessor, error) {
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	cl, err := classify.New(classify.Config{
		ExtraPoolDomains: cfg.Indicators.PoolDomains,
		ExtraMinerNames:  cfg.Indicators.MinerNames,
		ExtraPersistence: cfg.Indicators.PersistencePaths,
		ExtraPatterns:    cfg.Indicators.Patterns,
	})
	if err != nil {
		return nil, fmt.Errorf("indicators: %w", err)
	}
	allow, err := newAllowlist(cfg.Allowlist)
	if err != nil {
		return nil, fmt.Errorf("allowlist: %w", err)
	}
	red, err := redact.New(cfg.redaction())
	if err != nil {
		return nil, fmt.Errorf("redaction: %w", err)
	}
	p := &cryptochainProcessor{
		cfg:    cfg,
		set:    set,
		logger: set.Logger,
		tb:     tb,
		allow:  allow,
		red:    red,
		now:    time.Now,
		clock:  time.Now,
		cl:     cl,
		camp:   newCampaigns(cfg.Campaigns),
		imp:    newImpact(cfg.Impact, cfg.MaxContexts),
		tracker: chain.New(chain.Config{
			Window:        cfg.Window,
			MaxContexts:   cfg.MaxContexts,
			MaxEvidence:   cfg.MaxEvidencePerContext,
			MaxBytes:      cfg.MaxStateBytes,
			MaxTombstones: cfg.MaxTombstones,
			ResourceKeys:  cfg.ContextKeys,
			// UpdateInterval: updates of reported chains wait this long after their last finding.
			UpdateInterval: cfg.UpdateInterval,
		}),
		loss:    newLossTracker(cfg.Window, cfg.ContextKeys),
		updates: make(map[string]int64, 2),
	}
	for g := evidence.Group(0); g < evidence.NumGroups; g++ {
		p.groupAttrs[g] = metric.WithAttributeSet(attribute.NewSet(attribute.String("group", g.String())))
	}
	for l := chain.Medium; l <= chain.Critical; l++ {
		p.severityAttrs[l] = metric.WithAttributeSet(attribute.NewSet(attribute.String("severity", l.String())))
	}
	return p, nil
}

func (p *cryptochainProcessor) start(ctx context.Context, host component.Host) error {
	if p.cfg.Storage != nil {
		if err := p.restore(ctx, host); err != nil {
			return err
		}
	}
	if err := p.campaignStart(ctx, host); err != nil {
		return err
	}
	p.stop = make(chan struct{})
	p.wg.Add(1)
	go p.sweepLoop(sweepInterval(p.cfg.Window))
	return nil
}

func (p *cryptochainProcessor) shutdown(ctx context.Context) error {
	if p.stop != nil {
		close(p.stop)
		p.wg.Wait()
		p.stop = nil
	}
	err := p.campaignShutdown(ctx)
	if p.store != nil {
		p.mu.Lock()
		p.persist(ctx, true)
		pending := p.tracker.PendingSaves()
		p.mu.Unlock()
		if pending > 0 {
			p.logger.Error("Open chains could not be saved at shutdown", zap.Int("pending", pending))
		}
		err = errors.Join(err, p.store.Close(ctx))
		p.store = nil
	}
	p.tb.Shutdown()
	return err
}

// sweepInterval is how often idle contexts are expired: often enough that memory follows the
// window, rarely enough to cost nothing.
func sweepInterval(window time.Duration) time.Duration {
	return min(max(window/10, time.Second), time.Minute)
}

// sweepLoop expires idle contexts every `every`, and each second offers again the findings the next
// consumer refused and retries a failed save, so neither waits for the next records.
func (p *cryptochainProcessor) sweepLoop(every time.Duration) {
	defer p.wg.Done()
	tick := min(every, time.Second)
	t := time.NewTicker(tick)
	defer t.Stop()
	var since time.Duration
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			since += tick
			ctx := context.Background()
			p.mu.Lock()
			if since >= every {
				since = 0
				p.tracker.Sweep()
			}
			ld, d := p.offerAgain()
			p.flush(ctx)
			p.mu.Unlock()
			if d != nil {
				p.settle(d, p.next.ConsumeLogs(ctx, ld))
			}
		}
	}
}

// offerAgain renders the refused findings that are due and the updates whose wait is over (p.mu
// held); nil when there are none.
func (p *cryptochainProcessor) offerAgain() (plog.Logs, *delivery) {
	if p.next == nil || (!p.tracker.RetryPending() && !p.tracker.UpdatesHeld()) {
		return plog.Logs{}, nil
	}
	now := p.clock()
	var fs []*chain.Finding
	if p.tracker.RetryPending() {
		fs = append(fs, p.tracker.Retry(now.UnixNano())...)
	}
	if p.tracker.UpdatesHeld() {
		fs = append(fs, p.tracker.DueUpdates(now.UnixNano())...)
	}
	if len(fs) == 0 {
		return plog.Logs{}, nil
	}
	d := &delivery{}
	ld := plog.NewLogs()
	for _, f := range fs {
		p.render(ld.ResourceLogs(), f, p.now())
		if f.Update {
			p.campaignFinding(f)
			p.impactFinding(f)
		}
		d.add(f)
	}
	return ld, d
}

// processLogs classifies every record, updates the chains and appends the findings the batch
// completes. Raw records are kept, annotated or dropped per `forward`.
func (p *cryptochainProcessor) processLogs(ctx context.Context, ld plog.Logs) (plog.Logs, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hasFinding = false
	p.offered, _ = ctx.Value(deliveryKey{}).(*delivery)
	defer func() { p.offered = nil }()
	p.batchNow = p.now()
	p.batchLate = p.batchNow.Add(p.cfg.Window)
	if p.tracker.RetryPending() { // refused findings ride along with this call's
		for _, f := range p.tracker.Retry(p.clock().UnixNano()) {
			p.emit(f)
		}
	}
	forward := p.cfg.Forward
	ld.ResourceLogs().RemoveIf(func(rl plog.ResourceLogs) bool {
		res := rl.Resource()
		ref := p.tracker.Resolve(p.contextKey(res), res)
		allowed := p.allow.resource(res)
		p.noteResource(res)
		rl.ScopeLogs().RemoveIf(func(sl plog.ScopeLogs) bool {
			sl.LogRecords().RemoveIf(func(lr plog.LogRecord) bool {
				var keep bool
				if p.loss.observe(lr, res, p.batchNow) {
					keep = forward == ForwardAll
				} else {
					keep = p.record(lr, &ref, allowed)
				}
				if keep {
					redactForwarded(p.red, lr) // classified from the original values; forwarded redacted
				}
				return !keep
			})
			return forward != ForwardAll && sl.LogRecords().Len() == 0
		})
		return forward != ForwardAll && rl.ScopeLogs().Len() == 0
	})
	p.dueUpdates()
	p.campaignEmit()
	if p.hasFinding {
		p.findings.ResourceLogs().MoveAndAppendTo(ld.ResourceLogs())
		p.hasFinding = false
	}
	p.flush(ctx)
	if ld.ResourceLogs().Len() == 0 {
		return ld, processorhelper.ErrSkipProcessingData
	}
	return ld, nil
}

// render appends f as a finding record to dst: annotated with the data loss known at now, updates
// with what they add, redacted, counted.
func (p *cryptochainProcessor) render(dst plog.ResourceLogsSlice, f *chain.Finding, now time.Time) {
	lr := finding.Append(dst, f, metadata.ScopeName, p.now())
	p.loss.annotate(lr, dst.At(dst.Len()-1).Resource(), now)
	if f.Update {
		putUpdate(lr.Attributes(), f)
		for _, r := range f.Reasons {
			p.updates[r]++
		}
	}
	redactFinding(p.red, lr)
	p.emitted[f.Level]++
}

// record handles one record and reports whether it is forwarded.
func (p *cryptochainProcessor) record(lr plog.LogRecord, ref *chain.Ref, allowed bool) bool {
	forwardAll := p.cfg.Forward == ForwardAll
	name := lr.EventName()
	if name == finding.EventName {
		p.campaignUpstream(lr)
		return p.cfg.Forward != ForwardNone // findings of an upstream processor pass on
	}
	if name == contract.EventUsage {
		p.impactUsage(lr, ref)
		return forwardAll
	}
	if !evidence.KnownEvent(name) {
		return forwardAll
	}
	if name == contract.EventExit && !ref.Active() {
		return forwardAll // an exit only matters to a process that already has evidence
	}
	ev, err := p.dec.Decode(lr)
	if err != nil {
		p.malformed++
		return forwardAll
	}
	if allowed || p.allow.executable(ev.Exe) {
		return forwardAll
	}
	// Record time drives expiry. A record without time counts as now; one from the far future (a
	// skewed clock, junk) must not expire every chain, so it too counts as now.
	if ev.Time.IsZero() || ev.Time.After(p.batchLate) {
		ev.Time = p.batchNow
	}
	evs := p.cl.Classify(ev)
	for i := range evs {
		if evs[i].Group < evidence.NumGroups {
			p.classified[evs[i].Group]++
		}
	}
	p.campaignRecord(lr, ev, evs)
	for _, f := range p.tracker.Ingest(ref, ev, evs) {
		p.emit(f)
	}
	if p.cfg.Forward == ForwardNone || len(evs) == 0 {
		return forwardAll
	}
	groups := lr.Attributes().PutEmptySlice(attrGroup)
	var seen [evidence.Concealment + 1]bool // the four groups, and concealment (in none of them)
	for i := range evs {
		if g := evs[i].Group; g <= evidence.Concealment && !seen[g] {
			seen[g] = true
			groups.AppendEmpty().SetStr(g.String())
		}
	}
	return true
}

// emit appends a finding to the findings of the current call.
func (p *cryptochainProcessor) emit(f *chain.Finding) {
	if !p.hasFinding {
		p.findings = plog.NewLogs()
		p.hasFinding = true
	}
	p.render(p.findings.ResourceLogs(), f, p.batchNow)
	p.campaignFinding(f)
	p.impactFinding(f)
	if p.offered != nil {
		p.offered.add(f)
	} else { // not called through the pipeline (no one to answer): counts as delivered
		p.tracker.Accepted(f.Context.Key, f.Level)
	}
}
