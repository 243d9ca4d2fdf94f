//go:build linux && amd64

package ebpfreceiver

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"golang.org/x/sys/unix"

	"github.com/cryptochain-otel/cryptochain/internal/testutil"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/event"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/kernel"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/metadata"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/process"
)

// The tests in this file run the whole receiver against the real kernel. The test process is the
// "collector" (its pid is excluded), so every observed action is done by a child: this test binary
// re-executed as a helper (TestHelperProcess) or a real tool.

const helperEnv = "CRYPTOCHAIN_EBPF_HELPER"

// TestHelperProcess is not a test: it is the body of the helper processes.
func TestHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		return // only the body of the helper processes; passes (never skips) in a normal run
	}
	args := flagArgs()
	err := runHelper(args[0], args[1:])
	if err != nil {
		fmt.Fprintln(os.Stdout, "error:", err)
		os.Exit(3)
	}
	os.Exit(0)
}

func flagArgs() []string {
	for i, a := range os.Args {
		if a == "--" {
			return os.Args[i+1:]
		}
	}
	return nil
}

func runHelper(action string, args []string) error {
	switch action {
	case "connect": // connect tcp|udp addr: prints the errno name ("ok" on success)
		c, err := net.DialTimeout(args[0], args[1], 2*time.Second)
		if err != nil {
			var errno syscall.Errno
			if errors.As(err, &errno) {
				fmt.Println(unix.ErrnoName(errno))
				return nil
			}
			return err
		}
		fmt.Println("ok")
		return c.Close()
	case "dnsserver": // dnsserver name ip: answers name with ip on 127.0.0.1:53
		pc, err := net.ListenPacket("udp", "127.0.0.1:53")
		if err != nil {
			return err
		}
		mux := dns.NewServeMux()
		mux.HandleFunc(".", func(w dns.ResponseWriter, r *dns.Msg) {
			m := new(dns.Msg)
			m.SetReply(r)
			if len(r.Question) == 1 && r.Question[0].Qtype == dns.TypeA && strings.EqualFold(r.Question[0].Name, args[0]+".") {
				m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: r.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 5},
					A: net.ParseIP(args[1]).To4()})
			}
			_ = w.WriteMsg(m)
		})
		srv := &dns.Server{PacketConn: pc, Handler: mux}
		srv.NotifyStartedFunc = func() { fmt.Println("ready") }
		return srv.ActivateAndServe()
	case "resolve": // resolve name: the Go resolver, reading /etc/resolv.conf
		r := &net.Resolver{PreferGo: true}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		addrs, err := r.LookupIP(ctx, "ip4", args[0])
		if err != nil {
			return err
		}
		fmt.Println(addrs)
		return nil
	case "rename": // rename comm: through /proc/self/comm (the thread-group leader), then stay a moment
		if err := os.WriteFile("/proc/self/comm", []byte(args[0]), 0); err != nil {
			return err
		}
		time.Sleep(50 * time.Millisecond)
		return nil
	case "open": // open path: read-only open attempt, prints the errno name
		f, err := os.Open(args[0])
		if err != nil {
			var errno syscall.Errno
			if errors.As(err, &errno) {
				fmt.Println(unix.ErrnoName(errno))
				return nil
			}
			return err
		}
		return f.Close()
	case "kill": // kill: start sleep, send it SIGTERM, print its pid
		c := exec.Command("sleep", "30")
		if err := c.Start(); err != nil {
			return err
		}
		time.Sleep(100 * time.Millisecond)
		// kill(2), as kill/pkill/killall use (Go's Process.Signal uses pidfd_send_signal).
		if err := syscall.Kill(c.Process.Pid, syscall.SIGTERM); err != nil {
			return err
		}
		_ = c.Wait()
		fmt.Println(c.Process.Pid)
		return nil
	case "send": // send addr data: a TCP connection whose first bytes are data
		c, err := net.DialTimeout("tcp", args[0], 2*time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.Write([]byte(args[1]))
		time.Sleep(50 * time.Millisecond)
		return err
	case "write": // write path content
		return os.WriteFile(args[0], []byte(args[1]), 0o644)
	case "sendhex", "writehex": // as send and write, the data hex-encoded (so that argv does not carry it)
		data, err := hex.DecodeString(args[1])
		if err != nil {
			return err
		}
		if action == "writehex" {
			return os.WriteFile(args[0], data, 0o644)
		}
		return runHelper("send", []string{args[0], string(data)})
	}
	return fmt.Errorf("unknown helper action %q", action)
}

