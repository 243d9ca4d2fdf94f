package evidence

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
)

func record(name string, fill func(m pcommon.Map)) plog.LogRecord {
	lr := plog.NewLogRecord()
	lr.SetEventName(name)
	lr.SetTimestamp(pcommon.NewTimestampFromTime(time.Unix(1700000000, 5)))
	m := lr.Attributes()
	m.PutInt("process.pid", 42)
	m.PutStr("process.creation.time", "2026-11-27T04:00:00Z")
	m.PutInt("process.parent_pid", 1)
	m.PutStr("cryptochain.process.parent.creation.time", "2026-11-27T03:00:00Z")
	m.PutStr("process.executable.path", "/tmp/x")
	m.PutStr("process.executable.name", "x")
	m.PutStr("cryptochain.process.comm", "x")
	m.PutStr("cryptochain.event.source", "kernel")
	anc := m.PutEmptySlice("cryptochain.process.ancestors")
	anc.AppendEmpty().SetInt(1)
	anc.AppendEmpty().SetInt(0)
	if fill != nil {
		fill(m)
	}
	return lr
}

func strs(m pcommon.Map, k string, vs ...string) {
	s := m.PutEmptySlice(k)
	for _, v := range vs {
		s.AppendEmpty().SetStr(v)
	}
}

