package records

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
	"github.com/cryptochain-otel/cryptochain/internal/redact"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/dnsparse"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/event"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/process"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/workload"
)

func newMapper() *Mapper {
	c := &Clock{}
	c.setOffset(1_700_000_000_000_000_000)
	return &Mapper{Clock: c, Redactor: redactor(redact.EnvValuesNonSecret),
		MaxArgs: 4, MaxArgBytes: 64, MaxEnv: 8, MaxEnvBytes: 256}
}

func redactor(values string) *redact.Redactor {
	r, err := redact.New(redact.Config{EnvValues: values, SecretNames: []string{"*KEY*", "*TOKEN*", "*PASS*", "AWS_*"}})
	if err != nil {
		panic(err)
	}
	return r
}

func fill(t *testing.T, m *Mapper, ev *event.Event, actor process.Actor, extra Extra) plog.LogRecord {
	t.Helper()
	lr := plog.NewLogRecord()
	m.Fill(lr, ev, &actor, extra, time.Unix(1_700_000_100, 0))
	return lr
}

func get(t *testing.T, a pcommon.Map, k string) pcommon.Value {
	t.Helper()
	v, ok := a.Get(k)
	require.True(t, ok, "missing attribute %s in %v", k, a.AsRaw())
	return v
}

func TestExecRecord(t *testing.T) {
	m := newMapper()
	ev := &event.Event{Kind: event.KindExec, BootNS: 5_000_000_000,
		Proc: event.Process{PID: 42, StartBootNS: 4_000_000_000, PPID: 7, ParentStartNS: 1_000_000_000, VPID: 3, Comm: "xmrig", UID: 1000, EUID: 0, LoginUID: 1000},
		Exec: &event.Exec{Filename: "./xmrig", ExePath: "/tmp/.x/xmrig", Cwd: "/tmp/.x", Argc: 6, ArgsTruncated: false,
			Args: [][]byte{[]byte("./xmrig"), []byte("-o"), []byte("stratum+tcp://pool.test:3333"), []byte("bad\xff\x00arg"), []byte("more"), []byte("x")},
			Env:  [][]byte{[]byte("HOME=/root"), []byte("AWS_SECRET_ACCESS_KEY=abc"), []byte("api_token=zzz"), []byte("=novalue"), []byte("WALLET=4abc"), []byte("BAD=\xff\xfe")},
			TTY:  "pts/1", SID: 7, PGID: 42, ExeDeleted: true},
	}
	lr := fill(t, m, ev, process.Actor{Ancestors: []int64{7, 1}}, Extra{})
	a := lr.Attributes()
	assert.Equal(t, contract.EventExec, lr.EventName())
	assert.Equal(t, time.Unix(1_700_000_005, 0).UTC(), lr.Timestamp().AsTime().UTC())
	assert.Equal(t, time.Unix(1_700_000_100, 0).UTC(), lr.ObservedTimestamp().AsTime().UTC())
	assert.Equal(t, int64(42), get(t, a, "process.pid").Int())
	assert.Equal(t, "2023-11-14T22:13:24Z", get(t, a, "process.creation.time").Str())
	assert.Equal(t, int64(7), get(t, a, "process.parent_pid").Int())
	assert.Equal(t, "xmrig", get(t, a, "process.executable.name").Str())
	assert.Equal(t, int64(3), get(t, a, "process.vpid").Int())
	_, has := a.Get("cryptochain.event.source")
	assert.False(t, has, "a live hook's record is not marked")
	assert.Equal(t, []any{int64(7), int64(1)}, get(t, a, "cryptochain.process.ancestors").Slice().AsRaw())
	assert.Equal(t, []any{"./xmrig", "-o", "stratum+tcp://pool.test:3333", "bad\uFFFD\uFFFDarg"}, get(t, a, "process.command_args").Slice().AsRaw())
	assert.Equal(t, "./xmrig -o stratum+tcp://pool.test:3333 bad\uFFFD\uFFFDarg", get(t, a, "process.command_line").Str())
	assert.Equal(t, int64(6), get(t, a, "process.args_count").Int())
	assert.True(t, get(t, a, "cryptochain.process.args_truncated").Bool())
	assert.Equal(t, "/root", get(t, a, "process.environment_variable.HOME").Str())
	assert.Equal(t, Redacted, get(t, a, "process.environment_variable.AWS_SECRET_ACCESS_KEY").Str())
	assert.Equal(t, Redacted, get(t, a, "process.environment_variable.api_token").Str())
	assert.Equal(t, "4abc", get(t, a, "process.environment_variable.WALLET").Str())
	assert.Equal(t, "\uFFFD", get(t, a, "process.environment_variable.BAD").Str(), "replacement never eats the value")
	assert.True(t, get(t, a, "cryptochain.process.exe.deleted").Bool())
	assert.True(t, get(t, a, "cryptochain.process.exe.unusual_location").Bool())
	_, has = a.Get("cryptochain.process.exe.memfd")
	assert.False(t, has, "a flag is present only when true")
	_, has = a.Get("cryptochain.process.name_mismatch")
	assert.False(t, has, "./xmrig is the path handed to exec")
	_, has = a.Get("cryptochain.process.kthread_like")
	assert.False(t, has)
	assert.True(t, get(t, a, "process.interactive").Bool())
	assert.Equal(t, int64(1000), get(t, a, "cryptochain.process.login_uid").Int())
	assert.Equal(t, int64(0), get(t, a, "process.user.id").Int())
	assert.Equal(t, int64(1000), get(t, a, "process.real_user.id").Int())

	m.Redactor = redactor(EnvValuesNone)
	lr = fill(t, m, ev, process.Actor{}, Extra{})
	assert.Equal(t, Redacted, get(t, lr.Attributes(), "process.environment_variable.HOME").Str())
}

