package cryptochainresponseexporter

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/cryptochain-otel/cryptochain/exporter/cryptochainresponseexporter/internal/metadata"
	"github.com/cryptochain-otel/cryptochain/internal/contract"
)

// testFinding describes a finding record to build.
type testFinding struct {
	id, severity, cgroup, containerID, image, hostName string
	minerPIDs                                          []int
	// minerSeen is the evidence time of the miners (default: now).
	minerSeen time.Time
	minerExe  string
	// weakPIDs are miner pids with only weak evidence (a binary in /tmp).
	weakPIDs  []int
	endpoints []string
	poolIPs   map[string]string // ip → endpoint (pool_address evidence)
	persist   []string
}

func (tf testFinding) logs() plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	res := rl.Resource().Attributes()
	res.PutStr(contract.ResourceHostID, "test-host-id")
	if tf.hostName != "" {
		res.PutStr(contract.ResourceHostName, tf.hostName)
	}
	if tf.cgroup != "" {
		res.PutStr(contract.ResourceProcessLinuxCgroup, "0::"+tf.cgroup)
	}
	if tf.containerID != "" {
		res.PutStr(contract.ResourceContainerID, tf.containerID)
	}
	if tf.image != "" {
		res.PutStr(contract.ResourceContainerImageName, tf.image)
	}
	res.PutStr(contract.ResourceContextID, "login_session:test")
	lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.SetEventName(contract.EventFinding)
	a := lr.Attributes()
	a.PutStr(contract.AttrFindingID, tf.id)
	a.PutStr(contract.AttrFindingSeverity, tf.severity)
	seen := tf.minerSeen
	if seen.IsZero() {
		seen = time.Now()
	}
	a.PutStr(contract.AttrFindingLastSeen, seen.UTC().Format(time.RFC3339Nano))
	pids := a.PutEmptySlice(contract.AttrResponseMinerPIDs)
	ev := a.PutEmptySlice(contract.AttrFindingEvidencePrefix + "miner")
	for _, p := range tf.minerPIDs {
		pids.AppendEmpty().SetInt(int64(p))
		m := ev.AppendEmpty().SetEmptyMap()
		m.PutStr(evTime, seen.UTC().Format(time.RFC3339Nano))
		m.PutStr(evKind, "pool_url")
		m.PutStr(evStrength, evStrong)
		m.PutInt(evPID, int64(p))
		if tf.minerExe != "" {
			m.PutStr(evExe, tf.minerExe)
		}
	}
	for _, p := range tf.weakPIDs {
		pids.AppendEmpty().SetInt(int64(p))
		m := ev.AppendEmpty().SetEmptyMap()
		m.PutStr(evTime, seen.UTC().Format(time.RFC3339Nano))
		m.PutStr(evKind, "masquerade")
		m.PutStr(evStrength, "weak")
		m.PutInt(evPID, int64(p))
	}
	pool := a.PutEmptySlice(contract.AttrFindingEvidencePrefix + "pool")
	for ip, ep := range tf.poolIPs {
		m := pool.AppendEmpty().SetEmptyMap()
		m.PutStr(evKind, evKindPoolIP)
		m.PutStr(evIndicator, ip)
		m.PutStr(evEndpoint, ep)
	}
	putStrs(a, contract.AttrResponsePoolEndpoints, tf.endpoints)
	putStrs(a, contract.AttrResponsePersistencePaths, tf.persist)
	return ld
}

func putStrs(m pcommon.Map, k string, vs []string) {
	s := m.PutEmptySlice(k)
	for _, v := range vs {
		s.AppendEmpty().SetStr(v)
	}
}

// started runs one exporter with cfg until the test ends.
type started struct {
	exp     exporter.Logs
	audit   string
	tel     *componenttest.Telemetry
	stopped bool
}

// shutdown stops the exporter before the test ends.
func (s *started) shutdown(t *testing.T) {
	t.Helper()
	require.NoError(t, s.exp.Shutdown(context.Background()))
	s.stopped = true
}

func startExporter(t *testing.T, mutate func(*Config)) *started {
	t.Helper()
	dir := t.TempDir()
	cfg := createDefaultConfig().(*Config)
	cfg.Audit.Path = filepath.Join(dir, "audit.jsonl")
	cfg.Quarantine.Directory = filepath.Join(dir, "quarantine")
	cfg.KillSwitchFile = filepath.Join(dir, "disabled")
	cfg.Block.ListFile = filepath.Join(dir, "blocks.json")
	if mutate != nil {
		mutate(cfg)
	}
	require.NoError(t, cfg.Validate())
	tel := componenttest.NewTelemetry()
	set := exportertest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	exp, err := NewFactory().CreateLogs(context.Background(), set, cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(context.Background(), componenttest.NewNopHost()))
	s := &started{exp: exp, audit: cfg.Audit.Path, tel: tel}
	t.Cleanup(func() {
		if !s.stopped {
			require.NoError(t, exp.Shutdown(context.Background()))
		}
		require.NoError(t, tel.Shutdown(context.Background()))
	})
	return s
}

// auditRecord is one audit line, flattened.
type auditRecord struct {
	Action, Target, Result, Reason, FindingID string
	DryRun                                    bool
	Attrs                                     map[string]any
}

// records waits until the audit file holds at least n records and returns them all.
func (s *started) records(t *testing.T, n int) []auditRecord {
	t.Helper()
	var out []auditRecord
	require.Eventually(t, func() bool {
		out = readAudit(t, s.audit)
		return len(out) >= n
	}, 5*time.Second, 10*time.Millisecond, "audit records: want %d, have %v", n, func() []auditRecord { return out })
	return out
}

func readAudit(t *testing.T, path string) []auditRecord {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out []auditRecord
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		ld, err := (&plog.JSONUnmarshaler{}).UnmarshalLogs(sc.Bytes())
		require.NoError(t, err, "audit line is OTLP JSON: %s", sc.Text())
		lr := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
		require.Equal(t, EventAction, lr.EventName())
		a := lr.Attributes()
		dry, _ := a.Get(AttrDryRun)
		out = append(out, auditRecord{Action: str(a, AttrAction), Target: str(a, AttrTarget), Result: str(a, AttrResult),
			Reason: str(a, AttrReason), FindingID: str(a, contract.AttrFindingID), DryRun: dry.Bool(), Attrs: a.AsRaw()})
	}
	return out
}

func (s *started) consume(t *testing.T, tf testFinding) {
	t.Helper()
	require.NoError(t, s.exp.ConsumeLogs(context.Background(), tf.logs()))
}
