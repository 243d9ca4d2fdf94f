package ebpfreceiver

import (
	"context"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/event"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/metadatatest"
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

	// A loopback connection of this process that sent 5000 bytes the peer read.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	read := make(chan error, 1)
	done := make(chan struct{})
	defer close(done)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			defer c.Close()
			_, err = io.ReadFull(c, make([]byte, 5000))
		}
		read <- err
		<-done // keep the connection open while sampled
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Write(make([]byte, 5000))
	require.NoError(t, err)
	require.NoError(t, <-read)
	time.Sleep(20 * time.Millisecond) // the peer's ACK

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
	conns, ok := a.Get(contract.AttrProcessTCPConnections)
	require.True(t, ok)
	port := int64(ln.Addr().(*net.TCPAddr).Port)
	found := false
	for i := 0; i < conns.Slice().Len(); i++ {
		m := conns.Slice().At(i).Map()
		addr, _ := m.Get(contract.AttrServerAddress)
		p, _ := m.Get(contract.AttrServerPort)
		if addr.Str() == "127.0.0.1" && p.Int() == port {
			sent, _ := m.Get(contract.TCPBytesSent)
			assert.GreaterOrEqual(t, sent.Int(), int64(5000))
			found = true
		}
	}
	assert.True(t, found, "the loopback connection is listed: %v", conns.AsRaw())
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

// More miner-like processes than usage.max_processes: the watched ones and the refused ones (each
// once, however often it connects) are in the receiver's telemetry.
func TestUsageOverflowIsCounted(t *testing.T) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	cfg := testConfig(t)
	cfg.ProcfsRoot = t.TempDir()
	cfg.Usage.MaxProcesses = 2
	_, src, sink, _ := startFake(t, cfg, tel)
	for pid := uint32(600); pid < 605; pid++ {
		src.push(execEv(pid, 1, uint64(pid)*1e6, 1, "kworkerds", "/tmp/.x/kworkerds", "/tmp/.x/kworkerds"))
	}
	src.push(&event.Event{Kind: event.KindConnect, BootNS: 9e9, Proc: event.Process{PID: 604, StartBootNS: 604e6},
		Connect: &event.Connect{Family: 2, Transport: 6, Addr: [16]byte{203, 0, 113, 7}, Port: 3333}}) // refused again: not counted twice
	require.Eventually(t, func() bool { return sink.LogRecordCount() == 6 }, 5*time.Second, 5*time.Millisecond)
	metadatatest.AssertEqualEbpfUsageProcessesWatched(t, tel, []metricdata.DataPoint[int64]{{Value: 2}}, metricdatatest.IgnoreTimestamp())
	metadatatest.AssertEqualEbpfUsageWatchDropped(t, tel, []metricdata.DataPoint[int64]{{Value: 3}}, metricdatatest.IgnoreTimestamp())
	// No sample was taken yet, so no TCP count failed; the counter is there from the start.
	metadatatest.AssertEqualEbpfUsageTCPErrors(t, tel, []metricdata.DataPoint[int64]{{Value: 0}}, metricdatatest.IgnoreTimestamp())
}
