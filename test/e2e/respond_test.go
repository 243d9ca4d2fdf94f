package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
	"github.com/cryptochain-otel/cryptochain/internal/sim/netns"
	"github.com/cryptochain-otel/cryptochain/internal/sim/scenario"
	"github.com/cryptochain-otel/cryptochain/internal/testutil"
)

// Response audit records (exporter/cryptochainresponseexporter README).
const (
	eventResponseAction = "cryptochain.response.action"
	attrRespAction      = "cryptochain.response.action"
	attrRespTarget      = "cryptochain.response.target"
	attrRespResult      = "cryptochain.response.result"
	attrRespDryRun      = "cryptochain.response.dry_run"
	attrRespQuarantine  = "cryptochain.response.quarantine.id"
	cgroup2Root         = "/sys/fs/cgroup/unified"
)

// responder is an agent whose findings go to a file and to the response exporter.
type responder struct {
	dir, findings, audit, quarantine string
	agent                            *collector
}

// startResponder runs the agent pipeline (ebpf → cryptochain) with the cryptochain_response
// exporter configured by respCfg (YAML lines under the exporter, indented by 4 spaces).
func startResponder(t *testing.T, respCfg string) *responder {
	t.Helper()
	requireE2E(t)
	r := &responder{dir: t.TempDir()}
	r.findings = filepath.Join(r.dir, "findings.jsonl")
	r.audit = filepath.Join(r.dir, "audit.jsonl")
	r.quarantine = filepath.Join(r.dir, "quarantine")
	cfg := fmt.Sprintf(`receivers:
  ebpf: {}
processors:
  cryptochain:
    forward: none
exporters:
  file:
    path: %s
    flush_interval: 50ms
  cryptochain_response:
    audit:
      path: %s
    quarantine:
      directory: %s
    kill_switch_file: %s
%s
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    logs:
      receivers: [ebpf]
      processors: [cryptochain]
      exporters: [cryptochain_response, file]
`, r.findings, r.audit, r.quarantine, filepath.Join(r.dir, "disabled"), respCfg)
	path := filepath.Join(r.dir, "agent.yaml")
	require.NoError(t, os.WriteFile(path, []byte(cfg), 0o644))
	r.agent = startCollector(t, "response-agent", r.dir, nil, "--config", path)
	require.NoError(t, r.agent.waitReady(60*time.Second))
	return r
}

// respFinding is one finding record as the agent's file exporter wrote it.
type respFinding struct {
	Severity string
	Observed time.Time
	Attrs    map[string]any
	Resource map[string]any
}

func (r *responder) readFindings() []respFinding {
	var out []respFinding
	eachRecord(r.findings, func(res map[string]any, lr plog.LogRecord) {
		if lr.EventName() == contract.EventFinding {
			sev, _ := lr.Attributes().Get(attrSeverity)
			out = append(out, respFinding{Severity: sev.AsString(), Observed: lr.ObservedTimestamp().AsTime(),
				Attrs: lr.Attributes().AsRaw(), Resource: res})
		}
	})
	return out
}

// auditRec is one audit record.
type auditRec struct {
	Time                                   time.Time
	Action, Target, Result, FindingID, Why string
	DryRun                                 bool
	Attrs                                  map[string]any
}

func (a auditRec) String() string {
	return fmt.Sprintf("%s %q: %s (%s)", a.Action, a.Target, a.Result, a.Why)
}

func (r *responder) readAudit() []auditRec {
	var out []auditRec
	eachRecord(r.audit, func(_ map[string]any, lr plog.LogRecord) {
		if lr.EventName() != eventResponseAction {
			return
		}
		m := lr.Attributes().AsRaw()
		s := func(k string) string { v, _ := m[k].(string); return v }
		dry, _ := m[attrRespDryRun].(bool)
		out = append(out, auditRec{Time: lr.Timestamp().AsTime(), Action: s(attrRespAction), Target: s(attrRespTarget),
			Result: s(attrRespResult), FindingID: s(attrID), Why: s("cryptochain.response.reason"), DryRun: dry, Attrs: m})
	})
	return out
}