func helper(action string, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^TestHelperProcess$", "--", action}, args...)...)
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	return cmd
}

func helperIn(netns, action string, args ...string) *exec.Cmd {
	cmd := exec.Command("ip", append([]string{"netns", "exec", netns, os.Args[0], "-test.run=^TestHelperProcess$", "--", action}, args...)...)
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	return cmd
}

func runOut(t *testing.T, cmd *exec.Cmd) (int, string) {
	t.Helper()
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		require.NoError(t, err)
	}
	return cmd.Process.Pid, strings.TrimSpace(string(out))
}

func randName(prefix string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// kernelReceiver runs the full receiver on the real kernel.
type kernelReceiver struct {
	r    *ebpfReceiver
	sink *consumertest.LogsSink
}

func startKernel(t *testing.T, mutate func(*Config)) *kernelReceiver {
	t.Helper()
	testutil.RequirePrivileged(t)
	cfg := createDefaultConfig()
	cfg.Snapshot = false
	cfg.Batch.Timeout = 50 * time.Millisecond
	if mutate != nil {
		mutate(cfg)
	}
	require.NoError(t, cfg.Validate())
	sink := new(consumertest.LogsSink)
	r, err := newReceiver(receivertest.NewNopSettings(metadata.Type), cfg, sink, kernel.New)
	require.NoError(t, err)
	require.NoError(t, r.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, r.Shutdown(context.Background())) })
	return &kernelReceiver{r: r, sink: sink}
}

