package ebpfreceiver

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"
	"go.uber.org/zap"

	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/event"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/metadata"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/metadatatest"
)

// statusHost records component status reports.
type statusHost struct {
	component.Host
	mu     sync.Mutex
	events []*componentstatus.Event
}

func (h *statusHost) Report(ev *componentstatus.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, ev)
}

func (h *statusHost) statuses() []componentstatus.Status {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []componentstatus.Status
	for _, e := range h.events {
		out = append(out, e.Status())
	}
	return out
}

// flat is one record with its resource, for assertions.
type flat struct {
	res pcommon.Map
	lr  plog.LogRecord
}

func collected(sink *consumertest.LogsSink) []flat {
	var out []flat
	for _, ld := range sink.AllLogs() {
		for i := 0; i < ld.ResourceLogs().Len(); i++ {
			rl := ld.ResourceLogs().At(i)
			for j := 0; j < rl.ScopeLogs().Len(); j++ {
				lrs := rl.ScopeLogs().At(j).LogRecords()
				for k := 0; k < lrs.Len(); k++ {
					out = append(out, flat{rl.Resource().Attributes(), lrs.At(k)})
				}
			}
		}
	}
	return out
}

func find(recs []flat, name string, pid int64) (flat, bool) {
	for _, r := range recs {
		if r.lr.EventName() != name {
			continue
		}
		if v, ok := r.lr.Attributes().Get("process.pid"); pid == 0 || ok && v.Int() == pid {
			return r, true
		}
	}
	return flat{}, false
}

func str(m pcommon.Map, k string) string {
	v, ok := m.Get(k)
	if !ok {
		return ""
	}
	return v.AsString()
}

func testConfig(t *testing.T) *Config {
	cfg := createDefaultConfig()
	cfg.Snapshot = false
	cfg.Batch.Timeout = 20 * time.Millisecond
	cfg.HostRoot = t.TempDir()
	cfg.CgroupfsRoot = t.TempDir() // no real cgroup ids in fake events
	return cfg
}

func startFake(t *testing.T, cfg *Config, tel *componenttest.Telemetry) (*ebpfReceiver, *fakeSource, *consumertest.LogsSink, *statusHost) {
	t.Helper()
	src := newFakeSource()
	sink := new(consumertest.LogsSink)
	set := receivertest.NewNopSettings(metadata.Type)
	if tel != nil {
		set.TelemetrySettings = tel.NewTelemetrySettings()
	}
	r, err := newReceiver(set, cfg, sink, src.factory())
	require.NoError(t, err)
	host := &statusHost{Host: componenttest.NewNopHost()}
	require.NoError(t, r.Start(context.Background(), host))
	t.Cleanup(func() { require.NoError(t, r.Shutdown(context.Background())) })
	return r, src, sink, host
}

func execEv(pid, ppid uint32, start, pstart uint64, comm, exe string, args ...string) *event.Event {
	var a [][]byte
	for _, s := range args {
		a = append(a, []byte(s))
	}
	return &event.Event{Kind: event.KindExec, BootNS: start + 1000,
		Proc: event.Process{PID: pid, TID: pid, StartBootNS: start, PPID: ppid, ParentStartNS: pstart, Comm: comm, LoginUID: 4294967295, SessionID: 4294967295},
		Exec: &event.Exec{Filename: exe, ExePath: exe, Args: a, Argc: len(a)}}
}

func TestStartFailsWithSourceMessage(t *testing.T) {
	src := newFakeSource()
	src.startErr = errFakeStart
	r, err := newReceiver(receivertest.NewNopSettings(metadata.Type), testConfig(t), consumertest.NewNop(), src.factory())
	require.NoError(t, err)
	err = r.Start(context.Background(), componenttest.NewNopHost())
	require.ErrorContains(t, err, "CAP_BPF")
	assert.True(t, src.closed, "nothing stays attached after a failed Start")
	require.NoError(t, r.Shutdown(context.Background()))
}

func TestSourceOptions(t *testing.T) {
	cfg := testConfig(t)
	cfg.Network = false
	cfg.WatchedPaths.Add = []string{"/opt/x/"}
	_, src, _, _ := startFake(t, cfg, nil)
	assert.False(t, src.opts.Network)
	assert.True(t, src.opts.Exec)
	assert.Contains(t, src.opts.WatchedPrefixes, "/opt/x/")
	assert.Contains(t, src.opts.WatchedPrefixes, "/etc/cron")
	assert.Equal(t, []uint32{uint32(os.Getpid())}, src.opts.ExcludePIDs, "the collector's own activity is excluded")
	assert.Equal(t, cfg.RingBufferSize, src.opts.RingBufferSize)
}