func TestDecodeEveryEvent(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fill  func(m pcommon.Map)
		check func(t *testing.T, ev Event)
	}{
		{contract.EventExec, func(m pcommon.Map) {
			m.PutStr("process.command", "x")
			strs(m, "process.command_args", "x", "-o", "stratum+tcp://p:1")
			m.PutStr("process.command_line", "x -o stratum+tcp://p:1")
			m.PutInt("process.args_count", 3)
			m.PutBool("cryptochain.process.args_truncated", false)
			m.PutStr("process.working_directory", "/tmp")
			m.PutInt("process.user.id", 0)
			m.PutBool("process.interactive", true)
			m.PutStr("cryptochain.process.filename", "./x")
			m.PutStr("cryptochain.process.interpreter", "/bin/sh")
			m.PutBool("cryptochain.process.exe.memfd", true)
			m.PutBool("cryptochain.process.exe.deleted", true)
			m.PutStr("process.environment_variable.POOL_URL", "stratum+tcp://p:1")
			m.PutStr("process.environment_variable.SECRET", "[REDACTED]")
			m.PutBool("cryptochain.process.env_truncated", false)
			m.PutBool("cryptochain.process.exe.unusual_location", true)
			m.PutBool("cryptochain.process.name_mismatch", true)
			m.PutBool("cryptochain.process.kthread_like", true)
		}, func(t *testing.T, ev Event) {
			assert.True(t, ev.UnusualLocation)
			assert.True(t, ev.NameMismatch)
			assert.True(t, ev.KthreadLike)
			assert.Equal(t, []string{"x", "-o", "stratum+tcp://p:1"}, ev.Args)
			assert.Equal(t, "x -o stratum+tcp://p:1", ev.CmdLine)
			assert.Equal(t, int64(3), ev.ArgsCount)
			assert.Equal(t, "/tmp", ev.Cwd)
			assert.True(t, ev.Interactive)
			assert.Equal(t, "./x", ev.Filename)
			assert.Equal(t, "/bin/sh", ev.Interpreter)
			assert.True(t, ev.ExeMemfd)
			assert.True(t, ev.ExeDeleted)
			assert.Equal(t, []EnvVar{{"POOL_URL", "stratum+tcp://p:1"}, {"SECRET", "[REDACTED]"}}, ev.EnvVars)
			assert.Equal(t, "x", ev.Command)
		}},
		{contract.EventExecFailed, func(m pcommon.Map) {
			m.PutStr("cryptochain.process.filename", "/usr/bin/crontab")
			strs(m, "process.command_args", "crontab", "/tmp/c")
			m.PutStr("error.type", "EACCES")
		}, func(t *testing.T, ev Event) {
			assert.True(t, ev.Failed)
			assert.Equal(t, "EACCES", ev.ErrorType)
			assert.Equal(t, []string{"crontab", "/tmp/c"}, ev.Args)
		}},
		{contract.EventExit, func(m pcommon.Map) {
			m.PutInt("process.exit.code", 137)
			m.PutStr("process.exit.time", "2026-11-27T05:00:00Z")
			m.PutInt("cryptochain.process.exit.signal", 9)
			m.PutDouble("cryptochain.process.cpu.user", 1.5)
			m.PutDouble("cryptochain.process.cpu.system", 0.5)
		}, func(t *testing.T, ev Event) {
			assert.True(t, ev.HasExit)
			assert.Equal(t, int64(137), ev.ExitCode)
			assert.Equal(t, int64(9), ev.ExitSignal)
			assert.InDelta(t, 2.0, ev.CPUSeconds, 1e-9)
		}},
		{contract.EventRename, func(m pcommon.Map) {
			m.PutStr("cryptochain.process.comm.old", "x")
			m.PutStr("cryptochain.process.comm", "kworker/0:1")
		}, func(t *testing.T, ev Event) {
			assert.Equal(t, "x", ev.CommOld)
			assert.Equal(t, "kworker/0:1", ev.Comm)
		}},
		{contract.EventConnect, func(m pcommon.Map) {
			m.PutStr("server.address", "192.0.2.1")
			m.PutInt("server.port", 3333)
			m.PutStr("network.transport", "tcp")
			m.PutStr("network.type", "ipv4")
			m.PutStr("cryptochain.connect.result", "error")
			m.PutStr("error.type", "ECONNREFUSED")
		}, func(t *testing.T, ev Event) {
			assert.Equal(t, "192.0.2.1", ev.Address)
			assert.Equal(t, int64(3333), ev.Port)
			assert.Equal(t, "tcp", ev.Transport)
			assert.True(t, ev.Failed)
		}},
		{contract.EventDNSQuery, func(m pcommon.Map) {
			m.PutStr("dns.question.name", "pool.example")
			m.PutStr("cryptochain.dns.question.type", "A")
			m.PutInt("cryptochain.dns.id", 7)
			m.PutStr("server.address", "127.0.0.53")
			m.PutInt("server.port", 53)
		}, func(t *testing.T, ev Event) {
			assert.Equal(t, "pool.example", ev.DNSName)
			assert.Equal(t, "A", ev.DNSType)
		}},
		{contract.EventDNSAnswer, func(m pcommon.Map) {
			m.PutStr("dns.question.name", "a.example")
			strs(m, "dns.answers", "192.0.2.1", "2001:db8::1")
			strs(m, "cryptochain.dns.cnames", "b.example", "pool.example")
			m.PutStr("cryptochain.dns.rcode", "NOERROR")
		}, func(t *testing.T, ev Event) {
			assert.Equal(t, []string{"192.0.2.1", "2001:db8::1"}, ev.DNSAnswers)
			assert.Equal(t, []string{"b.example", "pool.example"}, ev.DNSCNAMEs)
			assert.Equal(t, "NOERROR", ev.DNSRcode)
		}},
		{contract.EventFileWrite, func(m pcommon.Map) {
			m.PutStr("file.path", "/etc/cron.d/x")
			m.PutStr("cryptochain.file.operation", "rename")
			m.PutStr("cryptochain.file.source_path", "/tmp/x")
			m.PutInt("cryptochain.file.flags", 577)
			m.PutStr("file.mode", "0644")
			m.PutStr("cryptochain.file.result", "ok")
			m.PutStr("cryptochain.file.content", "* * * * * root /tmp/x\n")
		}, func(t *testing.T, ev Event) {
			assert.Equal(t, "/etc/cron.d/x", ev.Path)
			assert.Equal(t, "rename", ev.Op)
			assert.Equal(t, "/tmp/x", ev.SourcePath)
			assert.Equal(t, int64(577), ev.Flags)
			assert.Equal(t, "0644", ev.Mode)
			assert.False(t, ev.Failed)
			assert.Equal(t, "* * * * * root /tmp/x\n", ev.Content)
		}},
		{contract.EventFileWrite, func(m pcommon.Map) {
			m.PutStr("file.path", "/etc/systemd/system/multi-user.target.wants/u.service")
			m.PutStr("cryptochain.file.operation", "symlink")
			m.PutStr("file.symbolic_link.target_path", "/etc/systemd/system/u.service")
		}, func(t *testing.T, ev Event) {
			assert.Equal(t, "/etc/systemd/system/u.service", ev.SourcePath)
		}},
		{contract.EventFileOpen, func(m pcommon.Map) {
			m.PutStr("file.path", "/dev/cpu/0/msr")
			m.PutStr("cryptochain.file.operation", "open")
			m.PutStr("cryptochain.file.result", "error")
		}, func(t *testing.T, ev Event) {
			assert.Equal(t, "/dev/cpu/0/msr", ev.Path)
			assert.True(t, ev.Failed)
		}},
		{contract.EventSysctlWrite, func(m pcommon.Map) {
			m.PutStr("cryptochain.sysctl.name", "vm.nr_hugepages")
			m.PutStr("cryptochain.sysctl.value", "1280")
			m.PutStr("cryptochain.sysctl.old_value", "0")
			m.PutStr("file.path", "/proc/sys/vm/nr_hugepages")
		}, func(t *testing.T, ev Event) {
			assert.Equal(t, "vm.nr_hugepages", ev.SysctlName)
			assert.Equal(t, "1280", ev.SysctlValue)
			assert.Equal(t, "0", ev.SysctlOldValue)
		}},
		{contract.EventFPURounding, func(m pcommon.Map) {
			m.PutInt("cryptochain.fpu.mxcsr", 0x7f80)
			m.PutInt("cryptochain.fpu.nondefault", 40)
			m.PutInt("cryptochain.fpu.samples", 64)
		}, func(t *testing.T, ev Event) {
			assert.Equal(t, int64(0x7f80), ev.FPUMXCSR)
			assert.Equal(t, int64(40), ev.FPUNonDefault)
			assert.Equal(t, int64(64), ev.FPUSamples)
		}},
		{contract.EventPayload, func(m pcommon.Map) {
			m.PutStr("server.address", "192.0.2.1")
			m.PutInt("server.port", 443)
			m.PutStr("cryptochain.network.payload", `{"method":"login"}`)
		}, func(t *testing.T, ev Event) {
			assert.Equal(t, `{"method":"login"}`, ev.Payload)
		}},
		{contract.EventConfigFile, func(m pcommon.Map) {
			m.PutStr("file.path", "/tmp/config.json")
			m.PutStr("cryptochain.file.content", `{"pools":[]}`)
		}, func(t *testing.T, ev Event) {
			assert.Equal(t, "/tmp/config.json", ev.Path)
			assert.Equal(t, `{"pools":[]}`, ev.Content)
		}},
		{contract.EventKill, func(m pcommon.Map) {
			m.PutInt("cryptochain.kill.target_pid", 77)
			m.PutInt("cryptochain.kill.signal", 9)
			m.PutStr("cryptochain.kill.target_name", "xmrig")
			m.PutStr("error.type", "EPERM")
		}, func(t *testing.T, ev Event) {
			assert.Equal(t, int64(77), ev.KillTargetPID)
			assert.Equal(t, int64(9), ev.KillSignal)
			assert.Equal(t, "xmrig", ev.KillTargetName)
			assert.True(t, ev.Failed)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := FromLogRecord(record(tc.name, tc.fill))
			require.NoError(t, err)
			assert.Equal(t, tc.name, ev.Name)
			assert.Equal(t, int64(42), ev.PID)
			assert.Equal(t, "2026-11-27T04:00:00Z", ev.Start)
			assert.Equal(t, int64(1), ev.PPID)
			assert.Equal(t, "2026-11-27T03:00:00Z", ev.PStart)
			assert.Equal(t, []int64{1, 0}, ev.Ancestors)
			assert.Equal(t, "/tmp/x", ev.Exe)
			assert.Equal(t, "x", ev.ExeName)
			assert.Equal(t, "kernel", ev.EventSource)
			assert.Equal(t, time.Unix(1700000000, 5).UTC(), ev.Time.UTC())
			tc.check(t, ev)
		})
	}
}