// wait returns the first record matching ok, failing after 10 s.
func (k *kernelReceiver) wait(t *testing.T, what string, ok func(f flat) bool) flat {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, f := range collected(k.sink) {
			if ok(f) {
				return f
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Say what was seen of the test's own processes, to tell a missing event from a wrong attribute.
	for _, f := range collected(k.sink) {
		if cl := str(f.lr.Attributes(), "process.command_line"); strings.Contains(cl, "busybox") || strings.Contains(cl, "marker-") {
			t.Logf("seen %s pid=%s %q resource=%v", f.lr.EventName(), str(f.lr.Attributes(), "process.pid"), cl, f.res.AsRaw())
		}
	}
	t.Fatalf("no %s record within 10s", what)
	return flat{}
}

func pidIs(f flat, pid int) bool {
	v, ok := f.lr.Attributes().Get("process.pid")
	return ok && v.Int() == int64(pid)
}

func sliceOf(m pcommon.Map, k string) []any {
	v, ok := m.Get(k)
	if !ok {
		return nil
	}
	return v.Slice().AsRaw()
}

func newNetns(t *testing.T) string {
	t.Helper()
	name := randName("cc-recv-")
	out, err := exec.Command("ip", "netns", "add", name).CombinedOutput()
	require.NoError(t, err, string(out))
	t.Cleanup(func() {
		_ = exec.Command("ip", "netns", "del", name).Run()
		_ = os.RemoveAll(filepath.Join("/etc/netns", name))
	})
	out, err = exec.Command("ip", "-n", name, "link", "set", "lo", "up").CombinedOutput()
	require.NoError(t, err, string(out))
	return name
}

func TestKernelEvents(t *testing.T) {
	k := startKernel(t, nil)

	t.Run("exec with argv and env", func(t *testing.T) {
		marker := randName("marker-")
		cmd := exec.Command("/bin/echo", "hello", marker)
		cmd.Env = []string{"CRYPTOCHAIN_API_TOKEN=hunter2", "PLAIN_SETTING=visible", "PATH=/usr/bin:/bin"}
		pid, _ := runOut(t, cmd)
		f := k.wait(t, "cryptochain.process.exec", func(f flat) bool { return f.lr.EventName() == "cryptochain.process.exec" && pidIs(f, pid) })
		a := f.lr.Attributes()
		assert.Equal(t, []any{"/bin/echo", "hello", marker}, sliceOf(a, "process.command_args"))
		assert.Equal(t, "[REDACTED]", str(a, "process.environment_variable.CRYPTOCHAIN_API_TOKEN"))
		assert.Equal(t, "visible", str(a, "process.environment_variable.PLAIN_SETTING"))
		_, marked := a.Get("cryptochain.event.source")
		assert.False(t, marked, "only snapshot records are marked")
		assert.Equal(t, "echo", str(a, "process.executable.name"))
		assert.Equal(t, strconv.Itoa(os.Getpid()), str(a, "process.parent_pid"))
		assert.Contains(t, sliceOf(a, "cryptochain.process.ancestors"), int64(os.Getpid()))
		assert.NotEmpty(t, str(f.res, "cryptochain.context.id"))
		assert.NotEmpty(t, str(f.res, "host.id"))
		assert.WithinDuration(t, time.Now(), f.lr.Timestamp().AsTime(), 30*time.Second, "boot time converted to wall clock")
		assert.False(t, f.lr.ObservedTimestamp().AsTime().Before(f.lr.Timestamp().AsTime().Add(-time.Second)))
	})

	t.Run("hostile argv and env", func(t *testing.T) {
		args := make([]string, 100000)
		for i := range args {
			args[i] = "a\xff\xfe"
		}
		cmd := exec.Command("/bin/true", args...)
		cmd.Env = []string{"BAD=\xff\xfe", "PATH=/usr/bin:/bin"}
		pid, _ := runOut(t, cmd)
		f := k.wait(t, "cryptochain.process.exec", func(f flat) bool { return f.lr.EventName() == "cryptochain.process.exec" && pidIs(f, pid) })
		a := f.lr.Attributes()
		assert.Equal(t, "100001", str(a, "process.args_count"))
		assert.Equal(t, "true", str(a, "cryptochain.process.args_truncated"))
		got := sliceOf(a, "process.command_args")
		assert.LessOrEqual(t, len(got), 2*createDefaultConfig().Argv.MaxArgs, "the head and the end of argv, each bounded")
		assert.NotEmpty(t, str(a, "cryptochain.process.args_tail_index"))
		assert.NotEmpty(t, str(a, "cryptochain.process.args_skipped_bytes"))
		require.Greater(t, len(got), 1)
		assert.Equal(t, "a\uFFFD", got[1], "a run of invalid bytes becomes one U+FFFD")
		assert.Equal(t, "\uFFFD", str(a, "process.environment_variable.BAD"))
	})

	t.Run("failed exec attempt", func(t *testing.T) {
		missing := "/nonexistent/" + randName("modprobe-")
		err := exec.Command(missing, "msr").Run()
		require.Error(t, err)
		f := k.wait(t, "cryptochain.process.exec_failed", func(f flat) bool {
			return f.lr.EventName() == "cryptochain.process.exec_failed" && str(f.lr.Attributes(), "cryptochain.process.filename") == missing
		})
		assert.Equal(t, "ENOENT", str(f.lr.Attributes(), "error.type"))
		assert.Equal(t, strconv.Itoa(os.Getpid()), str(f.lr.Attributes(), "process.parent_pid"))
	})

	t.Run("exit with cpu time", func(t *testing.T) {
		pid, _ := runOut(t, exec.Command("/bin/sh", "-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; exit 3"))
		f := k.wait(t, "cryptochain.process.exit", func(f flat) bool { return f.lr.EventName() == "cryptochain.process.exit" && pidIs(f, pid) })
		a := f.lr.Attributes()
		assert.Equal(t, "3", str(a, "process.exit.code"))
		cpu, _ := a.Get("cryptochain.process.cpu.time")
		assert.Greater(t, cpu.Double(), 0.05, "a busy loop of 300k iterations uses CPU")
	})

	t.Run("connect to a loopback listener", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer ln.Close()
		go func() {
			if c, err := ln.Accept(); err == nil {
				_ = c.Close()
			}
		}()
		port := ln.Addr().(*net.TCPAddr).Port
		pid, out := runOut(t, helper("connect", "tcp", ln.Addr().String()))
		require.Equal(t, "ok", out)
		f := k.wait(t, "cryptochain.network.connect", func(f flat) bool { return f.lr.EventName() == "cryptochain.network.connect" && pidIs(f, pid) })
		a := f.lr.Attributes()
		assert.Equal(t, "127.0.0.1", str(a, "server.address"))
		assert.Equal(t, strconv.Itoa(port), str(a, "server.port"))
		assert.Equal(t, "tcp", str(a, "network.transport"))
		assert.Contains(t, []string{"ok", "in_progress"}, str(a, "cryptochain.connect.result"))
	})

	t.Run("connect to an unreachable address in a fresh netns", func(t *testing.T) {
		ns := newNetns(t)
		pid, out := runOut(t, helperIn(ns, "connect", "tcp", "10.255.255.1:3333"))
		require.Equal(t, "ENETUNREACH", out)
		f := k.wait(t, "cryptochain.network.connect", func(f flat) bool {
			return f.lr.EventName() == "cryptochain.network.connect" && pidIs(f, pid) && str(f.lr.Attributes(), "server.address") == "10.255.255.1"
		})
		assert.Equal(t, "ENETUNREACH", str(f.lr.Attributes(), "error.type"))
		assert.Equal(t, "error", str(f.lr.Attributes(), "cryptochain.connect.result"))
	})

	t.Run("dns query and answer in a netns", func(t *testing.T) {
		ns := newNetns(t)
		require.NoError(t, os.MkdirAll(filepath.Join("/etc/netns", ns), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join("/etc/netns", ns, "resolv.conf"), []byte("nameserver 127.0.0.1\noptions attempts:1 timeout:1\n"), 0o644))
		name := randName("pool-") + ".cryptochain-test.invalid"
		srv := helperIn(ns, "dnsserver", name, "10.66.77.88")
		stdout, err := srv.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, srv.Start())
		t.Cleanup(func() { _ = srv.Process.Kill(); _ = srv.Wait() })
		line, err := bufio.NewReader(stdout).ReadString('\n')
		require.NoError(t, err)
		require.Equal(t, "ready\n", line)

		pid, out := runOut(t, helperIn(ns, "resolve", name))
		require.Contains(t, out, "10.66.77.88")
		q := k.wait(t, "cryptochain.dns.query", func(f flat) bool {
			return f.lr.EventName() == "cryptochain.dns.query" && str(f.lr.Attributes(), "dns.question.name") == name && str(f.lr.Attributes(), "cryptochain.dns.question.type") == "A"
		})
		assert.Equal(t, strconv.Itoa(pid), str(q.lr.Attributes(), "process.pid"), "the query is attributed to the asking process")
		assert.Equal(t, "53", str(q.lr.Attributes(), "server.port"))
		a := k.wait(t, "cryptochain.dns.answer", func(f flat) bool {
			return f.lr.EventName() == "cryptochain.dns.answer" && str(f.lr.Attributes(), "dns.question.name") == name && len(sliceOf(f.lr.Attributes(), "dns.answers")) > 0
		})
		assert.Equal(t, []any{"10.66.77.88"}, sliceOf(a.lr.Attributes(), "dns.answers"))
		assert.Equal(t, strconv.Itoa(pid), str(a.lr.Attributes(), "process.pid"), "the answer is attributed to the asking process")
		assert.Equal(t, "NOERROR", str(a.lr.Attributes(), "cryptochain.dns.rcode"))
	})

	t.Run("crontab install", func(t *testing.T) {
		backup := filepath.Join(t.TempDir(), "crontab.bak")
		out, err := exec.Command("crontab", "-l").Output()
		had := err == nil
		if had {
			require.NoError(t, os.WriteFile(backup, out, 0o600))
		}
		t.Cleanup(func() {
			if had {
				assert.NoError(t, exec.Command("crontab", backup).Run(), "restore the crontab")
			} else {
				_ = exec.Command("crontab", "-r").Run()
			}
		})
		marker := randName("cryptochain-test-")
		tab := filepath.Join(t.TempDir(), "tab")
		require.NoError(t, os.WriteFile(tab, append(out, []byte("*/5 * * * * /bin/true "+marker+"\n")...), 0o600))
		pid, o := runOut(t, exec.Command("crontab", tab))
		require.Empty(t, o)
		f := k.wait(t, "cryptochain.file.write of the crontab", func(f flat) bool {
			return f.lr.EventName() == "cryptochain.file.write" && pidIs(f, pid) && strings.HasPrefix(str(f.lr.Attributes(), "file.path"), "/var/spool/cron/") &&
				strings.Contains(str(f.lr.Attributes(), "cryptochain.file.content"), marker)
		})
		assert.Equal(t, "crontab", str(f.lr.Attributes(), "process.executable.name"))
	})

	t.Run("cron.d write", func(t *testing.T) {
		path := "/etc/cron.d/" + randName("cryptochain-test-")
		t.Cleanup(func() { _ = os.Remove(path) })
		line := "* * * * * root /tmp/.cryptochain-test/run\n"
		pid, out := runOut(t, helper("write", path, line))
		require.Empty(t, out)
		f := k.wait(t, "cryptochain.file.write", func(f flat) bool {
			return f.lr.EventName() == "cryptochain.file.write" && pidIs(f, pid) && str(f.lr.Attributes(), "file.path") == path
		})
		assert.Equal(t, "ok", str(f.lr.Attributes(), "cryptochain.file.result"))
		assert.Equal(t, line, str(f.lr.Attributes(), "cryptochain.file.content"))
	})

	t.Run("vm.nr_hugepages write", func(t *testing.T) {
		const p = "/proc/sys/vm/nr_hugepages"
		orig, err := os.ReadFile(p)
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, os.WriteFile(p, orig, 0o644), "restore nr_hugepages") })
		n, err := strconv.Atoi(strings.TrimSpace(string(orig)))
		require.NoError(t, err)
		want := strconv.Itoa(n + 1)
		pid, out := runOut(t, exec.Command("/bin/sh", "-c", "echo "+want+" > "+p))
		require.Empty(t, out)
		f := k.wait(t, "cryptochain.sysctl.write", func(f flat) bool { return f.lr.EventName() == "cryptochain.sysctl.write" && pidIs(f, pid) })
		a := f.lr.Attributes()
		assert.Equal(t, "vm.nr_hugepages", str(a, "cryptochain.sysctl.name"))
		assert.Equal(t, want, str(a, "cryptochain.sysctl.value"))
	})

	t.Run("msr open attempt", func(t *testing.T) {
		pid, out := runOut(t, helper("open", "/dev/cpu/0/msr"))
		f := k.wait(t, "cryptochain.file.open", func(f flat) bool {
			return strings.HasPrefix(f.lr.EventName(), "cryptochain.file.") && pidIs(f, pid) && str(f.lr.Attributes(), "file.path") == "/dev/cpu/0/msr"
		})
		assert.Equal(t, "cryptochain.file.open", f.lr.EventName())
		if out != "" {
			assert.Equal(t, out, str(f.lr.Attributes(), "error.type"))
		}
	})

	t.Run("kill of another process", func(t *testing.T) {
		pid, out := runOut(t, helper("kill"))
		target, err := strconv.Atoi(out)
		require.NoError(t, err, out)
		f := k.wait(t, "cryptochain.process.kill", func(f flat) bool { return f.lr.EventName() == "cryptochain.process.kill" && pidIs(f, pid) })
		a := f.lr.Attributes()
		assert.Equal(t, strconv.Itoa(target), str(a, "cryptochain.kill.target_pid"))
		assert.Equal(t, "15", str(a, "cryptochain.kill.signal"))
		assert.Equal(t, "sleep", str(a, "cryptochain.kill.target_name"))
	})

	t.Run("first bytes of a tcp connection", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer ln.Close()
		go func() {
			if c, err := ln.Accept(); err == nil {
				buf := make([]byte, 512)
				_, _ = c.Read(buf)
				_ = c.Close()
			}
		}()
		login := `{"id":1,"jsonrpc":"2.0","method":"login","params":{"login":"4wallet-test","pass":"x","agent":"XMRig/6.21.0"}}` + "\n"
		pid, out := runOut(t, helper("send", ln.Addr().String(), login))
		require.Empty(t, out)
		f := k.wait(t, "cryptochain.network.payload", func(f flat) bool { return f.lr.EventName() == "cryptochain.network.payload" && pidIs(f, pid) })
		a := f.lr.Attributes()
		assert.Equal(t, strings.Replace(login, `"pass":"x"`, `"pass":"[REDACTED]"`, 1), str(a, "cryptochain.network.payload"), "forwarded, the password redacted")
		assert.Equal(t, strconv.Itoa(ln.Addr().(*net.TCPAddr).Port), str(a, "server.port"))
		assert.Equal(t, "127.0.0.1", str(a, "server.address"))
	})

	t.Run("comm rename", func(t *testing.T) {
		pid, out := runOut(t, helper("rename", "kworker/0:7"))
		require.Empty(t, out)
		f := k.wait(t, "cryptochain.process.rename", func(f flat) bool { return f.lr.EventName() == "cryptochain.process.rename" && pidIs(f, pid) })
		assert.Equal(t, "kworker/0:7", str(f.lr.Attributes(), "cryptochain.process.comm"))
	})
}

