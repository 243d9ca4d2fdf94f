package records

import (
	"net/netip"
	"path"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
	"github.com/cryptochain-otel/cryptochain/internal/redact"
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

// Mapper fills log records from events. Every string that can carry a secret passes the Redactor
// before it is put into a record.
type Mapper struct {
	Clock    *Clock
	Redactor *redact.Redactor
	// Bounds re-applied in user space (the kernel bounds too).
	MaxArgs, MaxArgBytes int
	MaxEnv, MaxEnvBytes  int

	times   timeCache // creation times repeat on every record of a process
	addrs   addrCache // a busy process connects to the same peers
	envKeys envKeys   // attribute keys of environment names: the same few names on every exec
	env     envCache  // environment entries as exported: a process tree repeats its environment
	envSets envSets   // whole environments as exported, ready to copy
}

// Extra carries facts found by the receiver rather than the kernel.
type Extra struct {
	DNS         *dnsparse.Message
	KillTarget  string // comm or executable name of a kill target
	FileContent []byte // read-back content of a persistence file
	// FileReadStatus and FileReadRoot say how a persistence file's read-back went ("" = none).
	FileReadStatus string
	FileReadRoot   string
	ExeHash        string // exec: hex SHA-256 of the executable, when computed
	ExeHashSkip    string // exec: why the executable was not hashed although it was asked for
}

// Fill sets the record from ev. observed is when the receiver read the event.
func (m *Mapper) Fill(lr plog.LogRecord, ev *event.Event, actor *process.Actor, extra Extra, observed time.Time) {
	lr.SetTimestamp(pcommon.NewTimestampFromTime(m.Clock.Wall(ev.BootNS)))
	lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(observed))
	a := lr.Attributes()
	var env *envSet
	if x := ev.Exec; x != nil {
		a.EnsureCapacity(28 + min(len(x.Env), m.MaxEnv))
		env = m.envSets.get(x.Env, x.EnvTruncated, m.Redactor, func(to pcommon.Map) bool { return m.putEnv(to, x) })
		if env != nil {
			env.attrs.CopyTo(a) // first: a copy replaces what the map holds
		}
	} else {
		a.EnsureCapacity(16)
	}
	m.common(a, ev, actor)
	switch {
	case ev.Exec != nil:
		lr.SetEventName(contract.EventExec)
		m.exec(a, ev, env)
		putNonEmpty(a, contract.AttrProcessExecutableHash, extra.ExeHash)
		putNonEmpty(a, contract.AttrProcessExecutableHashSkip, extra.ExeHashSkip)
	case ev.ExecFailed != nil:
		lr.SetEventName(contract.EventExecFailed)
		x := ev.ExecFailed
		a.PutStr(contract.AttrProcessFilename, clean(x.Filename, maxPathBytes))
		m.args(a, x.Args, len(x.Args), x.ArgsTruncated, 0)
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
		putEndpoint(a, &m.addrs, c.Family, c.Transport, c.Addr, c.Port)
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
		containerID := ""
		if actor != nil {
			containerID = actor.Cgroup.ContainerID
		}
		m.file(lr, a, ev.File, extra.FileContent, containerID)
		putNonEmpty(a, contract.AttrFileReadStatus, extra.FileReadStatus)
		putNonEmpty(a, contract.AttrFileReadRoot, extra.FileReadRoot)
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
	case ev.Suppressed != nil:
		lr.SetEventName(contract.EventSuppressed)
		x := ev.Suppressed
		a.PutStr(contract.AttrSuppressedKind, x.Of.String())
		a.PutInt(contract.AttrSuppressedCount, int64(x.Count))
		if x.Path != "" {
			if x.Of == event.KindRename {
				a.PutStr(contract.AttrProcessComm, untrusted.String([]byte(x.Path), maxCommBytes))
			} else {
				a.PutStr(contract.AttrFilePath, untrusted.String([]byte(x.Path), maxPathBytes))
			}
		}
		putNonEmpty(a, contract.AttrFileOperation, x.Op)
		if x.Errno > 0 {
			a.PutStr(contract.AttrErrorType, errnoName(x.Errno))
		}
		if x.Signal != 0 {
			a.PutInt(contract.AttrKillSignal, int64(x.Signal))
		}
	case ev.Payload != nil:
		lr.SetEventName(contract.EventPayload)
		putEndpoint(a, &m.addrs, ev.Payload.Family, 6, ev.Payload.Addr, ev.Payload.Port)
		if p, ok := m.Redactor.Payload(untrusted.String(ev.Payload.Data, maxPayloadBytes)); ok {
			a.PutStr(contract.AttrNetworkPayload, p)
		}
	}
}

