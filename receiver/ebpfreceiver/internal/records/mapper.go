package records

import (
	"net/netip"
	"path"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/dnsparse"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/event"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/masquerade"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/process"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/untrusted"
)

const (
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

// Extra carries facts found by the receiver rather than the kernel.
type Extra struct {
	DNS         *dnsparse.Message
	KillTarget  string // comm or executable name of a kill target
	FileContent []byte // read-back content of a persistence file
	ExeHash     string // exec: hex SHA-256 of the executable, when computed
	ExeHashSkip string // exec: why the executable was not hashed although it was asked for
}

// Fill sets the record from ev. observed is when the receiver read the event.
func (m *Mapper) Fill(lr plog.LogRecord, ev *event.Event, actor *process.Actor, extra Extra, observed time.Time) {
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
		lr.SetEventName(contract.EventExec)
		m.exec(a, ev)
		putNonEmpty(a, contract.AttrProcessExecutableHash, extra.ExeHash)
		putNonEmpty(a, contract.AttrProcessExecutableHashSkip, extra.ExeHashSkip)
	case ev.ExecFailed != nil:
		lr.SetEventName(contract.EventExecFailed)
		x := ev.ExecFailed
		a.PutStr(contract.AttrProcessFilename, untrusted.String([]byte(x.Filename), maxPathBytes))
		m.args(a, x.Args, len(x.Args), x.ArgsTruncated)
		a.PutStr(contract.AttrErrorType, errnoName(x.Errno))
	case ev.Exit != nil:
		lr.SetEventName(contract.EventExit)
		x := ev.Exit
		a.PutInt(contract.AttrProcessExitCode, int64((x.Code>>8)&0xff))
		if sig := x.Code & 0x7f; sig != 0 {
			a.PutInt(contract.AttrProcessExitSignal, int64(sig))
		}
		a.PutStr(contract.AttrProcessExitTime, m.Clock.Wall(ev.BootNS).UTC().Format(time.RFC3339Nano))
		a.PutDouble(contract.AttrProcessCPUUser, float64(x.UserNS)/1e9)
		a.PutDouble(contract.AttrProcessCPUSystem, float64(x.SystemNS)/1e9)
		a.PutDouble(contract.AttrProcessCPUTime, float64(x.UserNS+x.SystemNS)/1e9)
	case ev.Rename != nil:
		lr.SetEventName(contract.EventRename)
		a.PutStr(contract.AttrProcessCommOld, untrusted.String([]byte(ev.Rename.OldComm), maxCommBytes))
		a.PutStr(contract.AttrProcessComm, untrusted.String([]byte(ev.Rename.NewComm), maxCommBytes))
		if masquerade.KthreadLike(ev.Rename.NewComm) {
			a.PutBool(contract.AttrProcessKthreadLike, true)
		}
	case ev.Connect != nil:
		lr.SetEventName(contract.EventConnect)
		c := ev.Connect
		putEndpoint(a, c.Family, c.Transport, c.Addr, c.Port)
		switch {
		case c.InProgress:
			a.PutStr(contract.AttrConnectResult, "in_progress")
		case c.Errno == 0:
			a.PutStr(contract.AttrConnectResult, "ok")
		case c.Errno > 0:
			a.PutStr(contract.AttrConnectResult, "error")
			a.PutStr(contract.AttrErrorType, errnoName(c.Errno))
		default:
			a.PutStr(contract.AttrConnectResult, "unknown")
		}
	case ev.DNS != nil:
		m.dns(lr, a, ev.DNS, extra.DNS)
	case ev.File != nil:
		m.file(lr, a, ev.File, extra.FileContent)
	case ev.Sysctl != nil:
		lr.SetEventName(contract.EventSysctlWrite)
		name := untrusted.String([]byte(strings.Trim(ev.Sysctl.Name, "/")), 256)
		a.PutStr(contract.AttrSysctlName, strings.ReplaceAll(name, "/", "."))
		a.PutStr(contract.AttrSysctlValue, untrusted.String([]byte(strings.TrimSpace(ev.Sysctl.NewValue)), 1024))
		if ev.Sysctl.OldValue != "" {
			a.PutStr(contract.AttrSysctlOldValue, untrusted.String([]byte(strings.TrimSpace(ev.Sysctl.OldValue)), 1024))
		}
		a.PutStr(contract.AttrFilePath, "/proc/sys/"+name)
	case ev.Kill != nil:
		lr.SetEventName(contract.EventKill)
		a.PutInt(contract.AttrKillTargetPID, int64(ev.Kill.TargetPID))
		a.PutInt(contract.AttrKillSignal, int64(ev.Kill.Signal))
		putNonEmpty(a, contract.AttrKillTargetName, untrusted.String([]byte(extra.KillTarget), maxCommBytes))
		if ev.Kill.Errno > 0 {
			a.PutStr(contract.AttrErrorType, errnoName(ev.Kill.Errno))
		}
	case ev.FPU != nil:
		lr.SetEventName(contract.EventFPURounding)
		a.PutInt(contract.AttrFPUMXCSR, int64(ev.FPU.MXCSR))
		a.PutInt(contract.AttrFPUNondefault, int64(ev.FPU.NonDefault))
		a.PutInt(contract.AttrFPUSamples, int64(ev.FPU.Samples))
	case ev.Payload != nil:
		lr.SetEventName(contract.EventPayload)
		putEndpoint(a, ev.Payload.Family, 6, ev.Payload.Addr, ev.Payload.Port)
		a.PutStr(contract.AttrNetworkPayload, untrusted.String(ev.Payload.Data, maxPayloadBytes))
	}
}

