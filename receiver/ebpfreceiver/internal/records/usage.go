package records

import (
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/event"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/process"
)

// FillUsage sets a process.usage record: the CPU time and resident memory of a running process,
// sampled at observed (which is also its timestamp).
func (m *Mapper) FillUsage(lr plog.LogRecord, ev *event.Event, actor *process.Actor, cpuSeconds float64, rssBytes int64, observed time.Time) {
	lr.SetTimestamp(pcommon.NewTimestampFromTime(observed))
	lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(observed))
	lr.SetEventName(contract.EventUsage)
	a := lr.Attributes()
	m.common(a, ev, actor)
	a.PutDouble(contract.AttrProcessCPUTime, cpuSeconds)
	if rssBytes > 0 {
		a.PutInt(contract.AttrProcessMemoryRSS, rssBytes)
	}
}