func TestOtherRecords(t *testing.T) {
	m := newMapper()
	p := event.Process{PID: 9, Comm: "c"}
	actor := process.Actor{Proc: &process.Proc{Exe: "/usr/bin/curl"}}

	lr := fill(t, m, &event.Event{Proc: p, ExecFailed: &event.ExecFailed{Filename: "/sbin/modprobe", Args: [][]byte{[]byte("modprobe"), []byte("msr")}, Errno: 2}}, actor, Extra{})
	assert.Equal(t, contract.EventExecFailed, lr.EventName())
	assert.Equal(t, "ENOENT", get(t, lr.Attributes(), "error.type").Str())
	assert.Equal(t, "modprobe msr", get(t, lr.Attributes(), "process.command_line").Str())
	assert.Equal(t, "/usr/bin/curl", get(t, lr.Attributes(), "process.executable.path").Str())

	lr = fill(t, m, &event.Event{Proc: p, Exit: &event.Exit{Code: 3 << 8, UserNS: 1_500_000_000, SystemNS: 500_000_000}}, actor, Extra{})
	assert.Equal(t, int64(3), get(t, lr.Attributes(), "process.exit.code").Int())
	assert.InDelta(t, 2.0, get(t, lr.Attributes(), "cryptochain.process.cpu.time").Double(), 1e-9)
	lr = fill(t, m, &event.Event{Proc: p, Exit: &event.Exit{Code: 9}}, actor, Extra{})
	assert.Equal(t, int64(9), get(t, lr.Attributes(), "cryptochain.process.exit.signal").Int())

	var v6 [16]byte
	copy(v6[:], []byte{0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})
	lr = fill(t, m, &event.Event{Proc: p, Connect: &event.Connect{Family: 10, Transport: 6, Addr: v6, Port: 443, Errno: 101}}, actor, Extra{})
	a := lr.Attributes()
	assert.Equal(t, "fd00::1", get(t, a, "server.address").Str())
	assert.Equal(t, "ipv6", get(t, a, "network.type").Str())
	assert.Equal(t, "error", get(t, a, "cryptochain.connect.result").Str())
	assert.Equal(t, "ENETUNREACH", get(t, a, "error.type").Str())
	lr = fill(t, m, &event.Event{Proc: p, Connect: &event.Connect{Family: 2, Transport: 17, Addr: [16]byte{127, 0, 0, 1}, Port: 53}}, actor, Extra{})
	assert.Equal(t, "127.0.0.1", get(t, lr.Attributes(), "server.address").Str())
	assert.Equal(t, "udp", get(t, lr.Attributes(), "network.transport").Str())
	assert.Equal(t, "ok", get(t, lr.Attributes(), "cryptochain.connect.result").Str())

	msg := &dnsparse.Message{ID: 5, Response: true, Name: "pool.test", Type: "A", RCode: "NOERROR", Answers: []string{"10.0.0.1"}, CNAMEs: []string{"a.test"}}
	lr = fill(t, m, &event.Event{Proc: p, DNS: &event.DNSPacket{Family: 2, Transport: 17, SrcAddr: [16]byte{127, 0, 0, 1}, SrcPort: 53}}, actor, Extra{DNS: msg})
	a = lr.Attributes()
	assert.Equal(t, contract.EventDNSAnswer, lr.EventName())
	assert.Equal(t, []any{"10.0.0.1"}, get(t, a, "dns.answers").Slice().AsRaw())
	assert.Equal(t, []any{"a.test"}, get(t, a, "cryptochain.dns.cnames").Slice().AsRaw())
	assert.Equal(t, "pool.test", get(t, a, "dns.question.name").Str())
	lr = fill(t, m, &event.Event{Proc: p, DNS: &event.DNSPacket{Egress: true, Family: 2, Transport: 17, DstAddr: [16]byte{127, 0, 0, 1}, DstPort: 53}}, actor, Extra{DNS: &dnsparse.Message{ID: 5, Name: "pool.test", Type: "A"}})
	assert.Equal(t, contract.EventDNSQuery, lr.EventName())
	_, has := lr.Attributes().Get("dns.answers")
	assert.False(t, has)

	lr = fill(t, m, &event.Event{Proc: p, File: &event.File{Op: event.FileOpen, Path: "/dev/cpu/0/msr", Errno: 2}}, actor, Extra{})
	assert.Equal(t, contract.EventFileOpen, lr.EventName())
	assert.Equal(t, "ENOENT", get(t, lr.Attributes(), "error.type").Str())
	lr = fill(t, m, &event.Event{Proc: p, File: &event.File{Op: event.FileRename, Path: "/etc/cron.d/x", SourcePath: "/etc/cron.d/.x.tmp"}}, actor, Extra{FileContent: []byte("* * * * * root /tmp/x\n")})
	assert.Equal(t, contract.EventFileWrite, lr.EventName())
	assert.Equal(t, "* * * * * root /tmp/x\n", get(t, lr.Attributes(), "cryptochain.file.content").Str())
	assert.Equal(t, "/etc/cron.d/.x.tmp", get(t, lr.Attributes(), "cryptochain.file.source_path").Str())
	lr = fill(t, m, &event.Event{Proc: p, File: &event.File{Op: event.FileSymlink, Path: "/etc/systemd/system/multi-user.target.wants/u.service", SourcePath: "/etc/systemd/system/u.service"}}, actor, Extra{})
	assert.Equal(t, "/etc/systemd/system/u.service", get(t, lr.Attributes(), "file.symbolic_link.target_path").Str())
	_, has = lr.Attributes().Get("cryptochain.file.source_path")
	assert.False(t, has, "a symlink's target is not a source path")
	lr = fill(t, m, &event.Event{Proc: p, File: &event.File{Op: event.FileChmod, Path: "/etc/cron.d/x", Mode: 0o755}}, actor, Extra{})
	assert.Equal(t, "0755", get(t, lr.Attributes(), "file.mode").Str())

	lr = fill(t, m, &event.Event{Proc: p, Sysctl: &event.Sysctl{Name: "vm/nr_hugepages", NewValue: "1280\n", OldValue: "0"}}, actor, Extra{})
	assert.Equal(t, "vm.nr_hugepages", get(t, lr.Attributes(), "cryptochain.sysctl.name").Str())
	assert.Equal(t, "1280", get(t, lr.Attributes(), "cryptochain.sysctl.value").Str())
	assert.Equal(t, "/proc/sys/vm/nr_hugepages", get(t, lr.Attributes(), "file.path").Str())

	lr = fill(t, m, &event.Event{Proc: p, Rename: &event.Rename{OldComm: "xmrig", NewComm: "kworker/0:1"}}, actor, Extra{})
	assert.Equal(t, "kworker/0:1", get(t, lr.Attributes(), "cryptochain.process.comm").Str())
	assert.Equal(t, "xmrig", get(t, lr.Attributes(), "cryptochain.process.comm.old").Str())
	assert.True(t, get(t, lr.Attributes(), "cryptochain.process.kthread_like").Bool())

	lr = fill(t, m, &event.Event{Proc: event.Process{PID: 5, Comm: "xmrig"}, Exec: &event.Exec{Filename: "/tmp/.x/xmrig", ExePath: "/tmp/.x/xmrig",
		Args: [][]byte{[]byte("[kworker/0:1]")}, Argc: 1}}, actor, Extra{})
	assert.True(t, get(t, lr.Attributes(), "cryptochain.process.name_mismatch").Bool())
	assert.True(t, get(t, lr.Attributes(), "cryptochain.process.kthread_like").Bool())

	// Snapshot source.
	lr = fill(t, m, &event.Event{Proc: p, Exec: &event.Exec{FromSnapshot: true}}, actor, Extra{})
	assert.Equal(t, "procfs", get(t, lr.Attributes(), "cryptochain.event.source").Str())
}