// FillConfigFile sets a process.config_file record: a miner config file read for a suspicious exec.
func (m *Mapper) FillConfigFile(lr plog.LogRecord, ev *event.Event, actor *process.Actor, filePath string, content []byte, observed time.Time) {
	lr.SetTimestamp(pcommon.NewTimestampFromTime(m.Clock.Wall(ev.BootNS)))
	lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(observed))
	lr.SetEventName(contract.EventConfigFile)
	a := lr.Attributes()
	m.common(a, ev, actor)
	a.PutStr(contract.AttrFilePath, untrusted.String([]byte(filePath), maxPathBytes))
	a.PutStr(contract.AttrFileContent, untrusted.String(content, 0))
}

func (m *Mapper) common(a pcommon.Map, ev *event.Event, actor *process.Actor) {
	p := ev.Proc
	if p.PID == 0 {
		return
	}
	a.PutInt(contract.AttrProcessPID, int64(p.PID))
	if p.StartBootNS != 0 {
		a.PutStr(contract.AttrProcessCreationTime, m.Clock.Wall(p.StartBootNS).UTC().Format(time.RFC3339Nano))
	}
	if p.PPID != 0 {
		a.PutInt(contract.AttrProcessParentPID, int64(p.PPID))
	}
	if p.ParentStartNS != 0 {
		a.PutStr(contract.AttrProcessParentCreationTime, m.Clock.Wall(p.ParentStartNS).UTC().Format(time.RFC3339Nano))
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
		exe = untrusted.String([]byte(exe), maxPathBytes)
		a.PutStr(contract.AttrProcessExecutablePath, exe)
		a.PutStr(contract.AttrProcessExecutableName, path.Base(exe))
	}
	putNonEmpty(a, contract.AttrProcessComm, untrusted.String([]byte(p.Comm), maxCommBytes))
	if p.VPID != 0 && p.VPID != p.PID {
		a.PutInt(contract.AttrProcessVPID, int64(p.VPID))
	}
	if ev.Exec != nil && ev.Exec.FromSnapshot {
		a.PutStr(contract.AttrEventSource, "procfs")
	} else {
		a.PutStr(contract.AttrEventSource, "kernel")
	}
	anc := a.PutEmptySlice(contract.AttrProcessAncestors)
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
	putNonEmpty(a, contract.AttrProcessWorkingDirectory, untrusted.String([]byte(x.Cwd), maxPathBytes))
	a.PutInt(contract.AttrProcessUserID, int64(ev.Proc.EUID))
	a.PutInt(contract.AttrProcessRealUserID, int64(ev.Proc.UID))
	if ev.Proc.LoginUID != 4294967295 {
		a.PutInt(contract.AttrProcessLoginUID, int64(ev.Proc.LoginUID))
	}
	putNonEmpty(a, contract.AttrProcessTTY, untrusted.String([]byte(x.TTY), 64))
	a.PutBool(contract.AttrProcessInteractive, x.TTY != "")
	if x.SID != 0 {
		a.PutInt(contract.AttrProcessSessionLeaderPID, int64(x.SID))
	}
	if x.PGID != 0 {
		a.PutInt(contract.AttrProcessGroupLeaderPID, int64(x.PGID))
	}
	putNonEmpty(a, contract.AttrProcessFilename, untrusted.String([]byte(x.Filename), maxPathBytes))
	if x.Interpreter != "" && x.Interpreter != x.Filename {
		a.PutStr(contract.AttrProcessInterpreter, untrusted.String([]byte(x.Interpreter), maxPathBytes))
	}
	a.PutBool(contract.AttrProcessExeMemfd, x.ExeMemfd)
	a.PutBool(contract.AttrProcessExeDeleted, x.ExeDeleted)
	exe := x.ExePath
	if exe == "" {
		exe = x.Filename
	}
	argv0 := ""
	if len(x.Args) > 0 {
		argv0 = untrusted.String(x.Args[0], maxPathBytes)
	}
	// Weak masquerade evidence, present only when true.
	if masquerade.UnusualLocation(exe, x.ExeMemfd, x.ExeDeleted) {
		a.PutBool(contract.AttrProcessExeUnusualLocation, true)
	}
	if masquerade.NameMismatch(argv0, x.Filename, exe, x.Interpreter != "" && x.Interpreter != x.Filename) {
		a.PutBool(contract.AttrProcessNameMismatch, true)
	}
	if masquerade.KthreadLike(argv0) || masquerade.KthreadLike(ev.Proc.Comm) {
		a.PutBool(contract.AttrProcessKthreadLike, true)
	}
	if ev.Proc.CgroupID != 0 {
		a.PutInt(contract.AttrProcessCgroupID, int64(ev.Proc.CgroupID))
	}
	used, n := 0, 0
	truncated := x.EnvTruncated
	for _, e := range x.Env {
		if n >= m.MaxEnv || used+len(e) > m.MaxEnvBytes {
			truncated = true
			break
		}
		used += len(e)
		name, value, ok := m.Redactor.Apply(untrusted.String(e, 0))
		if !ok {
			continue
		}
		a.PutStr(contract.AttrEnvPrefix+name, value)
		n++
	}
	if truncated {
		a.PutBool(contract.AttrProcessEnvTruncated, true)
	}
}