// waitAudit polls the audit until cond holds.
func (r *responder) waitAudit(t *testing.T, timeout time.Duration, what string, cond func([]auditRec) bool) []auditRec {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		recs := r.readAudit()
		if cond(recs) {
			return recs
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s in the audit after %s; audit: %v", what, timeout, recs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func hasAudit(action, result string) func([]auditRec) bool {
	return func(recs []auditRec) bool {
		return slices.ContainsFunc(recs, func(a auditRec) bool { return a.Action == action && a.Result == result })
	}
}

func eachRecord(path string, fn func(res map[string]any, lr plog.LogRecord)) {
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 4<<20), 4<<20)
	for sc.Scan() {
		ld, err := (&plog.JSONUnmarshaler{}).UnmarshalLogs(sc.Bytes())
		if err != nil {
			continue
		}
		for i := 0; i < ld.ResourceLogs().Len(); i++ {
			rl := ld.ResourceLogs().At(i)
			res := rl.Resource().Attributes().AsRaw()
			for j := 0; j < rl.ScopeLogs().Len(); j++ {
				lrs := rl.ScopeLogs().At(j).LogRecords()
				for k := 0; k < lrs.Len(); k++ {
					fn(res, lrs.At(k))
				}
			}
		}
	}
}

// respondingChain is test/e2e/testdata/respond-critical-chain.yaml: the Critical chain with its
// miner in the background, a pause before persistence and one at the end (see its header).
func respondingChain(t *testing.T) *scenario.Scenario {
	t.Helper()
	sc, err := scenario.Load(filepath.Join(repoRoot, "test", "e2e", "testdata", "respond-critical-chain.yaml"))
	require.NoError(t, err)
	return sc
}

// playing is a chainsim play running in the background.
type playing struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	res    string
	done   chan error
}

func startPlay(t *testing.T, sc *scenario.Scenario) *playing {
	t.Helper()
	chainsim := simTools(t)
	p := &playing{stderr: &syncBuffer{}, res: filepath.Join(t.TempDir(), "result.json"), done: make(chan error, 1)}
	p.cmd = exec.Command(chainsim, "play", "--result", p.res, "--fakeminer", filepath.Join(filepath.Dir(chainsim), "fakeminer"), sc.File)
	p.cmd.Stdout, p.cmd.Stderr = p.stderr, p.stderr
	require.NoError(t, p.cmd.Start())
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			// SIGTERM: chainsim restores its journal (netns, cron, sysctls) before it exits.
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-p.done:
			case <-time.After(30 * time.Second):
				_ = p.cmd.Process.Kill()
			}
		}
		if t.Failed() {
			t.Logf("--- chainsim output ---\n%s", tail(p.stderr.String(), 4000))
		}
	})
	return p
}

// wait returns the result; the play may end in error when the response killed its miner.
func (p *playing) wait(t *testing.T, timeout time.Duration) (*scenario.Result, error) {
	t.Helper()
	var werr error
	select {
	case werr = <-p.done:
	case <-time.After(timeout):
		t.Fatalf("chainsim still running after %s:\n%s", timeout, tail(p.stderr.String(), 4000))
	}
	b, err := os.ReadFile(p.res)
	require.NoError(t, err, "chainsim wrote no result: %v\n%s", werr, p.stderr.String())
	var res scenario.Result
	require.NoError(t, json.Unmarshal(b, &res))
	return &res, werr
}

// procWatch records, every 10 ms, when processes named comm appear and disappear (or turn zombie).
type procWatch struct {
	stop chan struct{}
	done chan struct{}
	seen map[int][2]time.Time // pid → first seen, gone
}

func watchProcs(t *testing.T, comm string) *procWatch {
	w := &procWatch{stop: make(chan struct{}), done: make(chan struct{}), seen: map[int][2]time.Time{}}
	go func() {
		defer close(w.done)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			now := time.Now()
			live := map[int]bool{}
			for _, ps := range procStats() {
				if ps.comm != comm || ps.fields[0] == "Z" {
					continue
				}
				pid := ps.pid
				live[pid] = true
				if _, ok := w.seen[pid]; !ok {
					w.seen[pid] = [2]time.Time{now}
				}
			}
			for pid, v := range w.seen {
				if !live[pid] && v[1].IsZero() {
					w.seen[pid] = [2]time.Time{v[0], now}
				}
			}
			select {
			case <-w.stop:
				return
			case <-tick.C:
			}
		}
	}()
	t.Cleanup(w.close)
	return w
}

func (w *procWatch) close() {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.done
}

// gone returns when pid disappeared (zero if it did not, or was never seen).
func (w *procWatch) gone(pid int) time.Time {
	w.close()
	return w.seen[pid][1]
}