func TestDecodeMissingAndWrongTypes(t *testing.T) {
	lr := plog.NewLogRecord()
	lr.SetEventName(contract.EventExec)
	ev, err := FromLogRecord(lr)
	require.NoError(t, err, "missing attributes are fine")
	assert.Equal(t, contract.EventExec, ev.Name)
	assert.True(t, ev.Time.IsZero())

	lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(time.Unix(5, 0)))
	ev, _ = FromLogRecord(lr)
	assert.Equal(t, int64(5), ev.Time.Unix(), "falls back to the observed timestamp")

	for k, set := range map[string]func(m pcommon.Map){
		"process.pid":                    func(m pcommon.Map) { m.PutStr("process.pid", "42") },
		"process.command_args":           func(m pcommon.Map) { m.PutStr("process.command_args", "x -o y") },
		"process.command_args[]":         func(m pcommon.Map) { s := m.PutEmptySlice("process.command_args"); s.AppendEmpty().SetInt(1) },
		"cryptochain.process.exe.memfd":  func(m pcommon.Map) { m.PutStr("cryptochain.process.exe.memfd", "true") },
		"process.environment_variable.X": func(m pcommon.Map) { m.PutInt("process.environment_variable.X", 1) },
		"cryptochain.process.ancestors": func(m pcommon.Map) {
			s := m.PutEmptySlice("cryptochain.process.ancestors")
			s.AppendEmpty().SetStr("1")
		},
		"cryptochain.process.cpu.time": func(m pcommon.Map) { m.PutStr("cryptochain.process.cpu.time", "1.0") },
		"server.port":                  func(m pcommon.Map) { m.PutDouble("server.port", 443) },
		"dns.answers":                  func(m pcommon.Map) { m.PutEmptyMap("dns.answers") },
		"cryptochain.file.content":     func(m pcommon.Map) { m.PutEmptyBytes("cryptochain.file.content").FromRaw([]byte("x")) },
	} {
		t.Run(k, func(t *testing.T) {
			lr := plog.NewLogRecord()
			lr.SetEventName(contract.EventExec)
			set(lr.Attributes())
			_, err := FromLogRecord(lr)
			require.ErrorIs(t, err, ErrWrongType)
			assert.Contains(t, err.Error(), strings.TrimSuffix(k, "[]"))

			lr.SetEventName("something.else") // unknown names never fail
			_, err = FromLogRecord(lr)
			assert.NoError(t, err)
		})
	}
}