func TestPipelineWithFakeSource(t *testing.T) {
	cfg := testConfig(t)
	require.NoError(t, os.MkdirAll(filepath.Join(cfg.HostRoot, "etc/cron.d"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(cfg.HostRoot, "etc/cron.d/miner"), []byte("* * * * * root /tmp/.x/run\n"), 0o644))
	_, src, sink, _ := startFake(t, cfg, nil)

	cron := execEv(500, 1, 1e9, 1, "cron", "/usr/sbin/cron", "/usr/sbin/cron", "-f")
	job := execEv(600, 500, 2e9, 1e9, "sh", "/bin/sh", "/bin/sh", "-c", "/tmp/.x/run")
	job.Exec.Env = [][]byte{[]byte("PATH=/usr/bin"), []byte("MINER_API_KEY=s3cret"), []byte("HOME=/root")}
	miner := execEv(601, 600, 3e9, 2e9, "run", "/tmp/.x/run", "/tmp/.x/run", "-o", "pool.test:3333")
	other := execEv(700, 1, 4e9, 1, "sshd", "/usr/sbin/sshd", "sshd")
	src.push(cron, job, miner, other)

	q := new(dns.Msg)
	q.SetQuestion("pool.test.", dns.TypeA)
	q.Id = 777
	qb, _ := q.Pack()
	a := new(dns.Msg)
	a.SetReply(q)
	a.Answer = append(a.Answer, &dns.A{Hdr: dns.RR_Header{Name: "pool.test.", Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 5}, A: []byte{10, 9, 8, 7}})
	ab, _ := a.Pack()
	proc := miner.Proc
	src.push(
		&event.Event{Kind: event.KindDNS, BootNS: 3e9 + 10, Proc: proc, DNS: &event.DNSPacket{Egress: true, Family: 2, Transport: 17, SrcPort: 40000, DstPort: 53, DstAddr: [16]byte{127, 0, 0, 1}, Payload: qb}},
		&event.Event{Kind: event.KindDNS, BootNS: 3e9 + 20, DNS: &event.DNSPacket{Family: 2, Transport: 17, SrcPort: 53, DstPort: 40000, SrcAddr: [16]byte{127, 0, 0, 1}, Payload: ab}},
		&event.Event{Kind: event.KindDNS, BootNS: 3e9 + 25, Proc: proc, DNS: &event.DNSPacket{Egress: true, Family: 2, Transport: 17, Payload: []byte{1, 2, 3}}},
		&event.Event{Kind: event.KindConnect, BootNS: 3e9 + 30, Proc: proc, Connect: &event.Connect{Family: 2, Transport: 6, Addr: [16]byte{10, 9, 8, 7}, Port: 3333, Errno: 111}},
		&event.Event{Kind: event.KindFile, BootNS: 3e9 + 40, Proc: job.Proc, File: &event.File{Op: event.FileCreate, Path: "/etc/cron.d/miner", WriteIntent: true, Mode: 0o644}},
		&event.Event{Kind: event.KindRename, BootNS: 3e9 + 45, Proc: proc, Rename: &event.Rename{OldComm: "run", NewComm: "kworker/0:2"}},
		&event.Event{Kind: event.KindExit, BootNS: 3e9 + 50, Proc: proc, Exit: &event.Exit{Code: 0, UserNS: 2e9, SystemNS: 1e8}},
	)

	require.Eventually(t, func() bool {
		_, ok := find(collected(sink), "cryptochain.file.write", 600)
		return ok
	}, 5*time.Second, 10*time.Millisecond)
	recs := collected(sink)

	jr, ok := find(recs, "cryptochain.process.exec", 600)
	require.True(t, ok)
	assert.Equal(t, "cron", str(jr.res, "cryptochain.context.kind"))
	cronCtx := str(jr.res, "cryptochain.context.id")
	assert.Equal(t, "[REDACTED]", str(jr.lr.Attributes(), "process.environment_variable.MINER_API_KEY"))
	assert.Equal(t, "/root", str(jr.lr.Attributes(), "process.environment_variable.HOME"))

	mr, ok := find(recs, "cryptochain.process.exec", 601)
	require.True(t, ok)
	assert.Equal(t, cronCtx, str(mr.res, "cryptochain.context.id"), "children inherit the context")
	anc, _ := mr.lr.Attributes().Get("cryptochain.process.ancestors")
	assert.Equal(t, []any{int64(600), int64(500), int64(1)}, anc.Slice().AsRaw())

	sr, ok := find(recs, "cryptochain.process.exec", 700)
	require.True(t, ok)
	assert.NotEqual(t, cronCtx, str(sr.res, "cryptochain.context.id"))
	assert.Equal(t, "systemd", str(sr.res, "cryptochain.context.kind"))

	ans, ok := find(recs, "cryptochain.dns.answer", 601)
	require.True(t, ok, "the answer is attributed to the process that asked")
	v, _ := ans.lr.Attributes().Get("dns.answers")
	assert.Equal(t, []any{"10.9.8.7"}, v.Slice().AsRaw())
	assert.Equal(t, cronCtx, str(ans.res, "cryptochain.context.id"))

	cr, ok := find(recs, "cryptochain.network.connect", 601)
	require.True(t, ok)
	assert.Equal(t, "ECONNREFUSED", str(cr.lr.Attributes(), "error.type"))
	assert.Equal(t, "/tmp/.x/run", str(cr.lr.Attributes(), "process.executable.path"))

	fw, ok := find(recs, "cryptochain.file.write", 600)
	require.True(t, ok)
	assert.Equal(t, "* * * * * root /tmp/.x/run\n", str(fw.lr.Attributes(), "cryptochain.file.content"))
	assert.Equal(t, "ok", str(fw.lr.Attributes(), "cryptochain.file.read_status"))
	assert.Equal(t, "host", str(fw.lr.Attributes(), "cryptochain.file.read_root"), "the writer is gone: read under the host root, and said so")

	ex, ok := find(recs, "cryptochain.process.exit", 601)
	require.True(t, ok)
	assert.Equal(t, "2.1", str(ex.lr.Attributes(), "cryptochain.process.cpu.time"))
	_, ok = find(recs, "cryptochain.process.rename", 601)
	assert.True(t, ok)

	for _, r := range recs {
		assert.NotZero(t, r.lr.Timestamp())
		assert.NotZero(t, r.lr.ObservedTimestamp())
	}
	// Records of different contexts never share a ResourceLogs.
	for _, ld := range sink.AllLogs() {
		seen := map[string]bool{}
		for i := 0; i < ld.ResourceLogs().Len(); i++ {
			id := str(ld.ResourceLogs().At(i).Resource().Attributes(), "cryptochain.context.id") + str(ld.ResourceLogs().At(i).Resource().Attributes(), "process.linux.cgroup")
			assert.False(t, seen[id], "context %s split over two ResourceLogs", id)
			seen[id] = true
		}
	}
}

func TestBatchingBySizeAndTime(t *testing.T) {
	cfg := testConfig(t)
	cfg.Batch.Size = 2
	cfg.Batch.Timeout = 50 * time.Millisecond
	_, src, sink, _ := startFake(t, cfg, nil)
	for i := uint32(0); i < 5; i++ {
		src.push(execEv(1000+i, 1, uint64(i+1)*1e9, 1, "true", "/bin/true", "true"))
	}
	require.Eventually(t, func() bool { return sink.LogRecordCount() == 5 }, 5*time.Second, 5*time.Millisecond)
	for _, ld := range sink.AllLogs() {
		assert.LessOrEqual(t, ld.LogRecordCount(), 2)
	}
}

func TestReaderFailureIsPermanentError(t *testing.T) {
	src := newFakeSource()
	src.runErr = errors.New("ring buffer closed unexpectedly")
	r, err := newReceiver(receivertest.NewNopSettings(metadata.Type), testConfig(t), consumertest.NewNop(), src.factory())
	require.NoError(t, err)
	host := &statusHost{Host: componenttest.NewNopHost()}
	require.NoError(t, r.Start(context.Background(), host))
	require.Eventually(t, func() bool { return len(host.statuses()) == 1 }, 5*time.Second, 5*time.Millisecond)
	assert.Equal(t, componentstatus.StatusPermanentError, host.statuses()[0])
	require.NoError(t, r.Shutdown(context.Background()))
}

func TestEventsCountedPerType(t *testing.T) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	_, src, sink, _ := startFake(t, testConfig(t), tel)
	src.push(execEv(900, 1, 1e9, 1, "a", "/bin/a", "a"), execEv(901, 1, 2e9, 1, "b", "/bin/b", "b"),
		&event.Event{Kind: event.KindConnect, BootNS: 3e9, Proc: event.Process{PID: 900, StartBootNS: 1e9}, Connect: &event.Connect{Family: 2, Transport: 6, Port: 1}})
	require.Eventually(t, func() bool { return sink.LogRecordCount() == 3 }, 5*time.Second, 5*time.Millisecond)
	metadatatest.AssertEqualEbpfEvents(t, tel, []metricdata.DataPoint[int64]{
		{Value: 2, Attributes: attribute.NewSet(attribute.String("type", "exec"))},
		{Value: 1, Attributes: attribute.NewSet(attribute.String("type", "connect"))},
	}, metricdatatest.IgnoreTimestamp())
}

