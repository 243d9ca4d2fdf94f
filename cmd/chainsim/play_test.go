package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cryptochain-otel/cryptochain/internal/sim/scenario"
	"github.com/cryptochain-otel/cryptochain/internal/testutil"
)

func writeScenario(t *testing.T, body string) *scenario.Scenario {
	t.Helper()
	p := filepath.Join(t.TempDir(), "s.yaml")
	require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	sc, err := scenario.Load(p)
	require.NoError(t, err)
	return sc
}

func netnsExists(name string) bool {
	_, err := os.Stat(filepath.Join("/run/netns", name))
	return err == nil
}

// TestFailedStepRestoresEverything: a step fails halfway; the cron.d file,
// the sysctl, the namespace and its resolv.conf are all put back.
func TestFailedStepRestoresEverything(t *testing.T) {
	testutil.RequirePrivileged(t)
	hp, err := os.ReadFile("/proc/sys/vm/nr_hugepages")
	require.NoError(t, err)
	sc := writeScenario(t, `name: fails
network:
  dns: {pool.test: {a: [127.0.0.1]}}
  pool_ports: [3333]
steps:
  - cron_d: {name: chainsim-unit-test, line: "0 0 31 2 * root /bin/true"}
  - sysctl: {name: vm.nr_hugepages, value: "2"}
  - exec: {argv: ["false"]}
expect: {severity: none}
`)
	res := filepath.Join(t.TempDir(), "res.json")
	err = play(sc, options{resultPath: res, fakeminer: "fakeminer"})
	require.ErrorContains(t, err, "steps[2]")

	assert.NoFileExists(t, "/etc/cron.d/chainsim-unit-test")
	after, _ := os.ReadFile("/proc/sys/vm/nr_hugepages")
	assert.Equal(t, string(hp), string(after))
	assert.False(t, netnsExists("chainsim-"+itoa(os.Getpid())))
	assert.NoDirExists(t, "/etc/netns/chainsim-"+itoa(os.Getpid()))
	assert.NoFileExists(t, filepath.Join(journalDir, "journal-"+itoa(os.Getpid())+".json"))
	b, err := os.ReadFile(res)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"error"`)
}

// TestInterruptRestores sends SIGINT to a running play.
func TestInterruptRestores(t *testing.T) {
	testutil.RequirePrivileged(t)
	bin := filepath.Join(t.TempDir(), "chainsim")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "%s", out)
	sc := writeScenario(t, `name: interrupted
network:
  dns: {pool.test: {a: [127.0.0.1]}}
steps:
  - cron_d: {name: chainsim-unit-test-int, line: "0 0 31 2 * root /bin/true"}
  - sleep: 60s
expect: {severity: none}
`)
	cmd := exec.Command(bin, "play", "--no-session", sc.File)
	require.NoError(t, cmd.Start())
	ns := "chainsim-" + itoa(cmd.Process.Pid)
	deadline := time.Now().Add(10 * time.Second)
	for !fileExists("/etc/cron.d/chainsim-unit-test-int") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	require.True(t, netnsExists(ns), "namespace created")
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	err = cmd.Wait()
	assert.Error(t, err, "an interrupted play reports it")
	assert.NoFileExists(t, "/etc/cron.d/chainsim-unit-test-int")
	assert.False(t, netnsExists(ns))
}

func TestDryRunChangesNothing(t *testing.T) {
	sc, err := scenario.Load(filepath.Join("..", "..", "testdata", "scenarios", "critical-chain.yaml"))
	require.NoError(t, err)
	var sb strings.Builder
	require.NoError(t, printPlan(&sb, sc))
	for _, want := range []string{"network namespace", "fake DNS: pool.supportxmr.com A 127.0.3.1", "/etc/cron.d/chainsim-xmr", "vm.nr_hugepages = 128", "modprobe msr allow_writes=on", "restore"} {
		assert.Contains(t, sb.String(), want)
	}
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

func itoa(n int) string { return strconv.Itoa(n) }

// A double-forked process is found by its executable once it runs as an orphan, and waited for
// without being chainsim's child.
func TestOrphanFoundAndWaited(t *testing.T) {
	dir := t.TempDir()
	sleep := filepath.Join(dir, "orphan-sleep")
	require.NoError(t, copyExecutable("/bin/sleep", sleep))
	sh := exec.Command("/bin/sh", "-c", `( ( sleep 0.2; exec "$0" 0.5 ) & ); exit 0`, sleep)
	require.NoError(t, sh.Run())
	pid := runningExe(sleep, 5*time.Second)
	require.NotZero(t, pid, "the orphan execs after its middle process exited")
	ppid := 0
	if b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); err == nil {
		f := strings.Fields(string(b))
		ppid, _ = strconv.Atoi(f[3])
	}
	assert.NotEqual(t, sh.Process.Pid, ppid)
	start := time.Now()
	require.NoError(t, waitGone(t.Context(), pid))
	assert.Less(t, time.Since(start), 3*time.Second)
	assert.Zero(t, runningExe(sleep, 50*time.Millisecond))
	assert.Len(t, scenario.Padding(3), 3)
}