func TestKernelPodmanContainer(t *testing.T) {
	testutil.RequirePrivileged(t)
	if _, err := exec.LookPath("podman"); err != nil {
		if os.Getenv(testutil.RequirePrivilegedEnv) == "1" {
			t.Fatal("podman is not installed (apt-get install -y podman runc busybox-static)")
		}
		t.Skip("podman is not installed")
	}
	image := ensureImage(t)
	k := startKernel(t, nil)
	cidFile := filepath.Join(t.TempDir(), "cid")
	marker := randName("marker-")
	out, err := exec.Command("podman", "--runtime", "runc", "--cgroup-manager", "cgroupfs", "run", "--rm", "--network", "none",
		"--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", "--cidfile", cidFile,
		image, "/bin/busybox", "echo", marker).CombinedOutput()
	require.NoError(t, err, string(out))
	cid, err := os.ReadFile(cidFile)
	require.NoError(t, err)
	id := strings.TrimSpace(string(cid))
	require.Len(t, id, 64)
	f := k.wait(t, "cryptochain.process.exec in the container", func(f flat) bool {
		// podman's own command line carries the marker too: match the container's exec.
		return f.lr.EventName() == "cryptochain.process.exec" && str(f.lr.Attributes(), "process.command_line") == "/bin/busybox echo "+marker
	})
	assert.Equal(t, id, str(f.res, "container.id"))
	if os.Getenv("DEBUG_PODMAN") != "" {
		for _, r := range collected(k.sink) {
			if r.lr.EventName() == "cryptochain.process.exec" || r.lr.EventName() == "cryptochain.process.exit" {
				t.Logf("%s pid=%s ppid=%s pstart=%s exe=%s cmd=%q ctx=%s cg=%s", r.lr.EventName(), str(r.lr.Attributes(), "process.pid"), str(r.lr.Attributes(), "process.parent_pid"),
					str(r.lr.Attributes(), "cryptochain.process.parent.creation.time"), str(r.lr.Attributes(), "process.executable.path"),
					str(r.lr.Attributes(), "process.command_line"), str(r.res, "cryptochain.context.kind"), str(r.res, "process.linux.cgroup"))
			}
		}
	}
	assert.Contains(t, str(f.res, "process.linux.cgroup"), "libpod-"+id)
	assert.Contains(t, []string{"cgroup", "container_exec"}, str(f.res, "cryptochain.context.kind"))
	// podman's containers.json names the image the container was created from.
	assert.Equal(t, image, str(f.res, "container.image.name"))
	for _, k := range []string{"k8s.namespace.name", "k8s.pod.name", "k8s.container.name", "k8s.pod.uid"} {
		assert.NotContains(t, f.res.AsRaw(), k, "no pod outside Kubernetes")
	}
}