func TestLossIsCountedAndReported(t *testing.T) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	r, src, _, host := startFake(t, testConfig(t), tel)
	src.addLost(event.KindExec, 7)
	src.addLost(event.KindConnect, 2)
	r.checkLoss()
	r.checkLoss() // no new loss: back to OK
	r.checkLoss()
	assert.Equal(t, []componentstatus.Status{componentstatus.StatusRecoverableError, componentstatus.StatusOK}, host.statuses(),
		"status changes on transitions only")
	// Every kind has a series from the start (zero until something is lost).
	want := []metricdata.DataPoint[int64]{}
	for k := event.Kind(0); k < event.KindCount; k++ {
		v := map[event.Kind]int64{event.KindExec: 7, event.KindConnect: 2}[k]
		want = append(want, metricdata.DataPoint[int64]{Value: v, Attributes: attribute.NewSet(attribute.String("type", k.String()))})
	}
	metadatatest.AssertEqualEbpfEventsLost(t, tel, want, metricdatatest.IgnoreTimestamp())
	metadatatest.AssertEqualEbpfRecordsDropped(t, tel, []metricdata.DataPoint[int64]{{Value: 0}}, metricdatatest.IgnoreTimestamp())
	metadatatest.AssertEqualEbpfReadbackDropped(t, tel, []metricdata.DataPoint[int64]{
		{Value: 0, Attributes: attribute.NewSet(attribute.String("kind", "persistence"))},
		{Value: 0, Attributes: attribute.NewSet(attribute.String("kind", "config_file"))},
	}, metricdatatest.IgnoreTimestamp())
}