func TestHostileArgs(t *testing.T) {
	m := newMapper()
	m.MaxArgs, m.MaxArgBytes = 64, 4096
	args := make([][]byte, 100000)
	for i := range args {
		args[i] = []byte(strings.Repeat("\xff", 100))
	}
	lr := fill(t, m, &event.Event{Proc: event.Process{PID: 1}, Exec: &event.Exec{Args: args, Argc: 100000}}, process.Actor{}, Extra{})
	a := lr.Attributes()
	s := get(t, a, "process.command_args").Slice()
	assert.LessOrEqual(t, s.Len(), 64)
	total := 0
	for i := 0; i < s.Len(); i++ {
		assert.True(t, utf8.ValidString(s.At(i).Str()))
		total += len(s.At(i).Str())
	}
	assert.LessOrEqual(t, total, 4096)
	assert.True(t, get(t, a, "cryptochain.process.args_truncated").Bool())
	assert.Equal(t, int64(100000), get(t, a, "process.args_count").Int())
}

func TestErrnoName(t *testing.T) {
	assert.Equal(t, "ECONNREFUSED", errnoName(111))
	assert.Equal(t, "errno 999", errnoName(999))
}

func TestBatchGroupsByContext(t *testing.T) {
	b := NewBatch(Host{Name: "h", ID: "mid"}, "scope")
	c1 := &process.Actor{Context: process.Context{ID: "cron:1", Kind: "cron", ParentID: "boot:0"}, Cgroup: process.Cgroup{Path: "/system.slice/cron.service"}}
	c2 := &process.Actor{Context: process.Context{ID: "cgroup:2", Kind: "cgroup"}, Cgroup: process.Cgroup{Path: "/libpod_parent/libpod-x", ContainerID: "x"}}
	b.NewRecord(c1)
	b.NewRecord(c2)
	b.NewRecord(c1)
	assert.Equal(t, 3, b.Len())
	ld := b.Take()
	assert.Equal(t, 0, b.Len())
	require.Equal(t, 2, ld.ResourceLogs().Len())
	r0 := ld.ResourceLogs().At(0)
	assert.Equal(t, 2, r0.ScopeLogs().At(0).LogRecords().Len())
	assert.Equal(t, map[string]any{"host.name": "h", "host.id": "mid", "process.linux.cgroup": "0::/system.slice/cron.service",
		"cryptochain.context.id": "cron:1", "cryptochain.context.kind": "cron", "cryptochain.context.parent_id": "boot:0"}, r0.Resource().Attributes().AsRaw())
	assert.Equal(t, "x", ld.ResourceLogs().At(1).Resource().Attributes().AsRaw()["container.id"])
	assert.Equal(t, "scope", r0.ScopeLogs().At(0).Scope().Name())
}

