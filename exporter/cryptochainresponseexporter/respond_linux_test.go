package cryptochainresponseexporter

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/cryptochain-otel/cryptochain/exporter/cryptochainresponseexporter/internal/isolate"
	"github.com/cryptochain-otel/cryptochain/exporter/cryptochainresponseexporter/internal/metadatatest"
	"github.com/cryptochain-otel/cryptochain/exporter/cryptochainresponseexporter/quarantine"
	"github.com/cryptochain-otel/cryptochain/internal/testutil"
)

// These tests act only on processes, files and cgroups they create themselves.

// startProc starts a test-owned process and kills it when the test ends.
func startProc(t *testing.T, name string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(name, args...)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(f) > 0 && f[0] != "Z" && f[0] != "X"
}

func selfCgroup(t *testing.T) string {
	b, err := os.ReadFile("/proc/self/cgroup")
	require.NoError(t, err)
	for _, l := range strings.Split(string(b), "\n") {
		if p, ok := strings.CutPrefix(l, "0::"); ok {
			return p
		}
	}
	t.Fatal("no cgroup v2 line")
	return ""
}

func childrenOf(t *testing.T, pid int, want int) []int {
	t.Helper()
	var kids []int
	require.Eventually(t, func() bool {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
		kids = nil
		for _, f := range strings.Fields(string(b)) {
			var k int
			fmt.Sscan(f, &k)
			kids = append(kids, k)
		}
		return len(kids) >= want
	}, 5*time.Second, 10*time.Millisecond)
	return kids
}

func byResult(recs []auditRecord) map[string]int {
	out := map[string]int{}
	for _, r := range recs {
		out[r.Action+"/"+r.Result]++
	}
	return out
}

func TestTerminateKillsMinerAndDescendants(t *testing.T) {
	testutil.RequirePrivileged(t)
	// A "miner" with two children, like a launcher shell and its workers.
	miner := startProc(t, "/bin/sh", "-c", "sleep 60 & sleep 60 & wait")
	kids := childrenOf(t, miner.Process.Pid, 2)
	time.Sleep(50 * time.Millisecond) // the evidence comes after the start
	s := startExporter(t, func(c *Config) {
		c.DryRun = false
		c.Actions = map[string][]string{"medium": {ActionTerminate}}
	})
	start := time.Now()
	s.consume(t, testFinding{id: "f-term", severity: "medium", cgroup: selfCgroup(t), minerPIDs: []int{miner.Process.Pid}, minerExe: "/usr/bin/dash"})
	recs := s.records(t, 3)
	took := time.Since(start)
	require.Len(t, recs, 3, "one record per process: %v", recs)
	for _, r := range recs {
		assert.Equal(t, ResultDone, r.Result, "%+v", r)
		assert.Equal(t, "f-term", r.FindingID)
		assert.False(t, r.DryRun)
	}
	assert.Contains(t, recs[0].Target, fmt.Sprintf("pid %d", miner.Process.Pid))
	for _, k := range kids {
		assert.False(t, alive(k), "descendant %d killed", k)
	}
	_ = miner.Wait()
	assert.Equal(t, syscall.SIGKILL, miner.ProcessState.Sys().(syscall.WaitStatus).Signal())
	t.Logf("miner and 2 descendants killed %s after the finding", took.Round(time.Millisecond))

	// The escalation repeats the evidence: nothing is repeated or re-audited.
	s.consume(t, testFinding{id: "f-term", severity: "medium", cgroup: selfCgroup(t), minerPIDs: []int{miner.Process.Pid}})
	time.Sleep(200 * time.Millisecond)
	assert.Len(t, readAudit(t, s.audit), 3)
}

func TestReusedPidIsNotKilled(t *testing.T) {
	testutil.RequirePrivileged(t)
	evidence := time.Now()
	time.Sleep(200 * time.Millisecond)
	// Started after the finding's evidence: the pid now names an innocent process.
	innocent := startProc(t, "sleep", "60")
	other := startProc(t, "sleep", "60")
	s := startExporter(t, func(c *Config) {
		c.DryRun = false
		c.Actions = map[string][]string{"medium": {ActionTerminate}}
	})
	s.consume(t, testFinding{id: "f-reuse", severity: "medium", minerPIDs: []int{innocent.Process.Pid}, minerSeen: evidence})
	// Right time, wrong executable.
	s.consume(t, testFinding{id: "f-exe", severity: "medium", minerPIDs: []int{other.Process.Pid}, minerExe: "/tmp/.x/xmrig"})
	recs := s.records(t, 2)
	require.Len(t, recs, 2)
	for _, r := range recs {
		assert.Equal(t, ResultRefused, r.Result, "%+v", r)
	}
	assert.Contains(t, recs[0].Reason, "reused")
	assert.Contains(t, recs[1].Reason, "runs")
	assert.True(t, alive(innocent.Process.Pid))
	assert.True(t, alive(other.Process.Pid))
}

