package cryptochainresponseexporter // import "github.com/cryptochain-otel/cryptochain/exporter/cryptochainresponseexporter"

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"
	"golang.org/x/sys/unix"

	"github.com/cryptochain-otel/cryptochain/exporter/cryptochainresponseexporter/internal/metadata"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
)

// Audit record names (README, "Audit").
const (
	EventAction = "cryptochain.response.action"

	AttrAction       = "cryptochain.response.action"
	AttrTarget       = "cryptochain.response.target"
	AttrResult       = "cryptochain.response.result"
	AttrReason       = "cryptochain.response.reason"
	AttrDryRun       = "cryptochain.response.dry_run"
	AttrQuarantineID = "cryptochain.response.quarantine.id"
	AttrExpires      = "cryptochain.response.expires"
	attrErrorType    = "error.type"
	attrProcessPID   = "process.pid"
	attrFilePath     = "file.path"
	attrServerAddr   = "server.address"
	attrServerPort   = "server.port"
)

// Results of an action.
const (
	// ResultDone: the action changed the host.
	ResultDone = "done"
	// ResultDryRun: the action would have run; nothing was changed.
	ResultDryRun = "dry_run"
	// ResultRefused: a scope or identity check stopped it (pid reused, outside the context, …).
	ResultRefused = "refused"
	// ResultSkipped: policy stopped it (allowlist, kill switch, rate limit, nothing to act on).
	ResultSkipped = "skipped"
	// ResultFailed: it was attempted and failed.
	ResultFailed = "failed"
)

// record is one audited action or intent.
type record struct {
	Finding *finding
	Action  string
	Target  string
	Result  string
	Reason  string
	Err     error
	// Attrs are the target's own attributes (process.pid, file.path, server.address, …).
	Attrs map[string]any
}

// auditor writes every record to the audit file (OTLP JSON, one logs request per line), the
// Collector's log and the actions counter. Writing never fails the caller: errors are counted.
type auditor struct {
	mu     sync.Mutex
	f      *os.File
	dryRun bool
	logger *zap.Logger
	tb     *metadata.TelemetryBuilder
	scope  string
}

func openAuditor(path string, dryRun bool, logger *zap.Logger, tb *metadata.TelemetryBuilder) (*auditor, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("audit.path: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return nil, fmt.Errorf("audit.path: %w", err)
	}
	return &auditor{f: f, dryRun: dryRun, logger: logger, tb: tb, scope: metadata.ScopeName}, nil
}

func (a *auditor) write(r record) {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	for k, v := range r.Finding.Resource {
		rl.Resource().Attributes().PutStr(k, v)
	}
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName(a.scope)
	lr := sl.LogRecords().AppendEmpty()
	now := pcommon.NewTimestampFromTime(time.Now())
	lr.SetTimestamp(now)
	lr.SetObservedTimestamp(now)
	lr.SetEventName(EventAction)
	if r.Result == ResultFailed {
		lr.SetSeverityNumber(plog.SeverityNumberWarn)
		lr.SetSeverityText("WARN")
	} else {
		lr.SetSeverityNumber(plog.SeverityNumberInfo)
		lr.SetSeverityText("INFO")
	}
	body := fmt.Sprintf("%s %s: %s", r.Action, r.Target, r.Result)
	if r.Reason != "" {
		body += " (" + r.Reason + ")"
	}
	lr.Body().SetStr(body)
	at := lr.Attributes()
	at.PutStr(contract.AttrFindingID, r.Finding.ID)
	at.PutStr(contract.AttrFindingSeverity, r.Finding.Severity)
	at.PutStr(AttrAction, r.Action)
	at.PutStr(AttrTarget, r.Target)
	at.PutStr(AttrResult, r.Result)
	at.PutBool(AttrDryRun, a.dryRun)
	if r.Reason != "" {
		at.PutStr(AttrReason, r.Reason)
	}
	if r.Err != nil {
		at.PutStr(attrErrorType, errorType(r.Err))
	}
	for k, v := range r.Attrs {
		switch x := v.(type) {
		case int:
			at.PutInt(k, int64(x))
		case string:
			at.PutStr(k, x)
		}
	}

	a.tb.CryptochainResponseActions.Add(context.Background(), 1,
		metric.WithAttributes(attribute.String("action", r.Action), attribute.String("result", r.Result)))
	fields := []zap.Field{zap.String("finding_id", r.Finding.ID), zap.String("action", r.Action),
		zap.String("target", r.Target), zap.String("result", r.Result), zap.Bool("dry_run", a.dryRun)}
	if r.Reason != "" {
		fields = append(fields, zap.String("reason", r.Reason))
	}
	if r.Result == ResultFailed {
		a.logger.Warn("response action", fields...)
	} else {
		a.logger.Info("response action", fields...)
	}

	b, err := (&plog.JSONMarshaler{}).MarshalLogs(ld)
	if err == nil {
		a.mu.Lock()
		_, err = a.f.Write(append(b, '\n'))
		a.mu.Unlock()
	}
	if err != nil {
		a.tb.CryptochainResponseAuditErrors.Add(context.Background(), 1)
		a.logger.Error("response audit: write failed", zap.String("path", a.f.Name()), zap.Error(err))
	}
}

func (a *auditor) close() error { return a.f.Close() }

// errorType is the errno name when the error carries one (EPERM, ESRCH), else the Go type.
func errorType(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		if n := unix.ErrnoName(errno); n != "" {
			return n
		}
	}
	return fmt.Sprintf("%T", err)
}