func TestBatchWorkloadResource(t *testing.T) {
	b := NewBatch(Host{Name: "node-1"}, "scope")
	b.NewRecord(&process.Actor{Context: process.Context{ID: "cgroup:3", Kind: "cgroup"}, Cgroup: process.Cgroup{
		Path: "/kubepods/pod3f1c2a4e-8b7d-4c2e-9a1f-0d5e6b7c8a91/abc", ContainerID: "abc", PodUID: "3f1c2a4e-8b7d-4c2e-9a1f-0d5e6b7c8a91",
		Runtime:  "containerd",
		Workload: workload.Info{Namespace: "prod", PodName: "web-7d9f8", ContainerName: "nginx", Image: "docker.io/library/nginx:1.27"},
	}})
	b.NewRecord(&process.Actor{Context: process.Context{ID: "cgroup:4", Kind: "cgroup"}, Cgroup: process.Cgroup{ContainerID: "def", Workload: workload.Info{Image: "localhost/x:1"}}})
	ld := b.Take()
	require.Equal(t, 2, ld.ResourceLogs().Len())
	a := ld.ResourceLogs().At(0).Resource().Attributes().AsRaw()
	assert.Equal(t, "prod", a["k8s.namespace.name"])
	assert.Equal(t, "web-7d9f8", a["k8s.pod.name"])
	assert.Equal(t, "nginx", a["k8s.container.name"])
	assert.Equal(t, "docker.io/library/nginx:1.27", a["container.image.name"])
	assert.Equal(t, "3f1c2a4e-8b7d-4c2e-9a1f-0d5e6b7c8a91", a["k8s.pod.uid"])
	a = ld.ResourceLogs().At(1).Resource().Attributes().AsRaw()
	assert.Equal(t, "localhost/x:1", a["container.image.name"])
	for _, k := range []string{"k8s.namespace.name", "k8s.pod.name", "k8s.container.name", "k8s.pod.uid"} {
		assert.NotContains(t, a, k, "unknown names are absent, not empty")
	}
}

