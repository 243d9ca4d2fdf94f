package records

import (
	"net/netip"
	"path"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/dnsparse"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/event"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/masquerade"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/proctable"
)

// Event names (docs/events.md).
const (
	EventExec        = "process.exec"
	EventExecFailed  = "process.exec_failed"
	EventExit        = "process.exit"
	EventRename      = "process.rename"
	EventConnect     = "network.connect"
	EventDNSQuery    = "dns.query"
	EventDNSAnswer   = "dns.answer"
	EventFileWrite   = "file.write"
	EventFileOpen    = "file.open"
	EventSysctl      = "sysctl.write"
	EventKill        = "process.kill"
	EventFPU         = "process.fpu_rounding"
	EventPayload     = "network.payload"
	EventConfigFile  = "process.config_file"
	maxPathBytes     = 4096
	maxCommBytes     = 64
	maxPayloadBytes  = 256
	defaultMaxAncest = 8
)

// Mapper fills log records from events.
type Mapper struct {
	Clock    *Clock
	Redactor *Redactor
	// Bounds re-applied in user space (the kernel bounds too).
	MaxArgs, MaxArgBytes int
	MaxEnv, MaxEnvBytes  int
}

// Actor is the acting process as the receiver knows it.
type Actor struct {
	Proc      *proctable.Proc // nil when unknown
	Ancestors []int64
}

// Extra carries facts found by the receiver rather than the kernel.
type Extra struct {
	DNS         *dnsparse.Message
	KillTarget  string // comm or executable name of a kill target
	FileContent []byte // read-back content of a persistence file
}

// Fill sets the record from ev. observed is when the receiver read the event.
func (m *Mapper) Fill(lr plog.LogRecord, ev *event.Event, actor Actor, extra Extra, observed time.Time) {
	lr.SetTimestamp(pcommon.NewTimestampFromTime(m.Clock.Wall(ev.BootNS)))
	lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(observed))
	a := lr.Attributes()
	if ev.Exec != nil {
		a.EnsureCapacity(28 + min(len(ev.Exec.Env), m.MaxEnv))
	} else {
		a.EnsureCapacity(16)
	}
	m.common(a, ev, actor)
	switch {
	case ev.Exec != nil:
		lr.SetEventName(EventExec)
		m.exec(a, ev)
	case ev.ExecFailed != nil:
		lr.SetEventName(EventExecFailed)
		x := ev.ExecFailed
		a.PutStr("cryptochain.process.filename", SafeString([]byte(x.Filename), maxPathBytes))
		m.args(a, x.Args, len(x.Args), x.ArgsTruncated)
		a.PutStr("error.type", ErrnoName(x.Errno))
	case ev.Exit != nil:
		lr.SetEventName(EventExit)
		x := ev.Exit
		a.PutInt("process.exit.code", int64((x.Code>>8)&0xff))
		if sig := x.Code & 0x7f; sig != 0 {
			a.PutInt("cryptochain.process.exit.signal", int64(sig))
		}
		a.PutStr("process.exit.time", m.Clock.Wall(ev.BootNS).UTC().Format(time.RFC3339Nano))
		a.PutDouble("cryptochain.process.cpu.user", float64(x.UserNS)/1e9)
		a.PutDouble("cryptochain.process.cpu.system", float64(x.SystemNS)/1e9)
		a.PutDouble("cryptochain.process.cpu.time", float64(x.UserNS+x.SystemNS)/1e9)
	case ev.Rename != nil:
		lr.SetEventName(EventRename)
		a.PutStr("cryptochain.process.comm.old", SafeString([]byte(ev.Rename.OldComm), maxCommBytes))
		a.PutStr("cryptochain.process.comm", SafeString([]byte(ev.Rename.NewComm), maxCommBytes))
		if masquerade.KthreadLike(ev.Rename.NewComm) {
			a.PutBool("cryptochain.process.kthread_like", true)
		}
	case ev.Connect != nil:
		lr.SetEventName(EventConnect)
		c := ev.Connect
		putEndpoint(a, c.Family, c.Transport, c.Addr, c.Port)
		switch {
		case c.InProgress:
			a.PutStr("cryptochain.connect.result", "in_progress")
		case c.Errno == 0:
			a.PutStr("cryptochain.connect.result", "ok")
		case c.Errno > 0:
			a.PutStr("cryptochain.connect.result", "error")
			a.PutStr("error.type", ErrnoName(c.Errno))
		default:
			a.PutStr("cryptochain.connect.result", "unknown")
		}
	case ev.DNS != nil:
		m.dns(lr, a, ev.DNS, extra.DNS)
	case ev.File != nil:
		m.file(lr, a, ev.File, extra.FileContent)
	case ev.Sysctl != nil:
		lr.SetEventName(EventSysctl)
		name := SafeString([]byte(strings.Trim(ev.Sysctl.Name, "/")), 256)
		a.PutStr("cryptochain.sysctl.name", strings.ReplaceAll(name, "/", "."))
		a.PutStr("cryptochain.sysctl.value", SafeString([]byte(strings.TrimSpace(ev.Sysctl.NewValue)), 1024))
		if ev.Sysctl.OldValue != "" {
			a.PutStr("cryptochain.sysctl.old_value", SafeString([]byte(strings.TrimSpace(ev.Sysctl.OldValue)), 1024))
		}
		a.PutStr("file.path", "/proc/sys/"+name)
	case ev.Kill != nil:
		lr.SetEventName(EventKill)
		a.PutInt("cryptochain.kill.target_pid", int64(ev.Kill.TargetPID))
		a.PutInt("cryptochain.kill.signal", int64(ev.Kill.Signal))
		putNonEmpty(a, "cryptochain.kill.target_name", SafeString([]byte(extra.KillTarget), maxCommBytes))
		if ev.Kill.Errno > 0 {
			a.PutStr("error.type", ErrnoName(ev.Kill.Errno))
		}
	case ev.FPU != nil:
		lr.SetEventName(EventFPU)
		a.PutInt("cryptochain.fpu.mxcsr", int64(ev.FPU.MXCSR))
		a.PutInt("cryptochain.fpu.nondefault", int64(ev.FPU.NonDefault))
		a.PutInt("cryptochain.fpu.samples", int64(ev.FPU.Samples))
	case ev.Payload != nil:
		lr.SetEventName(EventPayload)
		putEndpoint(a, ev.Payload.Family, 6, ev.Payload.Addr, ev.Payload.Port)
		a.PutStr("cryptochain.network.payload", SafeString(ev.Payload.Data, maxPayloadBytes))
	}
}

