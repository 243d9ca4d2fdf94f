package cryptochainresponseexporter // import "github.com/cryptochain-otel/cryptochain/exporter/cryptochainresponseexporter"

import (
	"context"
	"errors"
	"os"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.uber.org/zap"
	"golang.org/x/time/rate"

	"github.com/cryptochain-otel/cryptochain/exporter/cryptochainresponseexporter/internal/block"
	"github.com/cryptochain-otel/cryptochain/exporter/cryptochainresponseexporter/internal/metadata"
)

// sweepInterval is how often expired deny entries are removed and the entry gauge refreshed.
const sweepInterval = 30 * time.Second

// responder is the exporter's lifecycle: ConsumeLogs copies findings into a bounded queue that
// one worker drains, so an action never holds up the pipeline.
type responder struct {
	cfg    *Config
	logger *zap.Logger
	tb     *metadata.TelemetryBuilder
	set    exporter.Settings

	audit   *auditor
	queue   chan finding
	stop    chan struct{}
	wg      sync.WaitGroup
	actions *actor
}

func newResponder(set exporter.Settings, cfg *Config) (*responder, error) {
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	return &responder{cfg: cfg, logger: set.Logger, tb: tb, set: set}, nil
}

func (r *responder) start(_ context.Context, _ component.Host) error {
	a, err := openAuditor(r.cfg.Audit.Path, r.cfg.DryRun, r.logger, r.tb)
	if err != nil {
		return err
	}
	r.audit = a
	act, err := newActor(r.cfg, r.audit, rate.NewLimiter(rate.Limit(float64(r.cfg.RateLimit.ActionsPerMinute)/60), r.cfg.RateLimit.Burst), r.tb)
	if err != nil {
		_ = a.close()
		return err
	}
	r.actions = act
	if !r.cfg.DryRun && r.cfg.needsBlocker() && act.cgroupErr == nil {
		// Loaded at start so a kernel that refuses the programs says so now; block actions then
		// fail (audited) while every other action still runs.
		if b, err := block.Open(act.cgroupRoot); err != nil {
			act.blockErr = err
			r.logger.Error("response: block actions will fail: cannot load the deny programs", zap.Error(err))
		} else {
			act.blocker = b
		}
	} else if act.cgroupErr != nil {
		act.blockErr = act.cgroupErr
		r.logger.Warn("response: block and isolate actions will fail", zap.Error(act.cgroupErr))
	}
	if r.cfg.DryRun {
		r.logger.Info("response exporter in dry run: actions are audited, nothing is changed", zap.String("audit", r.cfg.Audit.Path))
	} else {
		r.logger.Warn("response exporter is ACTIVE: findings terminate, block, quarantine and isolate per its policy",
			zap.Any("actions", r.cfg.Actions), zap.String("kill_switch_file", r.cfg.KillSwitchFile))
	}
	r.queue = make(chan finding, r.cfg.QueueSize)
	r.stop = make(chan struct{})
	r.wg.Add(2)
	go r.work()
	go r.sweep()
	return nil
}

func (r *responder) consumeLogs(_ context.Context, ld plog.Logs) error {
	for _, f := range findings(ld) {
		select {
		case r.queue <- f:
		default:
			r.tb.CryptochainResponseFindingsDropped.Add(context.Background(), 1)
			r.logger.Error("response queue full: finding not acted on", zap.String("finding_id", f.ID), zap.String("severity", f.Severity))
		}
	}
	return nil
}

func (r *responder) work() {
	defer r.wg.Done()
	for {
		select {
		case f := <-r.queue:
			r.actions.respond(&f)
		case <-r.stop:
			// Findings already queued are still acted on.
			for {
				select {
				case f := <-r.queue:
					r.actions.respond(&f)
				default:
					return
				}
			}
		}
	}
}

func (r *responder) sweep() {
	defer r.wg.Done()
	t := time.NewTicker(sweepInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			r.actions.sweep()
		case <-r.stop:
			return
		}
	}
}

// shutdown drains the queue and detaches the deny programs: block entries end with the Collector.
func (r *responder) shutdown(context.Context) error {
	if r.stop == nil {
		r.tb.Shutdown()
		return nil
	}
	close(r.stop)
	r.wg.Wait()
	var errs []error
	if r.actions.blocker != nil {
		errs = append(errs, r.actions.blocker.Close())
	}
	errs = append(errs, r.audit.close())
	r.tb.Shutdown()
	return errors.Join(errs...)
}

// needsBlocker reports whether the policy can add deny entries.
func (c *Config) needsBlocker() bool {
	for _, acts := range c.Actions {
		for _, a := range acts {
			if a == ActionBlock || (a == ActionIsolate && c.Isolate.Mode == IsolateDenyEgress) {
				return true
			}
		}
	}
	return false
}

// cgroupRoot is the configured cgroup v2 mount, else the one this host has.
func cgroupRoot(configured string) (string, error) {
	if configured != "" {
		return configured, nil
	}
	for _, p := range []string{"/sys/fs/cgroup", "/sys/fs/cgroup/unified"} {
		// Only a cgroup2 mount root has cgroup.controllers (a v1/hybrid /sys/fs/cgroup is a tmpfs).
		if _, err := os.Stat(p + "/cgroup.controllers"); err == nil {
			return p, nil
		}
	}
	return "", errors.New("block.cgroup_root: no cgroup v2 mount found at /sys/fs/cgroup or /sys/fs/cgroup/unified")
}
