package ebpfreceiver

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/event"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/records"
)

func usageRecords(ld plog.Logs) []plog.LogRecord {
	var out []plog.LogRecord
	for i := 0; i < ld.ResourceLogs().Len(); i++ {
		sls := ld.ResourceLogs().At(i).ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			lrs := sls.At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				if lrs.At(k).EventName() == contract.EventUsage {
					out = append(out, lrs.At(k))
				}
			}
		}
	}
	return out
}

// A process that connected to a non-loopback address is sampled (here: this test process, through
// the real procfs); a loopback connect is not watched.
func TestUsageOfAProcessThatConnectedOut(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no procfs")
	}
	cfg := testConfig(t)
	cfg.ProcfsRoot = "/proc"
	p := newPipeline(cfg, records.Host{}, "test", "")
	self := uint32(os.Getpid())
	out := &event.Event{Proc: event.Process{PID: self, Comm: "test"}, Connect: &event.Connect{Family: 2, Transport: 6, Addr: [16]byte{203, 0, 113, 7}, Port: 3333}}
	lo := &event.Event{Proc: event.Process{PID: 1, Comm: "init"}, Connect: &event.Connect{Family: 2, Transport: 6, Addr: [16]byte{127, 0, 0, 1}, Port: 53}}
	p.handle(out, time.Now())
	p.handle(lo, time.Now())
	require.Equal(t, 1, p.usage.Len())
	p.take()

	p.sampleUsage(time.Now())
	ld, _ := p.take()
	recs := usageRecords(ld)
	require.Len(t, recs, 1)
	a := recs[0].Attributes()
	pid, _ := a.Get(contract.AttrProcessPID)
	assert.Equal(t, int64(self), pid.Int())
	cpu, ok := a.Get(contract.AttrProcessCPUTime)
	require.True(t, ok)
	assert.GreaterOrEqual(t, cpu.Double(), 0.0)
	rss, ok := a.Get(contract.AttrProcessMemoryRSS)
	require.True(t, ok)
	assert.Positive(t, rss.Int())
}

func TestUsageWatchesMinerLikeExecs(t *testing.T) {
	cfg := testConfig(t)
	cfg.ProcfsRoot = t.TempDir()
	p := newPipeline(cfg, records.Host{}, "test", "")
	p.handle(execEv(500, 1, 5e9, 1, "xmr", "/tmp/.x/xmr", "/tmp/.x/xmr"), time.Now())
	p.handle(execEv(501, 1, 5e9, 1, "ls", "/usr/bin/ls", "ls", "-l"), time.Now())
	p.handle(execEv(502, 1, 5e9, 1, "node", "/usr/bin/node", "node", "stratum+tcp://pool.example:3333"), time.Now())
	assert.Equal(t, 2, p.usage.Len())

	cfg.Usage.Interval = 0
	off := newPipeline(cfg, records.Host{}, "test", "")
	off.handle(execEv(500, 1, 5e9, 1, "xmr", "/tmp/.x/xmr", "/tmp/.x/xmr"), time.Now())
	assert.Nil(t, off.usage)
}