// FillConfigFile sets a process.config_file record: a miner config file read for a suspicious exec.
func (m *Mapper) FillConfigFile(lr plog.LogRecord, ev *event.Event, actor Actor, filePath string, content []byte, observed time.Time) {
	lr.SetTimestamp(pcommon.NewTimestampFromTime(m.Clock.Wall(ev.BootNS)))
	lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(observed))
	lr.SetEventName(EventConfigFile)
	a := lr.Attributes()
	m.common(a, ev, actor)
	a.PutStr("file.path", SafeString([]byte(filePath), maxPathBytes))
	a.PutStr("cryptochain.file.content", SafeString(content, 0))
}

func (m *Mapper) common(a pcommon.Map, ev *event.Event, actor Actor) {
	p := ev.Proc
	if p.PID == 0 {
		return
	}
	a.PutInt("process.pid", int64(p.PID))
	if p.StartBootNS != 0 {
		a.PutStr("process.creation.time", m.Clock.Wall(p.StartBootNS).UTC().Format(time.RFC3339Nano))
	}
	if p.PPID != 0 {
		a.PutInt("process.parent_pid", int64(p.PPID))
	}
	if p.ParentStartNS != 0 {
		a.PutStr("cryptochain.process.parent.creation.time", m.Clock.Wall(p.ParentStartNS).UTC().Format(time.RFC3339Nano))
	}
	exe := ""
	if ev.Exec != nil {
		exe = ev.Exec.ExePath
		if exe == "" {
			exe = ev.Exec.Filename
		}
	} else if actor.Proc != nil {
		exe = actor.Proc.Exe
	}
	if exe != "" {
		exe = SafeString([]byte(exe), maxPathBytes)
		a.PutStr("process.executable.path", exe)
		a.PutStr("process.executable.name", path.Base(exe))
	}
	putNonEmpty(a, "cryptochain.process.comm", SafeString([]byte(p.Comm), maxCommBytes))
	if p.VPID != 0 && p.VPID != p.PID {
		a.PutInt("process.vpid", int64(p.VPID))
	}
	if ev.Exec != nil && ev.Exec.FromSnapshot {
		a.PutStr("cryptochain.event.source", "procfs")
	} else {
		a.PutStr("cryptochain.event.source", "kernel")
	}
	anc := a.PutEmptySlice("cryptochain.process.ancestors")
	for i, pid := range actor.Ancestors {
		if i >= defaultMaxAncest {
			break
		}
		anc.AppendEmpty().SetInt(pid)
	}
}