// TestKernelKubepodsCgroup puts a process into a real cgroup laid out as a kubelet with the systemd
// driver names a containerd container of a pod, next to a pod log directory and a containerd task
// bundle in a temporary host root: its records name the pod, the container and the image.
func TestKernelKubepodsCgroup(t *testing.T) {
	testutil.RequirePrivileged(t)
	cgRoot := process.FindCgroup2Mount("/proc/mounts")
	require.NotEmpty(t, cgRoot, "no cgroup2 mount")
	uid := "5e1b7c3a-9d2f-4e8a-b6c4-" + randName("")[:8] + "abcd"
	id := strings.Repeat(randName("")[:8], 8)
	top := filepath.Join(cgRoot, randName("cryptochain-test-"))
	scope := filepath.Join(top, "kubepods-besteffort-pod"+strings.ReplaceAll(uid, "-", "_")+".slice", "cri-containerd-"+id+".scope")
	require.NoError(t, os.MkdirAll(scope, 0o755))
	t.Cleanup(func() {
		// Innermost first; a cgroup is removable once its processes are gone.
		for _, d := range []string{scope, filepath.Dir(scope), top} {
			for i := 0; i < 50; i++ {
				if err := os.Remove(d); err == nil || os.IsNotExist(err) {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			if _, err := os.Stat(d); err == nil {
				t.Errorf("cgroup %s left behind", d)
			}
		}
	})

	host := t.TempDir()
	pods := filepath.Join(host, "var", "log", "pods")
	require.NoError(t, os.MkdirAll(filepath.Join(pods, "prod_web-7d9f8_"+uid, "nginx"), 0o755))
	bundle := filepath.Join(host, "run", "containerd", "io.containerd.runtime.v2.task", "k8s.io", id)
	require.NoError(t, os.MkdirAll(bundle, 0o755))
	// Without the sandbox annotations: the pod's names can only come from the pod log directory.
	require.NoError(t, os.WriteFile(filepath.Join(bundle, "config.json"), []byte(`{"annotations":{
		"io.kubernetes.cri.container-name":"nginx","io.kubernetes.cri.image-name":"docker.io/library/nginx:1.27"}}`), 0o644))
	k := startKernel(t, func(c *Config) { c.HostRoot = host; c.Workload.PodsDir = pods })

	// A shell waits on its stdin while it is moved into the cgroup, then execs the marker.
	marker := randName("marker-")
	cmd := exec.Command("/bin/sh", "-c", "read x; exec /bin/echo "+marker)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	require.NoError(t, os.WriteFile(filepath.Join(scope, "cgroup.procs"), []byte(strconv.Itoa(cmd.Process.Pid)), 0o644))
	_, err = stdin.Write([]byte("go\n"))
	require.NoError(t, err)
	require.NoError(t, cmd.Wait())

	f := k.wait(t, "the marker's exec in the kubepods cgroup", func(f flat) bool {
		return f.lr.EventName() == "cryptochain.process.exec" && str(f.lr.Attributes(), "process.command_line") == "/bin/echo "+marker
	})
	assert.Equal(t, id, str(f.res, "container.id"))
	assert.Equal(t, "containerd", str(f.res, "container.runtime.name"))
	assert.Equal(t, uid, str(f.res, "k8s.pod.uid"))
	assert.Equal(t, "prod", str(f.res, "k8s.namespace.name"))
	assert.Equal(t, "web-7d9f8", str(f.res, "k8s.pod.name"))
	assert.Equal(t, "nginx", str(f.res, "k8s.container.name"))
	assert.Equal(t, "docker.io/library/nginx:1.27", str(f.res, "container.image.name"))
}

// ensureImage imports a busybox rootfs as a local image once (no registry).
func ensureImage(t *testing.T) string {
	const image = "localhost/cryptochain-receiver-test:1"
	if exec.Command("podman", "image", "exists", image).Run() == nil {
		return image
	}
	dir := t.TempDir()
	root := filepath.Join(dir, "rootfs")
	require.NoError(t, os.MkdirAll(filepath.Join(root, "bin"), 0o755))
	bb, err := exec.LookPath("busybox")
	require.NoError(t, err)
	data, err := os.ReadFile(bb)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(root, "bin", "busybox"), data, 0o755))
	require.NoError(t, os.Symlink("busybox", filepath.Join(root, "bin", "sh")))
	tarball := filepath.Join(dir, "img.tar")
	out, err := exec.Command("tar", "-C", root, "-cf", tarball, ".").CombinedOutput()
	require.NoError(t, err, string(out))
	out, err = exec.Command("podman", "import", tarball, image).CombinedOutput()
	require.NoError(t, err, string(out))
	return image
}