// FillDataLoss sets a data_loss record: n records of kind k lost because ring was full, of no
// known process.
func (m *Mapper) FillDataLoss(lr plog.LogRecord, ring string, k event.Kind, n uint64, now time.Time) {
	lr.SetTimestamp(pcommon.NewTimestampFromTime(now))
	lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(now))
	lr.SetEventName(contract.EventDataLoss)
	a := lr.Attributes()
	a.PutStr(contract.AttrLossRing, ring)
	a.PutStr(contract.AttrLossKind, k.String())
	a.PutInt(contract.AttrLossCount, int64(min(n, 1<<62)))
}

// FillConfigFile sets a process.config_file record: a miner config file read for a suspicious exec.
// root says where it was read from (cryptochain.file.read_root).
func (m *Mapper) FillConfigFile(lr plog.LogRecord, ev *event.Event, actor *process.Actor, filePath string, content []byte, root string, observed time.Time) {
	lr.SetTimestamp(pcommon.NewTimestampFromTime(m.Clock.Wall(ev.BootNS)))
	lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(observed))
	lr.SetEventName(contract.EventConfigFile)
	a := lr.Attributes()
	m.common(a, ev, actor)
	a.PutStr(contract.AttrFilePath, untrusted.String([]byte(filePath), maxPathBytes))
	a.PutStr(contract.AttrFileContent, m.Redactor.Text(untrusted.String(content, 0)))
	putNonEmpty(a, contract.AttrFileReadRoot, root)
}

func (m *Mapper) common(a pcommon.Map, ev *event.Event, actor *process.Actor) {
	p := ev.Proc
	if p.PID == 0 {
		return
	}
	a.PutInt(contract.AttrProcessPID, int64(p.PID))
	if p.StartBootNS != 0 {
		a.PutStr(contract.AttrProcessCreationTime, m.times.format(m.Clock, p.StartBootNS))
	}
	if p.PPID != 0 {
		a.PutInt(contract.AttrProcessParentPID, int64(p.PPID))
	}
	if p.ParentStartNS != 0 {
		a.PutStr(contract.AttrProcessParentCreationTime, m.times.format(m.Clock, p.ParentStartNS))
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
		exe = clean(exe, maxPathBytes)
		a.PutStr(contract.AttrProcessExecutablePath, exe)
		a.PutStr(contract.AttrProcessExecutableName, path.Base(exe))
	}
	putNonEmpty(a, contract.AttrProcessComm, clean(p.Comm, maxCommBytes))
	if p.VPID != 0 && p.VPID != p.PID {
		a.PutInt(contract.AttrProcessVPID, int64(p.VPID))
	}
	if ev.Exec != nil && ev.Exec.FromSnapshot {
		// Only the snapshot is marked: every other record is from a live hook, and an attribute
		// on every record is a cost on every record.
		a.PutStr(contract.AttrEventSource, contract.EventSourceProcfs)
	}
	anc := a.PutEmptySlice(contract.AttrProcessAncestors)
	anc.EnsureCapacity(min(len(actor.Ancestors), defaultMaxAncest))
	for i, pid := range actor.Ancestors {
		if i >= defaultMaxAncest {
			break
		}
		anc.AppendEmpty().SetInt(pid)
	}
}