func TestDecodeBounds(t *testing.T) {
	lr := plog.NewLogRecord()
	lr.SetEventName(contract.EventExec)
	m := lr.Attributes()
	huge := strings.Repeat("A", 1<<20)
	m.PutStr("process.command_line", huge)
	args := m.PutEmptySlice("process.command_args")
	for i := 0; i < 10000; i++ {
		args.AppendEmpty().SetStr("arg")
	}
	args.AppendEmpty().SetStr(huge)
	for i := 0; i < 10000; i++ {
		m.PutStr("process.environment_variable.V"+strings.Repeat("x", i%7)+string(rune('a'+i%26))+strconv.Itoa(i), huge[:100])
	}
	m.PutStr("process.environment_variable.BIG", huge)
	m.PutStr("process.executable.path", "\xff\xfe/tmp/\x00x")
	ev, err := FromLogRecord(lr)
	require.NoError(t, err)
	assert.Len(t, ev.CmdLine, MaxCmdLine)
	assert.LessOrEqual(t, len(ev.Args), MaxArgs)
	total := 0
	for _, a := range ev.Args {
		total += len(a)
	}
	assert.LessOrEqual(t, total, MaxArgsBytes)
	assert.LessOrEqual(t, len(ev.EnvVars), MaxEnv)
	assert.True(t, ev.EnvTruncated)
	for _, v := range ev.EnvVars {
		assert.LessOrEqual(t, len(v.Value), MaxEnvValue)
	}
	assert.Equal(t, "\xff\xfe/tmp/\x00x", ev.Exe)
}