func TestClock(t *testing.T) {
	c := NewClock()
	now := time.Now()
	assert.WithinDuration(t, now, c.Wall(c.bootNow()), 50*time.Millisecond)
}

func TestRedactedRecords(t *testing.T) {
	m := newMapper()
	m.MaxArgBytes = 512
	ev := &event.Event{Kind: event.KindExec, Proc: event.Process{PID: 42, Comm: "curl"},
		Exec: &event.Exec{Filename: "/usr/bin/curl", Argc: 4,
			Args: [][]byte{[]byte("curl"), []byte("-u"), []byte("admin:hunter2"), []byte("https://bob:pw@127.0.0.1/")},
			Env:  [][]byte{[]byte("HTTP_PROXY=http://u:proxypw@127.0.0.1:3128")}}}
	a := fill(t, m, ev, process.Actor{}, Extra{}).Attributes()
	assert.Equal(t, []any{"curl", "-u", "admin:[REDACTED]", "https://bob:[REDACTED]@127.0.0.1/"}, get(t, a, "process.command_args").Slice().AsRaw())
	assert.Equal(t, "curl -u admin:[REDACTED] https://bob:[REDACTED]@127.0.0.1/", get(t, a, "process.command_line").Str())
	assert.Equal(t, "http://u:[REDACTED]@127.0.0.1:3128", get(t, a, "process.environment_variable.HTTP_PROXY").Str())

	p := event.Process{PID: 9, Comm: "c"}
	lr := fill(t, m, &event.Event{Proc: p, Payload: &event.Payload{Family: 2, Port: 3333,
		Data: []byte(`{"id":1,"method":"login","params":{"login":"4AB","pass":"w1"}}`)}}, process.Actor{}, Extra{})
	assert.Equal(t, `{"id":1,"method":"login","params":{"login":"4AB","pass":"[REDACTED]"}}`, get(t, lr.Attributes(), "cryptochain.network.payload").Str())
	lr = fill(t, m, &event.Event{Proc: p, Payload: &event.Payload{Family: 2, Port: 80, Data: []byte("GET / HTTP/1.1\r\nAuthorization: Basic eA==\r\n")}}, process.Actor{}, Extra{})
	_, has := lr.Attributes().Get("cryptochain.network.payload")
	assert.False(t, has, "only a mining protocol head is forwarded")

	lr = fill(t, m, &event.Event{Proc: p, File: &event.File{Op: event.FileOpen, WriteIntent: true, Path: "/etc/cron.d/x"}}, process.Actor{},
		Extra{FileContent: []byte("* * * * * root curl -u admin:cronpw http://x\n")})
	assert.Equal(t, "* * * * * root curl -u admin:[REDACTED] http://x\n", get(t, lr.Attributes(), "cryptochain.file.content").Str())
}