func TestSnapshotOnlyNeedsNoSource(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	cfg := createDefaultConfig()
	cfg.Exec, cfg.Exit, cfg.Network, cfg.DNS, cfg.Files, cfg.Sysctl, cfg.Rename = false, false, false, false, false, false, false
	cfg.Kill, cfg.FPU, cfg.Payload = false, false, false
	sink := new(consumertest.LogsSink)
	set := receivertest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	r, err := newReceiver(set, cfg, sink, func(event.Options, *zap.Logger) (event.Source, error) {
		t.Fatal("no kernel source when every kernel family is off")
		return nil, nil
	})
	require.NoError(t, err)
	require.NoError(t, r.Start(context.Background(), componenttest.NewNopHost()))
	var sleeper flat
	require.Eventually(t, func() bool {
		var ok bool
		sleeper, ok = find(collected(sink), "cryptochain.process.exec", int64(cmd.Process.Pid))
		return ok
	}, 10*time.Second, 20*time.Millisecond)
	require.NoError(t, r.Shutdown(context.Background()))
	assert.Equal(t, "procfs", str(sleeper.lr.Attributes(), "cryptochain.event.source"))
	assert.Equal(t, "sleep 30", str(sleeper.lr.Attributes(), "process.command_line"))
	assert.NotEmpty(t, str(sleeper.res, "cryptochain.context.id"))
	assert.NotEmpty(t, str(sleeper.res, "host.name"))
	_, self := find(collected(sink), "cryptochain.process.exec", int64(os.Getpid()))
	assert.False(t, self, "the collector itself is not reported")
	metadatatest.AssertEqualEbpfRecordsEmitted(t, tel, []metricdata.DataPoint[int64]{{Value: int64(sink.LogRecordCount())}}, metricdatatest.IgnoreTimestamp())
}