// procStat is one /proc/<pid>/stat: fields start at the state (field 3).
type procStat struct {
	pid    int
	comm   string
	fields []string
}

// procStats reads every process's stat line (comm may hold spaces and parentheses).
func procStats() []procStat {
	var out []procStat
	paths, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		s := string(b)
		open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || end < open {
			continue
		}
		ps := procStat{comm: s[open+1 : end], fields: strings.Fields(s[end+1:])}
		if _, err := fmt.Sscan(s[:open], &ps.pid); err != nil || len(ps.fields) < 20 {
			continue
		}
		out = append(out, ps)
	}
	return out
}

// newNetns waits for a chainsim namespace that did not exist in before.
func newNetns(t *testing.T, before []string, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		now, _ := filepath.Glob("/run/netns/chainsim-*")
		for _, n := range now {
			if !slices.Contains(before, n) {
				return filepath.Base(n)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no new chainsim network namespace after %s", timeout)
	return ""
}

// dialIn connects to addr from inside namespace ns.
func dialIn(ns, addr string) error {
	return netns.Do(ns, func() error {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return err
		}
		return c.Close()
	})
}

// denyLinks lists the BPF links of the response exporter's deny programs (deny_connect4/6,
// deny_sendmsg4/6); other components' links are left out.
func denyLinks(t *testing.T) []string {
	return testutil.BPFLinks(t, "deny_")
}

// cronSnapshot is every file under /etc/cron.d with its content.
func cronSnapshot(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	paths, _ := filepath.Glob("/etc/cron.d/*")
	for _, p := range paths {
		b, _ := os.ReadFile(p)
		out[p] = string(b)
	}
	return out
}

// daemonSnapshot is every process that was started by init before the test (pid and start
// time): long-lived processes a response must never touch.
func daemonSnapshot(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, ps := range procStats() {
		// fields[1] is the parent pid, fields[19] the start time.
		if ps.fields[1] == "1" || ps.fields[1] == "0" {
			out = append(out, fmt.Sprintf("%d@%s", ps.pid, ps.fields[19]))
		}
	}
	slices.Sort(out)
	return out
}

// cronLine is what the Critical chain writes to its cron file.
func cronLine(t *testing.T, sc *scenario.Scenario) (string, []byte) {
	t.Helper()
	for _, st := range sc.Steps {
		if st.CronD != nil {
			return filepath.Join("/etc/cron.d", st.CronD.Name), []byte(st.CronD.Line + "\n")
		}
	}
	t.Fatal("the chain writes no cron file")
	return "", nil
}

// TestRespondCriticalChain plays the Critical chain against an active response: the miner is
// killed within 1 s of the Medium finding, the pool address is refused (EPERM) from the chain's
// namespace, the cron file is quarantined and restored byte for byte, and each action is
// audited once.
func TestRespondCriticalChain(t *testing.T) {
	require.Empty(t, denyLinks(t), "no response deny program is attached before the test")
	r := startResponder(t, "    dry_run: false")
	sc := respondingChain(t)
	cronPath, cronContent := cronLine(t, sc)
	t.Cleanup(func() {
		// The restored cron file is this test's: remove it (only if it is still what the chain wrote).
		if b, err := os.ReadFile(cronPath); err == nil && bytes.Equal(b, cronContent) {
			_ = os.Remove(cronPath)
		}
	})
	nsBefore, _ := filepath.Glob("/run/netns/chainsim-*")
	miners := watchProcs(t, "xmrig")
	p := startPlay(t, sc)
	ns := newNetns(t, nsBefore, 15*time.Second)

	recs := r.waitAudit(t, findingTimeout, "terminate", hasAudit("terminate", "done"))
	var term auditRec
	for _, a := range recs {
		if a.Action == "terminate" && a.Result == "done" {
			term = a
			break
		}
	}
	pid := int(term.Attrs[attrProcessPID].(int64))

	// A new connect from the chain's namespace: the pool address is refused, the same pool on
	// another loopback address is not.
	r.waitAudit(t, findingTimeout, "block", hasAudit("block", "done"))
	assert.Len(t, denyLinks(t), 4, "the deny programs are attached (connect4/6, sendmsg4/6)")
	err := dialIn(ns, "127.0.3.1:3333")
	assert.ErrorIs(t, err, syscall.EPERM, "connect to the blocked pool address from %s", ns)
	assert.NoError(t, dialIn(ns, "127.0.0.1:3333"), "the fake pool itself still answers on another address")

	r.waitAudit(t, findingTimeout, "quarantine", hasAudit("quarantine", "done"))
	assert.NoFileExists(t, cronPath, "the cron file was quarantined")

	res, playErr := p.wait(t, 60*time.Second)
	t.Logf("chainsim ended with %v (its background miner was killed)", playErr)
	assert.Contains(t, res.MinerPids, pid, "the killed process is the chain's miner")
	assert.Contains(t, res.Error, "killed", "chainsim saw its miner die of a signal")

	// Within 1 s of the Medium finding.
	var medium respFinding
	for _, f := range r.readFindings() {
		_, update := f.Attrs[attrUpdateReasons]
		if f.Severity == "medium" && !update && medium.Observed.IsZero() && slices.Contains(asInts(f.Attrs[attrMinerPIDs]), int64(pid)) {
			medium = f
		}
	}
	require.False(t, medium.Observed.IsZero(), "the Medium finding naming pid %d: %v", pid, r.readFindings())
	gone := miners.gone(pid)
	require.False(t, gone.IsZero(), "the miner %d was seen and then disappeared", pid)
	t.Logf("miner pid %d gone %s after the Medium finding was emitted (audit at %s)", pid,
		gone.Sub(medium.Observed).Round(time.Millisecond), term.Time.Sub(medium.Observed).Round(time.Millisecond))
	assert.Less(t, gone.Sub(medium.Observed), time.Second, "dead within 1 s of the Medium finding")

	// One audit record per action: no (action, target) twice, every finding id the chain's.
	recs = r.readAudit()
	seen := map[string]bool{}
	for _, a := range recs {
		k := a.Action + " " + a.Target
		assert.False(t, seen[k], "audited twice: %s", k)
		seen[k] = true
		assert.Equal(t, medium.Attrs[attrID], a.FindingID)
		assert.False(t, a.DryRun)
	}
	want := map[string]string{"terminate": "done", "block": "done", "quarantine": "done", "isolate": "skipped"}
	for action, result := range want {
		assert.True(t, hasAudit(action, result)(recs), "%s %s in %v", action, result, recs)
	}
	t.Logf("audit: %v", recs)

	// Restore puts the cron file back byte for byte.
	var qid string
	for _, a := range recs {
		if a.Action == "quarantine" && a.Result == "done" {
			qid, _ = a.Attrs[attrRespQuarantine].(string)
		}
	}
	require.NotEmpty(t, qid)
	out, err := exec.Command(quarantineTool(t), "--dir", r.quarantine, "restore", qid).CombinedOutput()
	require.NoError(t, err, "%s", out)
	b, err := os.ReadFile(cronPath)
	require.NoError(t, err)
	assert.Equal(t, cronContent, b, "restored byte for byte")

	// The deny programs leave with the collector.
	r.agent.stop()
	assert.Empty(t, denyLinks(t), "the deny programs left with the collector")
}

// TestRespondDryRunChangesNothing plays the same chain with the default (dry-run) response.
func TestRespondDryRunChangesNothing(t *testing.T) {
	requireE2E(t)
	require.Empty(t, denyLinks(t), "no response deny program is attached before the test")
	cronBefore, daemonsBefore := cronSnapshot(t), daemonSnapshot(t)
	r := startResponder(t, "")
	sc := respondingChain(t)
	cronPath, cronContent := cronLine(t, sc)
	nsBefore, _ := filepath.Glob("/run/netns/chainsim-*")
	p := startPlay(t, sc)
	ns := newNetns(t, nsBefore, 15*time.Second)

	recs := r.waitAudit(t, findingTimeout, "dry-run quarantine", hasAudit("quarantine", "dry_run"))
	// In the middle of the chain: the miner runs, its cron file is there, the pool answers.
	var pid int
	for _, a := range recs {
		// The miner's intent; a process with only a weak hint (the simulator's session) is refused.
		if a.Action == "terminate" && a.Result == "dry_run" {
			pid = int(a.Attrs[attrProcessPID].(int64))
		}
	}
	require.NotZero(t, pid, "a terminate intent: %v", recs)
	_, err := os.Stat(fmt.Sprintf("/proc/%d", pid))
	assert.NoError(t, err, "the miner still runs")
	b, err := os.ReadFile(cronPath)
	assert.NoError(t, err)
	assert.Equal(t, cronContent, b, "the cron file is untouched")
	assert.NoError(t, dialIn(ns, "127.0.3.1:3333"), "the pool is not blocked")
	assert.Empty(t, denyLinks(t), "no deny program attached")

	res, err := p.wait(t, 60*time.Second)
	require.NoError(t, err, "the chain plays to its end: %s", res.Error)
	assert.Empty(t, res.Error, "the miner ended by itself")

	recs = r.readAudit()
	for _, a := range recs {
		assert.True(t, a.DryRun, "%v", a)
		assert.Contains(t, []string{"dry_run", "skipped", "refused"}, a.Result, "nothing done: %v", a)
	}
	for _, action := range []string{"terminate", "block", "quarantine"} {
		assert.True(t, hasAudit(action, "dry_run")(recs), "the audit shows the %s it would have done: %v", action, recs)
	}
	entries, _ := os.ReadDir(r.quarantine)
	assert.Empty(t, entries, "nothing quarantined")
	r.agent.stop()
	assert.Empty(t, denyLinks(t), "BPF links of the response")
	assert.Equal(t, cronBefore, cronSnapshot(t), "cron files")
	after := daemonSnapshot(t)
	for _, d := range daemonsBefore {
		assert.Contains(t, after, d, "a long-lived process (pid@start) is still there")
	}
	t.Logf("dry-run audit: %v", recs)
}

// TestRespondContainerMiner freezes the miner's container and nothing else.
func TestRespondContainerMiner(t *testing.T) {
	r := startResponder(t, `    dry_run: false
    actions:
      medium: [isolate]
      high: []
      critical: []`)
	sc := loadScenario(t, "container-miner")
	p := startPlay(t, sc)
	// The host side of the play (podman's own command line names the pool and wallet) may make a
	// host finding too: its isolate is skipped, never done.
	recs := r.waitAudit(t, 60*time.Second, "isolate done", hasAudit("isolate", "done"))
	var iso auditRec
	for _, a := range recs {
		if a.Action == "isolate" && a.Result == "done" {
			require.Empty(t, iso.Target, "one container isolated: %v", recs)
			iso = a
		} else if a.Action == "isolate" {
			assert.Equal(t, "skipped", a.Result, "%v", a)
		}
	}
	id, _ := iso.Attrs[resContainerID].(string)
	require.Len(t, id, 64)
	var cgroup string
	for _, f := range r.readFindings() {
		if f.Resource[resContainerID] == id {
			cgroup, _ = f.Resource["process.linux.cgroup"].(string)
		}
	}
	cgroup = strings.TrimPrefix(cgroup, "0::")
	require.Contains(t, cgroup, id, "the finding's cgroup is the container's")
	dir := filepath.Join(cgroup2Root, cgroup)
	t.Cleanup(func() { _ = os.WriteFile(filepath.Join(dir, "cgroup.freeze"), []byte("0"), 0) })

	assert.True(t, frozen(t, dir), "the container's cgroup is frozen")
	assert.False(t, frozen(t, filepath.Dir(dir)), "its parent is not")
	assert.NoFileExists(t, filepath.Join(cgroup2Root, "cgroup.freeze"), "the root cgroup cannot be frozen at all")
	// The host goes on: a process started now runs and exits.
	require.NoError(t, exec.Command("/bin/true").Run())

	// Thaw: the container's miner finishes and the play ends.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "cgroup.freeze"), []byte("0"), 0))
	res, err := p.wait(t, 90*time.Second)
	require.NoError(t, err, "%s", res.Error)
	assert.Equal(t, res.ContainerID, id)
}

func frozen(t *testing.T, dir string) bool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.events"))
	require.NoError(t, err)
	return strings.Contains(string(b), "frozen 1")
}

// quarantineTool builds cmd/cryptochain-quarantine once.
func quarantineTool(t *testing.T) string {
	t.Helper()
	simTools(t)
	out := filepath.Join(toolsDir, "cryptochain-quarantine")
	if _, err := os.Stat(out); errors.Is(err, os.ErrNotExist) {
		cmd := exec.Command("go", "build", "-o", out, "./cmd/cryptochain-quarantine")
		cmd.Dir = repoRoot
		b, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", b)
	}
	return out
}
