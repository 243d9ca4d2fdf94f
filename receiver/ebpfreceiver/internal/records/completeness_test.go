package records

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/event"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/process"
)

func TestSuppressedRecord(t *testing.T) {
	m := newMapper()
	ev := &event.Event{Kind: event.KindSuppressed, Proc: event.Process{PID: 42, Comm: "sh"},
		Suppressed: &event.Suppressed{Of: event.KindFile, Count: 5000, Path: "/etc/cron.d/x", Errno: 13, Op: event.FileTruncate}}
	lr := fill(t, m, ev, process.Actor{}, Extra{})
	a := lr.Attributes()
	assert.Equal(t, contract.EventSuppressed, lr.EventName())
	assert.Equal(t, "file", get(t, a, contract.AttrSuppressedKind).Str())
	assert.EqualValues(t, 5000, get(t, a, contract.AttrSuppressedCount).Int())
	assert.Equal(t, "/etc/cron.d/x", get(t, a, contract.AttrFilePath).Str())
	assert.Equal(t, "EACCES", get(t, a, contract.AttrErrorType).Str())
	assert.Equal(t, "truncate", get(t, a, contract.AttrFileOperation).Str())
	assert.EqualValues(t, 42, get(t, a, contract.AttrProcessPID).Int())

	ev.Suppressed = &event.Suppressed{Of: event.KindRename, Count: 3, Path: "kworker/0:1"}
	a = fill(t, m, ev, process.Actor{}, Extra{}).Attributes()
	assert.Equal(t, "kworker/0:1", get(t, a, contract.AttrProcessComm).Str(), "a rename's new name is the comm")
	_, hasPath := a.Get(contract.AttrFilePath)
	assert.False(t, hasPath)
}

func TestDataLossRecord(t *testing.T) {
	m := newMapper()
	lr := plog.NewLogRecord()
	m.FillDataLoss(lr, contract.RingBulk, event.KindFile, 488, time.Unix(100, 0))
	a := lr.Attributes()
	assert.Equal(t, contract.EventDataLoss, lr.EventName())
	assert.Equal(t, "bulk", get(t, a, contract.AttrLossRing).Str())
	assert.Equal(t, "file", get(t, a, contract.AttrLossKind).Str())
	assert.EqualValues(t, 488, get(t, a, contract.AttrLossCount).Int())
	_, hasPID := a.Get(contract.AttrProcessPID)
	assert.False(t, hasPID, "lost records have no known process")
}