func TestMinerConfigFileOfSuspiciousExec(t *testing.T) {
	cfg := testConfig(t)
	cfg.ProcfsRoot = t.TempDir()
	dir := filepath.Join(cfg.ProcfsRoot, "4242", "root", "tmp", ".x")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"),
		[]byte(`{"pools":[{"url":"pool.cryptochain-test.invalid:443","user":"4wallet","pass":"w1","tls":true}],"randomx":{"wrmsr":true}}`), 0o644))
	// A look-alike: a config.json beside an ordinary program is not looked for.
	odir := filepath.Join(cfg.ProcfsRoot, "4243", "root", "opt", "app")
	require.NoError(t, os.MkdirAll(odir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(odir, "config.json"), []byte(`{"pools":[{"url":"x:1","user":"y"}]}`), 0o644))
	_, src, sink, _ := startFake(t, cfg, nil)

	miner := execEv(4242, 1, 5e9, 1, "kworkerds", "/tmp/.x/kworkerds", "kworkerds")
	miner.Proc.EUID = 0
	src.push(miner, execEv(4243, 1, 6e9, 1, "app", "/opt/app/app", "app"))
	// A re-exec is read again unless the first read is still pending (then the two are merged):
	// which happens depends on the read-back workers, so one or two reads are right.
	src.push(execEv(4242, 1, 5e9, 1, "kworkerds", "/tmp/.x/kworkerds", "kworkerds"))
	f := waitRecord(t, sink, func(f flat) bool { return f.lr.EventName() == "cryptochain.process.config_file" })
	a := f.lr.Attributes()
	assert.Equal(t, "/tmp/.x/config.json", str(a, "file.path"))
	assert.Equal(t, "4242", str(a, "process.pid"))
	assert.Contains(t, str(a, "cryptochain.file.content"), `"user":"4wallet"`)
	assert.NotContains(t, str(a, "cryptochain.file.content"), "w1")
	time.Sleep(300 * time.Millisecond)
	n := 0
	for _, f := range collected(sink) {
		if f.lr.EventName() == "cryptochain.process.config_file" {
			n++
			assert.Equal(t, "4242", str(f.lr.Attributes(), "process.pid"))
		}
	}
	assert.True(t, n == 1 || n == 2, "one read per exec of the suspicious program at most, none for the ordinary program: %d", n)
}

func waitRecord(t *testing.T, sink *consumertest.LogsSink, ok func(flat) bool) flat {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		for _, f := range collected(sink) {
			if ok(f) {
				return f
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("record not seen within 5s")
	return flat{}
}

// A fifo planted at a persistence path neither blocks the events after it nor is opened: the write is
// reported with read_status not_regular, and later events flow meanwhile.
func TestPersistenceFifoDoesNotStallEvents(t *testing.T) {
	cfg := testConfig(t)
	cfg.ProcfsRoot = t.TempDir() // the writer is gone: its host root is read
	require.NoError(t, os.MkdirAll(filepath.Join(cfg.HostRoot, "etc/cron.d"), 0o755))
	require.NoError(t, syscall.Mkfifo(filepath.Join(cfg.HostRoot, "etc/cron.d/fifo"), 0o644))
	_, src, sink, _ := startFake(t, cfg, nil)
	writer := execEv(600, 1, 2e9, 1, "sh", "/bin/sh", "/bin/sh")
	src.push(writer,
		&event.Event{Kind: event.KindFile, BootNS: 3e9, Proc: writer.Proc, File: &event.File{Op: event.FileCreate, Path: "/etc/cron.d/fifo", WriteIntent: true, Mode: 0o644}},
		execEv(601, 1, 4e9, 1, "later", "/bin/later", "later"))
	require.Eventually(t, func() bool {
		_, ok := find(collected(sink), "cryptochain.process.exec", 601)
		return ok
	}, 5*time.Second, 10*time.Millisecond, "events after the write are not held up")
	var fw flat
	require.Eventually(t, func() bool {
		var ok bool
		fw, ok = find(collected(sink), "cryptochain.file.write", 600)
		return ok
	}, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, "not_regular", str(fw.lr.Attributes(), "cryptochain.file.read_status"))
	assert.Equal(t, "host", str(fw.lr.Attributes(), "cryptochain.file.read_root"))
	assert.Empty(t, str(fw.lr.Attributes(), "cryptochain.file.content"))
}