func (m *Mapper) args(a pcommon.Map, args [][]byte, argc int, truncated bool) {
	if len(args) == 0 && argc == 0 {
		return
	}
	s := a.PutEmptySlice(contract.AttrProcessCommandArgs)
	var line strings.Builder
	used := 0
	for i, arg := range args {
		if i >= m.MaxArgs || used >= m.MaxArgBytes {
			truncated = true
			break
		}
		str := untrusted.String(arg, m.MaxArgBytes-used)
		if len(str) < len(arg) {
			truncated = true
		}
		used += len(str)
		s.AppendEmpty().SetStr(str)
		if i == 0 {
			a.PutStr(contract.AttrProcessCommand, str)
		} else {
			line.WriteByte(' ')
		}
		line.WriteString(str)
	}
	a.PutStr(contract.AttrProcessCommandLine, line.String())
	if argc < len(args) {
		argc = len(args)
	}
	a.PutInt(contract.AttrProcessArgsCount, int64(argc))
	a.PutBool(contract.AttrProcessArgsTruncated, truncated || argc > s.Len())
}

func (m *Mapper) dns(lr plog.LogRecord, a pcommon.Map, p *event.DNSPacket, msg *dnsparse.Message) {
	if p.Egress {
		lr.SetEventName(contract.EventDNSQuery)
		putEndpoint(a, p.Family, p.Transport, p.DstAddr, p.DstPort)
	} else {
		lr.SetEventName(contract.EventDNSAnswer)
		putEndpoint(a, p.Family, p.Transport, p.SrcAddr, p.SrcPort)
	}
	if msg == nil {
		return
	}
	putNonEmpty(a, contract.AttrDNSQuestionName, untrusted.String([]byte(msg.Name), 255))
	putNonEmpty(a, contract.AttrDNSQuestionType, msg.Type)
	a.PutInt(contract.AttrDNSID, int64(msg.ID))
	if !p.Egress {
		ans := a.PutEmptySlice(contract.AttrDNSAnswers)
		for _, s := range msg.Answers {
			ans.AppendEmpty().SetStr(s)
		}
		cn := a.PutEmptySlice(contract.AttrDNSCnames)
		for _, s := range msg.CNAMEs {
			cn.AppendEmpty().SetStr(untrusted.String([]byte(s), 255))
		}
		putNonEmpty(a, contract.AttrDNSRcode, msg.RCode)
	}
}