// FuzzFill feeds hostile bytes into every string an exec, a file and a DNS record carry.
func FuzzFill(f *testing.F) {
	f.Add([]byte("./xmrig\x00-o\x00pool"), []byte("KEY=\xff\xfe"), "/etc/cron.d/\x00x", uint32(7))
	f.Fuzz(func(t *testing.T, args, env []byte, p string, n uint32) {
		m := newMapper()
		ev := &event.Event{Proc: event.Process{PID: n | 1, Comm: p}, Exec: &event.Exec{Filename: p, ExePath: p, Cwd: p, TTY: p,
			Args: bytes.Split(args, []byte{0}), Argc: int(n % 1000), Env: bytes.Split(env, []byte{0})}}
		lr := fill(t, m, ev, process.Actor{}, Extra{})
		lr.Attributes().Range(func(k string, v pcommon.Value) bool {
			if !utf8.ValidString(k) || v.Type() == pcommon.ValueTypeStr && !utf8.ValidString(v.Str()) {
				t.Fatalf("invalid UTF-8 in %q", k)
			}
			return true
		})
		fill(t, m, &event.Event{Proc: ev.Proc, File: &event.File{Op: p, Path: p, SourcePath: p, Content: args}}, process.Actor{}, Extra{})
	})
}

// argv whose middle was not captured: the head and the end are bounded separately, the index the
// end starts at and the skipped bytes are reported, so flags after filler survive the mapper too.
func TestArgsWithGap(t *testing.T) {
	m := newMapper() // 4 args, 64 bytes
	var args [][]byte
	for i := 0; i < 10; i++ {
		args = append(args, []byte("--filler"))
	}
	args = append(args, []byte("-o"), []byte("pool:443"), []byte("-u"), []byte("WALLET"))
	x := &event.Exec{Args: args, Argc: 3006, ArgsTruncated: true, ArgsTailAt: 10, ArgsSkipped: 9000, CreatorPID: 7, FromSnapshot: false}
	lr := fill(t, m, &event.Event{Proc: event.Process{PID: 1, PPID: 1}, Exec: x}, process.Actor{}, Extra{})
	a := lr.Attributes()
	s := get(t, a, "process.command_args").Slice().AsRaw()
	assert.Equal(t, []any{"--filler", "--filler", "--filler", "--filler", "-o", "pool:443", "-u", "WALLET"}, s)
	assert.Equal(t, int64(4), get(t, a, contract.AttrProcessArgsTailIndex).Int())
	assert.Equal(t, int64(9000), get(t, a, contract.AttrProcessArgsSkippedBytes).Int())
	assert.True(t, get(t, a, "cryptochain.process.args_truncated").Bool())
	assert.Equal(t, contract.LineageFork, get(t, a, contract.AttrProcessLineage).Str())
	assert.Equal(t, int64(7), get(t, a, contract.AttrProcessCreatorPID).Int(), "creator differs from the parent at exec")

	// the end of argv is cut to the byte bound from its end
	x.Args = append(args[:10:10], []byte(strings.Repeat("x", 60)), []byte("-u"), []byte("WALLET"))
	lr = fill(t, m, &event.Event{Proc: event.Process{PID: 1, PPID: 7}, Exec: x}, process.Actor{}, Extra{})
	a = lr.Attributes()
	assert.Equal(t, []any{"--filler", "--filler", "--filler", "--filler", "-u", "WALLET"}, get(t, a, "process.command_args").Slice().AsRaw())
	_, has := a.Get(contract.AttrProcessCreatorPID)
	assert.False(t, has, "the creator is the parent")

	x.CreatorPID, x.FromSnapshot = 0, true
	lr = fill(t, m, &event.Event{Proc: event.Process{PID: 1}, Exec: x}, process.Actor{}, Extra{})
	assert.Equal(t, contract.LineageSnapshot, get(t, lr.Attributes(), contract.AttrProcessLineage).Str())
}