func TestWeakEvidenceIsNotKilled(t *testing.T) {
	testutil.RequirePrivileged(t)
	// A launcher (or the simulator itself) can carry a weak Miner hint, such as an executable
	// under /tmp: only processes with strong Miner evidence are terminated.
	launcher := startProc(t, "sleep", "60")
	time.Sleep(30 * time.Millisecond)
	s := startExporter(t, func(c *Config) {
		c.DryRun = false
		c.Actions = map[string][]string{"medium": {ActionTerminate}}
	})
	s.consume(t, testFinding{id: "f-weak", severity: "medium", weakPIDs: []int{launcher.Process.Pid}})
	recs := s.records(t, 1)
	require.Len(t, recs, 1)
	assert.Equal(t, ResultRefused, recs[0].Result, "%+v", recs[0])
	assert.Contains(t, recs[0].Reason, "weak")
	assert.True(t, alive(launcher.Process.Pid))
}

func TestNeverInitKernelThreadOrSelf(t *testing.T) {
	testutil.RequirePrivileged(t)
	s := startExporter(t, func(c *Config) {
		c.DryRun = false
		c.Actions = map[string][]string{"critical": {ActionTerminate}}
	})
	s.consume(t, testFinding{id: "f-self", severity: "critical", minerPIDs: []int{1, 2, os.Getpid()}})
	recs := s.records(t, 3)
	require.Len(t, recs, 3)
	for _, r := range recs {
		assert.Equal(t, ResultRefused, r.Result, "%+v", r)
	}
	assert.Contains(t, recs[0].Reason, "init")
	assert.Contains(t, recs[1].Reason, "kernel thread")
	assert.Contains(t, recs[2].Reason, "collector itself")
}

func TestQuarantineAndRestoreByteForByte(t *testing.T) {
	testutil.RequirePrivileged(t)
	path := fmt.Sprintf("/etc/cron.d/cryptochain-response-test-%d", os.Getpid())
	content := []byte("*/30 * * * * root /tmp/.x/xmrig -o 127.0.9.1:3333 >/dev/null 2>&1\n")
	require.NoError(t, os.WriteFile(path, content, 0o644))
	t.Cleanup(func() { _ = os.Remove(path) })
	s := startExporter(t, func(c *Config) {
		c.DryRun = false
		c.Actions = map[string][]string{"high": {ActionQuarantine}}
	})
	s.consume(t, testFinding{id: "f-q", severity: "high", persist: []string{path, "/etc/passwd", "/tmp/x"}})
	recs := s.records(t, 3)
	require.Len(t, recs, 3)
	assert.Equal(t, ResultDone, recs[0].Result, "%+v", recs[0])
	assert.Equal(t, ResultRefused, recs[1].Result, "/etc/passwd is no persistence location")
	assert.Equal(t, ResultRefused, recs[2].Result)
	assert.NoFileExists(t, path)
	id, _ := recs[0].Attrs[AttrQuarantineID].(string)
	require.NotEmpty(t, id)

	store := quarantine.Store{Dir: filepath.Join(filepath.Dir(s.audit), "quarantine")}
	it, err := store.Restore(id, false)
	require.NoError(t, err)
	assert.Equal(t, "f-q", it.FindingID)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, content, b)
}