func (m *Mapper) exec(a pcommon.Map, ev *event.Event) {
	x := ev.Exec
	m.args(a, x.Args, x.Argc, x.ArgsTruncated)
	putNonEmpty(a, "process.working_directory", SafeString([]byte(x.Cwd), maxPathBytes))
	a.PutInt("process.user.id", int64(ev.Proc.EUID))
	a.PutInt("process.real_user.id", int64(ev.Proc.UID))
	if ev.Proc.LoginUID != 4294967295 {
		a.PutInt("cryptochain.process.login_uid", int64(ev.Proc.LoginUID))
	}
	putNonEmpty(a, "cryptochain.process.tty", SafeString([]byte(x.TTY), 64))
	a.PutBool("process.interactive", x.TTY != "")
	if x.SID != 0 {
		a.PutInt("process.session_leader.pid", int64(x.SID))
	}
	if x.PGID != 0 {
		a.PutInt("process.group_leader.pid", int64(x.PGID))
	}
	putNonEmpty(a, "cryptochain.process.filename", SafeString([]byte(x.Filename), maxPathBytes))
	if x.Interpreter != "" && x.Interpreter != x.Filename {
		a.PutStr("cryptochain.process.interpreter", SafeString([]byte(x.Interpreter), maxPathBytes))
	}
	a.PutBool("cryptochain.process.exe.memfd", x.ExeMemfd)
	a.PutBool("cryptochain.process.exe.deleted", x.ExeDeleted)
	exe := x.ExePath
	if exe == "" {
		exe = x.Filename
	}
	argv0 := ""
	if len(x.Args) > 0 {
		argv0 = SafeString(x.Args[0], maxPathBytes)
	}
	// Weak masquerade evidence (issue 5), present only when true.
	if masquerade.UnusualLocation(exe, x.ExeMemfd, x.ExeDeleted) {
		a.PutBool("cryptochain.process.exe.unusual_location", true)
	}
	if masquerade.NameMismatch(argv0, x.Filename, exe, x.Interpreter != "" && x.Interpreter != x.Filename) {
		a.PutBool("cryptochain.process.name_mismatch", true)
	}
	if masquerade.KthreadLike(argv0) || masquerade.KthreadLike(ev.Proc.Comm) {
		a.PutBool("cryptochain.process.kthread_like", true)
	}
	if ev.Proc.CgroupID != 0 {
		a.PutInt("cryptochain.process.cgroup_id", int64(ev.Proc.CgroupID))
	}
	used, n := 0, 0
	truncated := x.EnvTruncated
	for _, e := range x.Env {
		if n >= m.MaxEnv || used+len(e) > m.MaxEnvBytes {
			truncated = true
			break
		}
		used += len(e)
		name, value, ok := m.Redactor.Apply(SafeString(e, 0))
		if !ok {
			continue
		}
		a.PutStr("process.environment_variable."+name, value)
		n++
	}
	if truncated {
		a.PutBool("cryptochain.process.env_truncated", true)
	}
}