func TestFileRootMarks(t *testing.T) {
	m := newMapper()
	for _, c := range []struct {
		f         event.File
		container string
		want      string
	}{
		{event.File{Op: event.FileCreate, Path: "/var/spool/cron/crontabs/root", Resolved: true, Chroot: true}, "", contract.FileRootChroot},
		{event.File{Op: event.FileCreate, Path: "/var/spool/cron/crontabs/root", Resolved: true, OtherMountNS: true}, "", contract.FileRootPrivate},
		{event.File{Op: event.FileCreate, Path: "/var/spool/cron/crontabs/root", Resolved: true, OtherMountNS: true}, strings.Repeat("a", 64), ""},
		{event.File{Op: event.FileCreate, Path: "/etc/cron.d/x"}, "", ""},
	} {
		f := c.f
		actor := process.Actor{Cgroup: process.Cgroup{ContainerID: c.container}}
		a := fill(t, m, &event.Event{Proc: event.Process{PID: 1}, File: &f}, actor, Extra{}).Attributes()
		v, ok := a.Get(contract.AttrFileRoot)
		if c.want == "" {
			assert.False(t, ok, "%+v in %q", c.f, c.container)
		} else {
			assert.Equal(t, c.want, v.Str())
		}
		assert.Equal(t, c.f.Resolved, get(t, a, contract.AttrFileResolved).Bool())
	}
}

// The environment cache must give a repeated exec exactly what the first one got (redaction
// included), start over for another Redactor, and not change what the ring's reused bytes become.
func TestExecEnvironmentRepeated(t *testing.T) {
	m := newMapper()
	env := func() [][]byte {
		return [][]byte{[]byte("HOME=/root"), []byte("AWS_SECRET_ACCESS_KEY=abc"), []byte("=novalue"), []byte("BAD=\xff\xfe"),
			[]byte("NOTE=call me at https://user:hunter2secret@example.test/x")}
	}
	ev := &event.Event{Kind: event.KindExec, Proc: event.Process{PID: 42, StartBootNS: 4e9},
		Exec: &event.Exec{Filename: "/bin/true", ExePath: "/usr/bin/true", Args: [][]byte{[]byte("true")}, Env: env()}}
	first := fill(t, m, ev, process.Actor{}, Extra{}).Attributes().AsRaw()
	assert.Equal(t, redact.Mark, first[contract.AttrEnvPrefix+"AWS_SECRET_ACCESS_KEY"])
	assert.NotContains(t, first[contract.AttrEnvPrefix+"NOTE"], "hunter2secret")
	for i := range ev.Exec.Env { // the ring reuses its buffer: the next record's bytes land in place
		copy(ev.Exec.Env[i], bytes.Repeat([]byte{'Z'}, len(ev.Exec.Env[i])))
	}
	ev.Exec.Env = env()
	assert.Equal(t, first, fill(t, m, ev, process.Actor{}, Extra{}).Attributes().AsRaw())

	m.Redactor = redactor(redact.EnvValuesNone)
	again := fill(t, m, ev, process.Actor{}, Extra{}).Attributes().AsRaw()
	assert.Equal(t, redact.Mark, again[contract.AttrEnvPrefix+"HOME"], "a new Redactor is not answered from the old one's entries")
}