func TestBlockRefusesConnect(t *testing.T) {
	testutil.RequirePrivileged(t)
	s := startExporter(t, func(c *Config) {
		c.DryRun = false
		c.Actions = map[string][]string{"medium": {ActionBlock}}
		c.Allowlist.Addresses = []string{"127.0.9.2"}
	})
	require.NoError(t, dialRefusedOK("127.0.9.1:4444"), "before")
	s.consume(t, testFinding{id: "f-block", severity: "medium",
		endpoints: []string{"pool.example:4444", "127.0.9.1:4444", "127.0.9.2:4444"},
		poolIPs:   map[string]string{"127.0.9.3": "pool.example:4444"}})
	recs := s.records(t, 4)
	assert.Equal(t, map[string]int{"block/done": 2, "block/refused": 1, "block/skipped": 1}, byResult(recs), "%v", recs)
	assert.Len(t, denyLinks(t), 4, "connect4/6 and sendmsg4/6 attached")
	b, err := os.ReadFile(filepath.Join(filepath.Dir(s.audit), "blocks.json"))
	require.NoError(t, err)
	var listed []struct {
		Address, Cgroup string
		Port            int
		Expires         time.Time
	}
	require.NoError(t, json.Unmarshal(b, &listed))
	require.Len(t, listed, 2, "%s", b)
	for _, e := range listed {
		assert.Equal(t, "/", e.Cgroup)
		assert.Equal(t, 4444, e.Port)
		assert.WithinDuration(t, time.Now().Add(time.Hour), e.Expires, time.Minute)
	}
	assert.ErrorIs(t, dialRefusedOK("127.0.9.1:4444"), syscall.EPERM)
	assert.ErrorIs(t, dialRefusedOK("127.0.9.3:4444"), syscall.EPERM, "the address the DNS evidence resolved")
	assert.NoError(t, dialRefusedOK("127.0.9.2:4444"), "allowlisted")
	assert.NoError(t, dialRefusedOK("127.0.9.1:4445"), "another port")
	metadatatest.AssertEqualCryptochainResponseBlockEntries(t, s.tel, []metricdata.DataPoint[int64]{{Value: 2}}, metricdatatest.IgnoreTimestamp())
	metadatatest.AssertEqualCryptochainResponseActions(t, s.tel, []metricdata.DataPoint[int64]{
		{Value: 2, Attributes: attribute.NewSet(attribute.String("action", "block"), attribute.String("result", "done"))},
		{Value: 1, Attributes: attribute.NewSet(attribute.String("action", "block"), attribute.String("result", "refused"))},
		{Value: 1, Attributes: attribute.NewSet(attribute.String("action", "block"), attribute.String("result", "skipped"))},
	}, metricdatatest.IgnoreTimestamp())
	s.shutdown(t)
	assert.NoError(t, dialRefusedOK("127.0.9.1:4444"), "the deny programs leave with the collector")
}

func dialRefusedOK(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		return c.Close()
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return nil
	}
	return err
}

func TestIsolateFreezesOnlyTheContainerCgroup(t *testing.T) {
	testutil.RequirePrivileged(t)
	root, err := cgroupRoot("")
	require.NoError(t, err)
	id := fmt.Sprintf("%064x", time.Now().UnixNano())
	cg := "/cryptochain-response-test-" + id
	dir := filepath.Join(root, cg)
	require.NoError(t, os.Mkdir(dir, 0o755))
	proc := startProc(t, "sleep", "60")
	t.Cleanup(func() {
		_ = isolate.Thaw(dir)
		_ = proc.Process.Kill()
		_ = proc.Wait()
		_ = os.Remove(dir)
	})
	require.NoError(t, os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(fmt.Sprint(proc.Process.Pid)), 0))

	s := startExporter(t, func(c *Config) {
		c.DryRun = false
		c.Actions = map[string][]string{"critical": {ActionIsolate}}
	})
	s.consume(t, testFinding{id: "f-iso", severity: "critical", cgroup: cg, containerID: id})
	s.consume(t, testFinding{id: "f-root", severity: "critical", cgroup: "/", containerID: id})
	s.consume(t, testFinding{id: "f-host", severity: "critical", cgroup: "/"})
	recs := s.records(t, 3)
	require.Len(t, recs, 3)
	assert.Equal(t, ResultDone, recs[0].Result, "%+v", recs[0])
	assert.Equal(t, ResultRefused, recs[1].Result, "the root cgroup is never frozen: %+v", recs[1])
	assert.Equal(t, ResultSkipped, recs[2].Result, "no container: %+v", recs[2])
	frozen, err := isolate.Frozen(dir)
	require.NoError(t, err)
	assert.True(t, frozen)
	// The host is not: this test keeps running and its own cgroup is not frozen.
	if self := selfCgroup(t); self != "/" {
		f, err := isolate.Frozen(filepath.Join(root, self))
		require.NoError(t, err)
		assert.False(t, f)
	}
	require.NoError(t, isolate.Thaw(dir))
}