// exec puts an exec's attributes; env is its environment already in a (nil: put it here).
func (m *Mapper) exec(a pcommon.Map, ev *event.Event, env *envSet) {
	x := ev.Exec
	m.args(a, x.Args, x.Argc, x.ArgsTruncated, x.ArgsTailAt)
	if x.ArgsTailAt > 0 {
		a.PutInt(contract.AttrProcessArgsSkippedBytes, int64(x.ArgsSkipped))
	}
	switch {
	case x.CreatorPID != 0:
		a.PutStr(contract.AttrProcessLineage, contract.LineageFork)
		if x.CreatorPID != ev.Proc.PPID {
			a.PutInt(contract.AttrProcessCreatorPID, int64(x.CreatorPID))
		}
	case x.FromSnapshot:
		a.PutStr(contract.AttrProcessLineage, contract.LineageSnapshot)
	default:
		a.PutStr(contract.AttrProcessLineage, contract.LineageParent)
	}
	putNonEmpty(a, contract.AttrProcessWorkingDirectory, clean(x.Cwd, maxPathBytes))
	a.PutInt(contract.AttrProcessUserID, int64(ev.Proc.EUID))
	a.PutInt(contract.AttrProcessRealUserID, int64(ev.Proc.UID))
	if ev.Proc.LoginUID != 4294967295 {
		a.PutInt(contract.AttrProcessLoginUID, int64(ev.Proc.LoginUID))
	}
	putNonEmpty(a, contract.AttrProcessTTY, clean(x.TTY, 64))
	a.PutBool(contract.AttrProcessInteractive, x.TTY != "")
	if x.SID != 0 {
		a.PutInt(contract.AttrProcessSessionLeaderPID, int64(x.SID))
	}
	if x.PGID != 0 {
		a.PutInt(contract.AttrProcessGroupLeaderPID, int64(x.PGID))
	}
	putNonEmpty(a, contract.AttrProcessFilename, clean(x.Filename, maxPathBytes))
	if x.Interpreter != "" && x.Interpreter != x.Filename {
		a.PutStr(contract.AttrProcessInterpreter, clean(x.Interpreter, maxPathBytes))
	}
	if x.ExeMemfd {
		a.PutBool(contract.AttrProcessExeMemfd, true)
	}
	if x.ExeDeleted {
		a.PutBool(contract.AttrProcessExeDeleted, true)
	}
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
	truncated := false
	if env != nil {
		truncated = env.truncated
	} else {
		truncated = m.putEnv(a, x)
	}
	if truncated {
		a.PutBool(contract.AttrProcessEnvTruncated, true)
	}
}

// putEnv puts the environment variables of x within the bounds and reports whether it was cut.
func (m *Mapper) putEnv(a pcommon.Map, x *event.Exec) bool {
	used, n := 0, 0
	truncated := x.EnvTruncated
	for _, e := range x.Env {
		if n >= m.MaxEnv || used+len(e) > m.MaxEnvBytes {
			truncated = true
			break
		}
		used += len(e)
		en, ok := m.env.get(e, m.Redactor)
		if !ok {
			if name, value, _ := strings.Cut(untrusted.String(e, 0), "="); name != "" {
				en = envEntry{key: m.envKeys.key(name), value: m.Redactor.Env(name, value)}
			}
			m.env.put(e, m.Redactor, en)
		}
		if en.key == "" {
			continue
		}
		a.PutStr(en.key, en.value)
		n++
	}
	return truncated
}