func (m *Mapper) file(lr plog.LogRecord, a pcommon.Map, f *event.File, content []byte) {
	if f.WriteIntent || f.Op != event.FileOpen {
		lr.SetEventName(contract.EventFileWrite)
	} else {
		lr.SetEventName(contract.EventFileOpen)
	}
	a.PutStr(contract.AttrFilePath, untrusted.String([]byte(f.Path), maxPathBytes))
	a.PutStr(contract.AttrFileOperation, f.Op)
	if f.Op == event.FileSymlink {
		putNonEmpty(a, contract.AttrFileSymlinkTargetPath, untrusted.String([]byte(f.SourcePath), maxPathBytes))
	} else {
		putNonEmpty(a, contract.AttrFileSourcePath, untrusted.String([]byte(f.SourcePath), maxPathBytes))
	}
	if f.Op == event.FileOpen || f.Op == event.FileCreate || f.Op == event.FileTruncate {
		a.PutInt(contract.AttrFileFlags, int64(f.Flags))
	}
	if f.Op == event.FileCreate || f.Op == event.FileChmod {
		a.PutStr(contract.AttrFileMode, contract.FormatFileMode(f.Mode))
	}
	switch {
	case f.Errno == 0:
		a.PutStr(contract.AttrFileResult, "ok")
	case f.Errno > 0:
		a.PutStr(contract.AttrFileResult, "error")
		a.PutStr(contract.AttrErrorType, errnoName(f.Errno))
	default:
		a.PutStr(contract.AttrFileResult, "unknown")
	}
	c := content
	if len(c) == 0 {
		c = f.Content
	}
	if len(c) > 0 {
		a.PutStr(contract.AttrFileContent, untrusted.String(c, 0))
	}
}

func putEndpoint(a pcommon.Map, family uint16, transport uint8, addr [16]byte, port uint16) {
	switch family {
	case 2:
		a.PutStr(contract.AttrServerAddress, netip.AddrFrom4([4]byte(addr[:4])).String())
		a.PutStr(contract.AttrNetworkType, "ipv4")
	case 10:
		ip := netip.AddrFrom16(addr).Unmap() // v4-mapped peers read as plain IPv4
		a.PutStr(contract.AttrServerAddress, ip.String())
		a.PutStr(contract.AttrNetworkType, "ipv6")
	}
	a.PutInt(contract.AttrServerPort, int64(port))
	switch transport {
	case 6:
		a.PutStr(contract.AttrNetworkTransport, "tcp")
	case 17:
		a.PutStr(contract.AttrNetworkTransport, "udp")
	}
}