func (m *Mapper) args(a pcommon.Map, args [][]byte, argc int, truncated bool) {
	if len(args) == 0 && argc == 0 {
		return
	}
	s := a.PutEmptySlice("process.command_args")
	var line strings.Builder
	used := 0
	for i, arg := range args {
		if i >= m.MaxArgs || used >= m.MaxArgBytes {
			truncated = true
			break
		}
		str := SafeString(arg, m.MaxArgBytes-used)
		if len(str) < len(arg) {
			truncated = true
		}
		used += len(str)
		s.AppendEmpty().SetStr(str)
		if i == 0 {
			a.PutStr("process.command", str)
		} else {
			line.WriteByte(' ')
		}
		line.WriteString(str)
	}
	a.PutStr("process.command_line", line.String())
	if argc < len(args) {
		argc = len(args)
	}
	a.PutInt("process.args_count", int64(argc))
	a.PutBool("cryptochain.process.args_truncated", truncated || argc > s.Len())
}

func (m *Mapper) dns(lr plog.LogRecord, a pcommon.Map, p *event.DNSPacket, msg *dnsparse.Message) {
	if p.Egress {
		lr.SetEventName(EventDNSQuery)
		putEndpoint(a, p.Family, p.Transport, p.DstAddr, p.DstPort)
	} else {
		lr.SetEventName(EventDNSAnswer)
		putEndpoint(a, p.Family, p.Transport, p.SrcAddr, p.SrcPort)
	}
	if msg == nil {
		return
	}
	putNonEmpty(a, "dns.question.name", SafeString([]byte(msg.Name), 255))
	putNonEmpty(a, "cryptochain.dns.question.type", msg.Type)
	a.PutInt("cryptochain.dns.id", int64(msg.ID))
	if !p.Egress {
		ans := a.PutEmptySlice("dns.answers")
		for _, s := range msg.Answers {
			ans.AppendEmpty().SetStr(s)
		}
		cn := a.PutEmptySlice("cryptochain.dns.cnames")
		for _, s := range msg.CNAMEs {
			cn.AppendEmpty().SetStr(SafeString([]byte(s), 255))
		}
		putNonEmpty(a, "cryptochain.dns.rcode", msg.RCode)
	}
}

func (m *Mapper) file(lr plog.LogRecord, a pcommon.Map, f *event.File, content []byte) {
	if f.WriteIntent || f.Op != event.FileOpen {
		lr.SetEventName(EventFileWrite)
	} else {
		lr.SetEventName(EventFileOpen)
	}
	a.PutStr("file.path", SafeString([]byte(f.Path), maxPathBytes))
	a.PutStr("cryptochain.file.operation", f.Op)
	putNonEmpty(a, "cryptochain.file.source_path", SafeString([]byte(f.SourcePath), maxPathBytes))
	if f.Op == event.FileOpen || f.Op == event.FileCreate || f.Op == event.FileTruncate {
		a.PutInt("cryptochain.file.flags", int64(f.Flags))
	}
	if f.Op == event.FileCreate || f.Op == event.FileChmod {
		a.PutInt("cryptochain.file.mode", int64(f.Mode))
	}
	switch {
	case f.Errno == 0:
		a.PutStr("cryptochain.file.result", "ok")
	case f.Errno > 0:
		a.PutStr("cryptochain.file.result", "error")
		a.PutStr("error.type", ErrnoName(f.Errno))
	default:
		a.PutStr("cryptochain.file.result", "unknown")
	}
	c := content
	if len(c) == 0 {
		c = f.Content
	}
	if len(c) > 0 {
		a.PutStr("cryptochain.file.content", SafeString(c, 0))
	}
}

func putEndpoint(a pcommon.Map, family uint16, transport uint8, addr [16]byte, port uint16) {
	switch family {
	case 2:
		a.PutStr("server.address", netip.AddrFrom4([4]byte(addr[:4])).String())
		a.PutStr("network.type", "ipv4")
	case 10:
		ip := netip.AddrFrom16(addr).Unmap() // v4-mapped peers read as plain IPv4
		a.PutStr("server.address", ip.String())
		a.PutStr("network.type", "ipv6")
	}
	a.PutInt("server.port", int64(port))
	switch transport {
	case 6:
		a.PutStr("network.transport", "tcp")
	case 17:
		a.PutStr("network.transport", "udp")
	}
}