func TestIsolateDenyEgressRefusesTheContainersConnects(t *testing.T) {
	testutil.RequirePrivileged(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	root, err := cgroupRoot("")
	require.NoError(t, err)
	id := fmt.Sprintf("%064x", time.Now().UnixNano())
	cg := "/cryptochain-response-egress-" + id
	dir := filepath.Join(root, cg)
	require.NoError(t, os.Mkdir(dir, 0o755))
	// The "container": a shell that connects once it is told to, from inside the cgroup.
	sh := exec.Command("bash", "-c", fmt.Sprintf(`read; exec 3<>/dev/tcp/127.0.0.1/%d && echo connected`, l.Addr().(*net.TCPAddr).Port))
	stdin, err := sh.StdinPipe()
	require.NoError(t, err)
	var out strings.Builder
	sh.Stdout, sh.Stderr = &out, &out
	require.NoError(t, sh.Start())
	t.Cleanup(func() {
		_ = sh.Process.Kill()
		_ = sh.Wait()
		_ = os.Remove(dir)
	})
	require.NoError(t, os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(fmt.Sprint(sh.Process.Pid)), 0))

	s := startExporter(t, func(c *Config) {
		c.DryRun = false
		c.Actions = map[string][]string{"critical": {ActionIsolate}}
		c.Isolate.Mode = IsolateDenyEgress
	})
	s.consume(t, testFinding{id: "f-egress", severity: "critical", cgroup: cg, containerID: id})
	recs := s.records(t, 1)
	require.Equal(t, ResultDone, recs[0].Result, "%+v", recs[0])
	require.NoError(t, dialRefusedOK(l.Addr().String()), "the host still connects")
	_, _ = stdin.Write([]byte("\n"))
	_ = sh.Wait()
	assert.Contains(t, out.String(), "Operation not permitted", "the container's connect is refused")
	assert.NotContains(t, out.String(), "connected")
}

func TestDryRunChangesNothing(t *testing.T) {
	testutil.RequirePrivileged(t)
	miner := startProc(t, "sleep", "60")
	path := fmt.Sprintf("/etc/cron.d/cryptochain-response-dry-%d", os.Getpid())
	require.NoError(t, os.WriteFile(path, []byte("* * * * * root true\n"), 0o644))
	t.Cleanup(func() { _ = os.Remove(path) })
	require.Empty(t, denyLinks(t), "no response deny program is attached before the test")
	time.Sleep(30 * time.Millisecond)

	s := startExporter(t, nil) // the default: dry run, every action
	s.consume(t, testFinding{id: "f-dry", severity: "critical", cgroup: selfCgroup(t),
		minerPIDs: []int{miner.Process.Pid}, endpoints: []string{"127.0.9.1:4444"}, persist: []string{path}})
	recs := s.records(t, 4)
	assert.Equal(t, map[string]int{"block/dry_run": 1, "terminate/dry_run": 1, "quarantine/dry_run": 1, "isolate/skipped": 1}, byResult(recs), "%v", recs)
	for _, r := range recs {
		assert.True(t, r.DryRun)
	}
	assert.True(t, alive(miner.Process.Pid))
	assert.FileExists(t, path)
	assert.NoError(t, dialRefusedOK("127.0.9.1:4444"))
	assert.Empty(t, denyLinks(t), "no deny program was attached")
}

func TestKillSwitchRateLimitAllowlist(t *testing.T) {
	testutil.RequirePrivileged(t)
	a := startProc(t, "sleep", "60")
	b := startProc(t, "sleep", "60")
	c := startProc(t, "sleep", "60")
	time.Sleep(30 * time.Millisecond)
	var killSwitch string
	s := startExporter(t, func(cfg *Config) {
		cfg.DryRun = false
		cfg.Actions = map[string][]string{"medium": {ActionTerminate}}
		cfg.RateLimit = RateLimitConfig{ActionsPerMinute: 1, Burst: 1}
		cfg.Allowlist.Hosts = []string{"lab-miner-1"}
		killSwitch = cfg.KillSwitchFile
	})
	require.NoError(t, os.WriteFile(killSwitch, nil, 0o600))
	s.consume(t, testFinding{id: "f-ks", severity: "medium", minerPIDs: []int{a.Process.Pid}})
	s.records(t, 1)
	require.NoError(t, os.Remove(killSwitch))
	s.consume(t, testFinding{id: "f-host", severity: "medium", hostName: "lab-miner-1", minerPIDs: []int{a.Process.Pid}})
	s.consume(t, testFinding{id: "f-rate", severity: "medium", minerPIDs: []int{b.Process.Pid, c.Process.Pid}})
	recs := s.records(t, 4)
	require.Len(t, recs, 4)
	assert.Equal(t, ResultSkipped, recs[0].Result)
	assert.Contains(t, recs[0].Reason, "kill switch")
	assert.Equal(t, ResultSkipped, recs[1].Result)
	assert.Contains(t, recs[1].Reason, "allowlisted")
	assert.Equal(t, ResultDone, recs[2].Result)
	assert.Equal(t, ResultSkipped, recs[3].Result)
	assert.Contains(t, recs[3].Reason, "rate limit")
	assert.True(t, alive(a.Process.Pid))
	assert.True(t, alive(c.Process.Pid))
}

// denyLinks lists the BPF links of the response exporter's deny programs (deny_connect4/6,
// deny_sendmsg4/6) that this test process holds; other packages tested meanwhile are left out.
func denyLinks(t *testing.T) []string {
	return testutil.OwnBPFLinks(t, "deny_")
}