// args puts argv. tailAt > 0 says args[tailAt:] is the end of an argv whose middle was not
// captured: the head and the end are bounded separately (each by the argv bounds), so that flags
// placed after filler survive, and the index the end starts at is reported.
func (m *Mapper) args(a pcommon.Map, args [][]byte, argc int, truncated bool, tailAt int) {
	if len(args) == 0 && argc == 0 {
		return
	}
	if tailAt > 0 && tailAt < len(args) {
		tail := args[tailAt:]
		if len(tail) > m.MaxArgs {
			tail = tail[len(tail)-m.MaxArgs:]
		}
		for used, i := 0, len(tail)-1; i >= 0; i-- { // the end of argv within the byte bound
			if used += len(tail[i]); used > m.MaxArgBytes {
				tail = tail[i+1:]
				break
			}
		}
		head := args[:tailAt]
		args = make([][]byte, 0, len(head)+len(tail))
		args = append(append(args, head...), tail...)
	} else {
		tailAt = 0
	}
	var buf [16]string
	strs := buf[:0]
	tailIndex := -1
	used := 0
	for i, arg := range args {
		if tailAt > 0 && i == tailAt {
			tailIndex = len(strs)
			used = 0 // the end of argv has its own byte bound
		} else if (tailAt == 0 || i < tailAt) && (i >= m.MaxArgs || used >= m.MaxArgBytes) {
			truncated = true
			if tailAt == 0 {
				break
			}
			continue
		}
		str := untrusted.String(arg, m.MaxArgBytes-used)
		if len(str) < len(arg) {
			truncated = true
		}
		used += len(str)
		strs = append(strs, str)
	}
	m.Redactor.Args(strs)
	s := a.PutEmptySlice(contract.AttrProcessCommandArgs)
	s.EnsureCapacity(len(strs))
	if tailIndex >= 0 {
		a.PutInt(contract.AttrProcessArgsTailIndex, int64(tailIndex))
	}
	var line strings.Builder
	for i, str := range strs {
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
		putEndpoint(a, &m.addrs, p.Family, p.Transport, p.DstAddr, p.DstPort)
	} else {
		lr.SetEventName(contract.EventDNSAnswer)
		putEndpoint(a, &m.addrs, p.Family, p.Transport, p.SrcAddr, p.SrcPort)
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

// file puts a file record. containerID is the acting process's container ("" on the host): a task in
// its own mount namespace outside any container has a private root (an image layer being unpacked).
func (m *Mapper) file(lr plog.LogRecord, a pcommon.Map, f *event.File, content []byte, containerID string) {
	if f.WriteIntent || f.Op != event.FileOpen {
		lr.SetEventName(contract.EventFileWrite)
	} else {
		lr.SetEventName(contract.EventFileOpen)
	}
	a.PutStr(contract.AttrFilePath, clean(f.Path, maxPathBytes))
	a.PutStr(contract.AttrFileOperation, f.Op)
	a.PutBool(contract.AttrFileResolved, f.Resolved)
	switch {
	case f.Chroot:
		a.PutStr(contract.AttrFileRoot, contract.FileRootChroot)
	case f.OtherMountNS && containerID == "":
		a.PutStr(contract.AttrFileRoot, contract.FileRootPrivate)
	}
	if f.Op == event.FileSymlink {
		putNonEmpty(a, contract.AttrFileSymlinkTargetPath, clean(f.SourcePath, maxPathBytes))
	} else {
		putNonEmpty(a, contract.AttrFileSourcePath, clean(f.SourcePath, maxPathBytes))
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
		a.PutStr(contract.AttrFileContent, m.Redactor.Text(untrusted.String(c, 0)))
	}
}

// addrCache remembers the text of the last few peer addresses.
type addrCache struct {
	entries [16]struct {
		family uint16
		addr   [16]byte
		text   string
	}
}

func (c *addrCache) text(family uint16, addr [16]byte) string {
	e := &c.entries[(uint(addr[3])^uint(addr[15])^uint(addr[14])<<2)%uint(len(c.entries))]
	if e.text != "" && e.family == family && e.addr == addr {
		return e.text
	}
	if family == 2 {
		e.text = netip.AddrFrom4([4]byte(addr[:4])).String()
	} else {
		e.text = netip.AddrFrom16(addr).Unmap().String() // v4-mapped peers read as plain IPv4
	}
	e.family, e.addr = family, addr
	return e.text
}

func putEndpoint(a pcommon.Map, addrs *addrCache, family uint16, transport uint8, addr [16]byte, port uint16) {
	switch family {
	case 2:
		a.PutStr(contract.AttrServerAddress, addrs.text(family, addr))
		a.PutStr(contract.AttrNetworkType, "ipv4")
	case 10:
		a.PutStr(contract.AttrServerAddress, addrs.text(family, addr))
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