func BenchmarkDecodeExec(b *testing.B) {
	lr := record(contract.EventExec, func(m pcommon.Map) {
		strs(m, "process.command_args", "ls", "-la", "/home/user")
		m.PutStr("process.command_line", "ls -la /home/user")
		m.PutStr("process.working_directory", "/home/user")
		m.PutStr("cryptochain.process.filename", "/usr/bin/ls")
		m.PutStr("process.environment_variable.PATH", "/usr/local/bin:/usr/bin:/bin")
		m.PutStr("process.environment_variable.HOME", "/home/user")
	})
	var ev Event
	b.ReportAllocs()
	for b.Loop() {
		if err := DecodeInto(lr, &ev); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecoderReuseExec(b *testing.B) {
	lr := record(contract.EventExec, func(m pcommon.Map) {
		strs(m, "process.command_args", "ls", "-la", "/home/user")
		m.PutStr("process.command_line", "ls -la /home/user")
		m.PutStr("process.working_directory", "/home/user")
		m.PutStr("cryptochain.process.filename", "/usr/bin/ls")
		m.PutStr("process.environment_variable.PATH", "/usr/local/bin:/usr/bin:/bin")
		m.PutStr("process.environment_variable.HOME", "/home/user")
	})
	var d Decoder
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Decode(lr); err != nil {
			b.Fatal(err)
		}
	}
}

func TestDecoderReuse(t *testing.T) {
	var d Decoder
	a := record(contract.EventExec, func(m pcommon.Map) {
		strs(m, "process.command_args", "a", "b", "c")
		m.PutStr("process.environment_variable.A", "1")
	})
	b := record(contract.EventConnect, func(m pcommon.Map) { m.PutStr("server.address", "192.0.2.1") })
	ev, err := d.Decode(a)
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b", "c"}, ev.Args)
	assert.Equal(t, []EnvVar{{"A", "1"}}, ev.EnvVars)
	ev, err = d.Decode(b)
	require.NoError(t, err)
	assert.Nil(t, ev.Args, "no stale argv")
	assert.Empty(t, ev.EnvVars, "no stale env")
	c := record(contract.EventExec, func(m pcommon.Map) { strs(m, "process.command_args", "z") })
	ev, err = d.Decode(c)
	require.NoError(t, err)
	assert.Equal(t, []string{"z"}, ev.Args)
	assert.Empty(t, ev.EnvVars)
}

func TestDecoderDoesNotAllocate(t *testing.T) {
	lr := record(contract.EventExec, func(m pcommon.Map) {
		strs(m, "process.command_args", "ls", "-la", "/home/user")
		m.PutStr("process.command_line", "ls -la /home/user")
		m.PutStr("process.environment_variable.PATH", "/usr/bin")
	})
	var d Decoder
	if _, err := d.Decode(lr); err != nil {
		t.Fatal(err)
	}
	assert.Zero(t, testing.AllocsPerRun(200, func() { _, _ = d.Decode(lr) }))
}
