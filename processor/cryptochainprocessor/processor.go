package cryptochainprocessor // import "github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor"

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/chain"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/classify"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/evidence"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/finding"
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
	now    func() time.Time

	mu         sync.Mutex
	tracker    *chain.Tracker
	cl         classifier
	panics     uint64 // classifier panics already reported
	store      *store.Store
	keyBuf     []byte
	dec        evidence.Decoder // reused: a benign record allocates nothing to decode
	findings   plog.Logs        // findings of the current call, valid when hasFinding
	hasFinding bool
	batchNow   time.Time // wall clock at the start of the current call
	batchLate  time.Time // batchNow + window: later record times count as now

	// per-call counters, flushed to telemetry at the end of a call
	classified [evidence.NumGroups]int64
	emitted    [chain.Critical + 1]int64
	malformed  int64

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
	p := &cryptochainProcessor{
		cfg:    cfg,
		set:    set,
		logger: set.Logger,
		tb:     tb,
		allow:  allow,
		now:    time.Now,
		cl:     cl,
		tracker: chain.New(chain.Config{
			Window:      cfg.Window,
			MaxContexts: cfg.MaxContexts,
			MaxEvidence: cfg.MaxEvidencePerContext,
		}),
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
		ext, ok := host.GetExtensions()[*p.cfg.Storage]
		if !ok {
			return fmt.Errorf("storage: extension %q not found", p.cfg.Storage.String())
		}
		se, ok := ext.(storage.Extension)
		if !ok {
			return fmt.Errorf("storage: extension %q is not a storage extension", p.cfg.Storage.String())
		}
		client, err := se.GetClient(ctx, component.KindProcessor, p.set.ID, "")
		if err != nil {
			return fmt.Errorf("storage: %w", err)
		}
		p.store = store.New(client)
		p.mu.Lock()
		n := 0
		err = p.store.Load(ctx, func(c *chain.Context) {
			p.tracker.Restore(c)
			n++
		})
		links, lerr := p.store.LoadLinks(ctx)
		p.tracker.RestoreLinks(links)
		p.tracker.TakeChanges() // what was just loaded needs no writing back
		err = errors.Join(err, lerr)
		p.tb.CryptochainActiveContexts.Record(ctx, int64(p.tracker.Len()))
		p.mu.Unlock()
		if err != nil {
			p.tb.CryptochainStorageErrors.Add(ctx, 1)
			p.logger.Warn("Some stored chains could not be restored", zap.Error(err))
		}
		p.logger.Info("Restored open chains", zap.Int("contexts", n))
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
	var err error
	if p.store != nil {
		p.mu.Lock()
		p.persist(ctx)
		p.mu.Unlock()
		err = p.store.Close(ctx)
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

func (p *cryptochainProcessor) sweepLoop(every time.Duration) {
	defer p.wg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.mu.Lock()
			p.tracker.Sweep()
			p.flush(context.Background())
			p.mu.Unlock()
		}
	}
}

// processLogs classifies every record, updates the chains and appends the findings the batch
// completes. Raw records are kept, annotated or dropped per `forward`.
func (p *cryptochainProcessor) processLogs(ctx context.Context, ld plog.Logs) (plog.Logs, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hasFinding = false
	p.batchNow = p.now()
	p.batchLate = p.batchNow.Add(p.cfg.Window)
	forward := p.cfg.Forward
	ld.ResourceLogs().RemoveIf(func(rl plog.ResourceLogs) bool {
		res := rl.Resource()
		ref := p.tracker.Resolve(p.contextKey(res), res)
		allowed := p.allow.resource(res)
		rl.ScopeLogs().RemoveIf(func(sl plog.ScopeLogs) bool {
			sl.LogRecords().RemoveIf(func(lr plog.LogRecord) bool {
				return !p.record(lr, &ref, allowed)
			})
			return forward != ForwardAll && sl.LogRecords().Len() == 0
		})
		return forward != ForwardAll && rl.ScopeLogs().Len() == 0
	})
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

// record handles one record and reports whether it is forwarded.
func (p *cryptochainProcessor) record(lr plog.LogRecord, ref *chain.Ref, allowed bool) bool {
	forwardAll := p.cfg.Forward == ForwardAll
	name := lr.EventName()
	if name == finding.EventName {
		return p.cfg.Forward != ForwardNone // findings of an upstream processor pass on
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
	for _, f := range p.tracker.Ingest(ref, ev, evs) {
		p.emit(f)
	}
	if p.cfg.Forward == ForwardNone || len(evs) == 0 {
		return forwardAll
	}
	groups := lr.Attributes().PutEmptySlice(attrGroup)
	var seen [evidence.NumGroups]bool
	for i := range evs {
		if g := evs[i].Group; g < evidence.NumGroups && !seen[g] {
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
	finding.Append(p.findings.ResourceLogs(), f, metadata.ScopeName, p.now())
	p.emitted[f.Level]++
}

// flush records telemetry and persists the contexts changed by this call.
func (p *cryptochainProcessor) flush(ctx context.Context) {
	for g, n := range p.classified {
		if n > 0 {
			p.tb.CryptochainEventsClassified.Add(ctx, n, p.groupAttrs[g])
			p.classified[g] = 0
		}
	}
	for l, n := range p.emitted {
		if n > 0 {
			p.tb.CryptochainFindings.Add(ctx, n, p.severityAttrs[l])
			p.emitted[l] = 0
		}
	}
	if n := p.cl.Panics(); n > p.panics {
		p.tb.CryptochainClassifierPanics.Add(ctx, int64(n-p.panics))
		p.panics = n
	}
	if p.malformed > 0 {
		p.tb.CryptochainRecordsMalformed.Add(ctx, p.malformed)
		p.malformed = 0
	}
	evicted, dropped := p.tracker.TakeCounters()
	if evicted > 0 {
		p.tb.CryptochainEvictedContexts.Add(ctx, evicted)
	}
	if dropped > 0 {
		p.tb.CryptochainEvidenceDropped.Add(ctx, dropped)
	}
	p.tb.CryptochainActiveContexts.Record(ctx, int64(p.tracker.Len()))
	p.persist(ctx)
}

// persist writes the contexts changed since the last call and deletes the dropped ones.
func (p *cryptochainProcessor) persist(ctx context.Context) {
	ch := p.tracker.TakeChanges()
	if p.store == nil {
		return
	}
	err := p.store.Save(ctx, ch.Contexts, ch.Removed)
	if links, changed := ch.Links(); changed {
		err = errors.Join(err, p.store.SaveLinks(ctx, links))
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		p.tb.CryptochainStorageErrors.Add(ctx, 1)
		p.logger.Warn("Persisting chains failed", zap.Error(err))
	}
}

// contextKey builds the context key from the context_keys values of res into p.keyBuf. Absent keys
// count as empty. It allocates only for non-string values.
func (p *cryptochainProcessor) contextKey(res pcommon.Resource) []byte {
	b := p.keyBuf[:0]
	attrs := res.Attributes()
	for i, k := range p.cfg.ContextKeys {
		if i > 0 {
			b = append(b, 0)
		}
		v, ok := attrs.Get(k)
		if !ok {
			continue
		}
		if v.Type() == pcommon.ValueTypeStr {
			b = append(b, v.Str()...)
		} else {
			b = append(b, v.AsString()...)
		}
	}
	p.keyBuf = b
	return b
}