func TestKernelSnapshotOfRunningProcess(t *testing.T) {
	testutil.RequirePrivileged(t)
	cmd := exec.Command("sleep", "60")
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	k := startKernel(t, func(c *Config) { c.Snapshot = true })
	f := k.wait(t, "snapshot cryptochain.process.exec", func(f flat) bool { return f.lr.EventName() == "cryptochain.process.exec" && pidIs(f, cmd.Process.Pid) })
	assert.Equal(t, "procfs", str(f.lr.Attributes(), "cryptochain.event.source"))
	assert.Equal(t, "sleep 60", str(f.lr.Attributes(), "process.command_line"))
	// Its exit is then seen live and attributed to the same process.
	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()
	x := k.wait(t, "cryptochain.process.exit", func(f flat) bool { return f.lr.EventName() == "cryptochain.process.exit" && pidIs(f, cmd.Process.Pid) })
	assert.Equal(t, str(f.res, "cryptochain.context.id"), str(x.res, "cryptochain.context.id"))
	assert.Equal(t, "9", str(x.lr.Attributes(), "cryptochain.process.exit.signal"))
}

func TestKernelLossIsCounted(t *testing.T) {
	k := startKernel(t, func(c *Config) {
		c.RingBufferSize = 4096
		c.LifecycleRingBufferSize = 4096
		c.PollInterval = 2 * time.Second
		c.Network, c.DNS, c.Files, c.Sysctl, c.Rename = false, false, false, false, false
		c.Kill, c.FPU, c.Payload = false, false, false
	})
	// Four loops at once outrun the reader, which the kernel wakes after every KiB of records.
	const loops, perLoop = 4, 200
	const n = loops * perLoop
	pid, _ := runOut(t, exec.Command("/bin/sh", "-c", fmt.Sprintf(
		"for w in 1 2 3 4; do (i=0; while [ $i -lt %d ]; do /bin/true; i=$((i+1)); done) & done; wait", perLoop)))
	deadline := time.Now().Add(10 * time.Second)
	var lost uint64
	for time.Now().Before(deadline) {
		st := k.r.src.Stats()
		lost = st.Lost[event.KindExec] + st.Lost[event.KindExit]
		if lost > 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	require.Positive(t, lost, "a 4 KiB ring polled every 2 s must overflow under an exec storm")
	// Every exec of the storm is either reported or counted as lost.
	time.Sleep(2500 * time.Millisecond)
	seen := 0
	for _, f := range collected(k.sink) {
		if f.lr.EventName() == "cryptochain.process.exec" && str(f.lr.Attributes(), "process.executable.name") == "true" && descendsFrom(f, pid) {
			seen++
		}
	}
	st := k.r.src.Stats()
	t.Logf("storm of %d execs: %d reported, %d exec + %d exit lost", n, seen, st.Lost[event.KindExec], st.Lost[event.KindExit])
	assert.GreaterOrEqual(t, uint64(seen)+st.Lost[event.KindExec], uint64(n))
}

func TestKernelMinerConfigFile(t *testing.T) {
	k := startKernel(t, nil)
	dir := filepath.Join(t.TempDir(), ".cache", randName("x"))
	require.NoError(t, os.MkdirAll(dir, 0o755))
	// A renamed "miner" (a copy of sleep) in a hidden directory, its pool only in config.json.
	data, err := os.ReadFile("/bin/sleep")
	require.NoError(t, err)
	exe := filepath.Join(dir, "kworkerds")
	require.NoError(t, os.WriteFile(exe, data, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"),
		[]byte(`{"pools":[{"url":"pool.cryptochain-test.invalid:443","user":"4wallet-test","pass":"x","tls":true}],"cpu":{"huge-pages":true}}`), 0o644))
	cmd := exec.Command(exe, "5")
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	f := k.wait(t, "cryptochain.process.config_file", func(f flat) bool {
		return f.lr.EventName() == "cryptochain.process.config_file" && pidIs(f, cmd.Process.Pid)
	})
	assert.Equal(t, filepath.Join(dir, "config.json"), str(f.lr.Attributes(), "file.path"))
	assert.Contains(t, str(f.lr.Attributes(), "cryptochain.file.content"), `"user":"4wallet-test"`)
	x := k.wait(t, "cryptochain.process.exec", func(f flat) bool { return f.lr.EventName() == "cryptochain.process.exec" && pidIs(f, cmd.Process.Pid) })
	assert.Equal(t, "true", str(x.lr.Attributes(), "cryptochain.process.exe.unusual_location"))
	assert.Equal(t, "true", str(x.lr.Attributes(), "cryptochain.process.kthread_like"))
}

func TestKernelPodmanExec(t *testing.T) {
	testutil.RequirePrivileged(t)
	if _, err := exec.LookPath("podman"); err != nil {
		if os.Getenv(testutil.RequirePrivilegedEnv) == "1" {
			t.Fatal("podman is not installed (apt-get install -y podman runc busybox-static)")
		}
		t.Skip("podman is not installed")
	}
	image := ensureImage(t)
	k := startKernel(t, nil)
	podman := func(args ...string) string {
		out, err := exec.Command("podman", append([]string{"--runtime", "runc", "--cgroup-manager", "cgroupfs"}, args...)...).CombinedOutput()
		require.NoError(t, err, string(out))
		return strings.TrimSpace(string(out))
	}
	name := randName("cc-recv-")
	id := podman("run", "-d", "--rm", "--network", "none", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024",
		"--name", name, image, "/bin/busybox", "sleep", "30")
	t.Cleanup(func() {
		_ = exec.Command("podman", "--runtime", "runc", "--cgroup-manager", "cgroupfs", "rm", "-f", "-t", "0", name).Run()
	})
	main := k.wait(t, "the container's main process", func(f flat) bool {
		return f.lr.EventName() == "cryptochain.process.exec" && str(f.lr.Attributes(), "process.command_line") == "/bin/busybox sleep 30" && str(f.res, "container.id") == id
	})
	marker := randName("marker-")
	podman("exec", name, "/bin/busybox", "echo", marker)
	f := k.wait(t, "the exec'd process", func(f flat) bool {
		return f.lr.EventName() == "cryptochain.process.exec" && str(f.lr.Attributes(), "process.command_line") == "/bin/busybox echo "+marker
	})
	assert.Equal(t, id, str(f.res, "container.id"))
	assert.Equal(t, "container_exec", str(f.res, "cryptochain.context.kind"))
	assert.NotEqual(t, str(main.res, "cryptochain.context.id"), str(f.res, "cryptochain.context.id"))
}

// descendsFrom says whether a record's process has pid as its parent or among its ancestors.
func descendsFrom(f flat, pid int) bool {
	if str(f.lr.Attributes(), "process.parent_pid") == strconv.Itoa(pid) {
		return true
	}
	v, ok := f.lr.Attributes().Get("cryptochain.process.ancestors")
	if !ok || v.Type() != pcommon.ValueTypeSlice {
		return false
	}
	for i := 0; i < v.Slice().Len(); i++ {
		if v.Slice().At(i).Int() == int64(pid) {
			return true
		}
	}
	return false
}