// From its second sighting an environment is copied from a ready map: the record must be the one
// the variables put one by one make, the set must hold its own copy of the entries (the ring
// reuses its buffer), an entry changed in place must miss, and the bounds and redaction must hold.
func TestExecEnvironmentSet(t *testing.T) {
	m := newMapper() // MaxEnv 8
	env := func(home string) [][]byte {
		e := [][]byte{[]byte("HOME=" + home), []byte("AWS_SECRET_ACCESS_KEY=abc"), []byte("WALLET=4abc")}
		for i := range 7 { // over the bound of 8
			e = append(e, []byte("V"+string(rune('A'+i))+"=x"))
		}
		return e
	}
	ev := func(home string) *event.Event {
		return &event.Event{Kind: event.KindExec, Proc: event.Process{PID: 42, StartBootNS: 4e9},
			Exec: &event.Exec{Filename: "/bin/true", ExePath: "/usr/bin/true", Args: [][]byte{[]byte("true")}, Env: env(home)}}
	}
	oneByOne := fill(t, newMapper(), ev("/root"), process.Actor{}, Extra{}).Attributes().AsRaw()
	require.Equal(t, true, oneByOne[contract.AttrProcessEnvTruncated])
	require.Equal(t, redact.Mark, oneByOne[contract.AttrEnvPrefix+"AWS_SECRET_ACCESS_KEY"])
	for i := range 3 {
		e := ev("/root")
		assert.Equal(t, oneByOne, fill(t, m, e, process.Actor{}, Extra{}).Attributes().AsRaw(), "sighting %d", i+1)
		for _, b := range e.Exec.Env { // the ring reuses its buffer
			copy(b, bytes.Repeat([]byte{'Z'}, len(b)))
		}
	}
	require.Len(t, m.envSets.sets, 1, "the environment became a set")
	other := fill(t, m, ev("/roo7"), process.Actor{}, Extra{}).Attributes().AsRaw()
	assert.Equal(t, "/roo7", other[contract.AttrEnvPrefix+"HOME"], "an entry of the same length changed: no hit")

	m.Redactor = redactor(redact.EnvValuesNone)
	again := fill(t, m, ev("/root"), process.Actor{}, Extra{}).Attributes().AsRaw()
	assert.Equal(t, redact.Mark, again[contract.AttrEnvPrefix+"HOME"], "a new Redactor is not answered from the old one's sets")
}

// A flood of distinct environments never makes sets: each is seen once.
func TestExecEnvironmentFloodMakesNoSets(t *testing.T) {
	m := newMapper()
	for i := range 2000 {
		e := &event.Event{Kind: event.KindExec, Proc: event.Process{PID: 42, StartBootNS: 4e9},
			Exec: &event.Exec{Filename: "/bin/true", Args: [][]byte{[]byte("true")}, Env: [][]byte{[]byte("N=" + strconv.Itoa(i))}}}
		fill(t, m, e, process.Actor{}, Extra{})
	}
	assert.Empty(t, m.envSets.sets)
	assert.LessOrEqual(t, len(m.envSets.seen), envSetsMax*4, "what was seen once is bounded")
}
