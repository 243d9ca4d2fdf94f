package evidence

import (
	"errors"
	"fmt"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// Bounds applied while decoding, so that hostile records (1 MiB command lines, 10,000 environment
// variables, binary junk) cost bounded time and memory. Values cut to a bound are cloned so they do
// not pin the large original string.
const (
	MaxArgs      = 4096     // argv entries kept
	MaxArgsBytes = 64 << 10 // total argv bytes kept
	MaxCmdLine   = 64 << 10 // command line bytes kept
	MaxEnv       = 1024     // environment variables kept
	MaxEnvValue  = 4 << 10  // bytes kept of one environment value
	MaxString    = 4 << 10  // bytes kept of any other string (paths, names)
	MaxContent   = 64 << 10 // bytes kept of file content / payloads
	MaxDNSItems  = 64       // answers and CNAMEs kept
	MaxAncestors = 64       // ancestor pids kept
	envPrefix    = "process.environment_variable."
)

// Event names of docs/events.md.
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
	EventSysctlWrite = "sysctl.write"
	EventFPURounding = "process.fpu_rounding"
	EventPayload     = "network.payload"
	EventConfigFile  = "process.config_file"
	EventKill        = "process.kill"
	EventFinding     = "cryptochain.finding"
)

// KnownEvent reports whether name is one of the event names of docs/events.md that the processor
// consumes (findings excluded).
func KnownEvent(name string) bool {
	switch name {
	case EventExec, EventExecFailed, EventExit, EventRename, EventConnect, EventDNSQuery, EventDNSAnswer,
		EventFileWrite, EventFileOpen, EventSysctlWrite, EventFPURounding, EventPayload, EventConfigFile, EventKill:
		return true
	}
	return false
}

// ErrWrongType is wrapped by the error FromLogRecord returns for a wrongly typed attribute.
var ErrWrongType = errors.New("wrongly typed attribute")

// FromLogRecord decodes a record of docs/events.md. Missing attributes are fine. For a known event
// name, a wrongly typed attribute makes it return the partially decoded event and an error wrapping
// ErrWrongType (the processor counts the record as malformed); records with other names decode what
// they can and never fail. It never panics and keeps no pdata references: strings are immutable Go
// values (pdata copies them out of the wire buffer), and a string cut to a bound is cloned so it does
// not pin the large original.
func FromLogRecord(lr plog.LogRecord) (Event, error) {
	var ev Event
	err := DecodeInto(lr, &ev)
	return ev, err
}

// DecodeInto is FromLogRecord writing into ev (reset first), reusing nothing else.
func DecodeInto(lr plog.LogRecord, ev *Event) error {
	return decodeInto(lr, ev, nil)
}

// Decoder decodes records reusing its buffers (argv, ancestors, DNS lists, the environment map), so a
// hot loop allocates nothing per benign record. The Event it returns, and every slice and map in it,
// is valid only until the next Decode: copy what must be kept.
type Decoder struct {
	ev    Event
	reuse reuse
}

type reuse struct {
	args, answers, cnames []string
	ancestors             []int64
	env                   []EnvVar
}

// Decode decodes lr into the Decoder's Event (see FromLogRecord for the rules).
func (d *Decoder) Decode(lr plog.LogRecord) (*Event, error) {
	r := &d.reuse
	if d.ev.Args != nil {
		r.args = d.ev.Args[:0]
	}
	if d.ev.DNSAnswers != nil {
		r.answers = d.ev.DNSAnswers[:0]
	}
	if d.ev.DNSCNAMEs != nil {
		r.cnames = d.ev.DNSCNAMEs[:0]
	}
	if d.ev.Ancestors != nil {
		r.ancestors = d.ev.Ancestors[:0]
	}
	if d.ev.EnvVars != nil {
		r.env = d.ev.EnvVars[:0]
	}
	err := decodeInto(lr, &d.ev, r)
	return &d.ev, err
}

func decodeInto(lr plog.LogRecord, ev *Event, r *reuse) error {
	*ev = Event{Name: lr.EventName()}
	ts := lr.Timestamp()
	if ts == 0 {
		ts = lr.ObservedTimestamp()
	}
	if ts != 0 {
		ev.Time = ts.AsTime()
	}
	d := decoder{ev: ev, r: r}
	var argsSeen bool
	lr.Attributes().Range(func(k string, v pcommon.Value) bool {
		switch k {
		case "process.pid":
			ev.PID = d.int(k, v)
		case "process.creation.time":
			ev.Start = d.str(k, v, MaxString)
		case "process.parent_pid":
			ev.PPID = d.int(k, v)
		case "cryptochain.process.parent.creation.time":
			ev.PStart = d.str(k, v, MaxString)
		case "cryptochain.process.ancestors":
			ev.Ancestors = d.ints(k, v, MaxAncestors, d.bufInts())
		case "process.executable.path":
			ev.Exe = d.str(k, v, MaxString)
		case "process.executable.name":
			ev.ExeName = d.str(k, v, MaxString)
		case "cryptochain.process.comm":
			ev.Comm = d.str(k, v, MaxString)
		case "cryptochain.process.comm.old":
			ev.CommOld = d.str(k, v, MaxString)
		case "cryptochain.event.source":
			ev.EventSource = d.str(k, v, MaxString)
		case "process.command":
			ev.Command = d.str(k, v, MaxString)
		case "process.command_args":
			argsSeen = true
			ev.Args = d.strs(k, v, MaxArgs, MaxArgsBytes, d.buf(0))
		case "process.command_line":
			ev.CmdLine = d.str(k, v, MaxCmdLine)
		case "process.args_count":
			ev.ArgsCount = d.int(k, v)
		case "cryptochain.process.args_truncated":
			ev.ArgsTruncated = d.bool(k, v)
		case "process.working_directory":
			ev.Cwd = d.str(k, v, MaxString)
		case "process.user.id":
			ev.UID = d.int(k, v)
		case "process.interactive":
			ev.Interactive = d.bool(k, v)
		case "cryptochain.process.filename":
			ev.Filename = d.str(k, v, MaxString)
		case "cryptochain.process.interpreter":
			ev.Interpreter = d.str(k, v, MaxString)
		case "cryptochain.process.exe.memfd":
			ev.ExeMemfd = d.bool(k, v)
		case "cryptochain.process.exe.deleted":
			ev.ExeDeleted = d.bool(k, v)
		case "cryptochain.process.exe.unusual_location":
			ev.UnusualLocation = d.bool(k, v)
		case "cryptochain.process.name_mismatch":
			ev.NameMismatch = d.bool(k, v)
		case "cryptochain.process.kthread_like":
			ev.KthreadLike = d.bool(k, v)
		case "cryptochain.process.env_truncated":
			ev.EnvTruncated = d.bool(k, v)
		case "error.type":
			ev.ErrorType = d.str(k, v, MaxString)
		case "process.exit.code":
			ev.ExitCode = d.int(k, v)
			ev.HasExit = true
		case "cryptochain.process.exit.signal":
			ev.ExitSignal = d.int(k, v)
		case "cryptochain.process.cpu.time":
			ev.CPUSeconds = d.double(k, v)
		case "cryptochain.process.cpu.user":
			ev.CPUUser = d.double(k, v)
		case "cryptochain.process.cpu.system":
			ev.CPUSystem = d.double(k, v)
		case "server.address":
			ev.Address = d.str(k, v, MaxString)
		case "server.port":
			ev.Port = d.int(k, v)
		case "network.transport":
			ev.Transport = d.str(k, v, MaxString)
		case "cryptochain.connect.result":
			ev.Result = d.str(k, v, MaxString)
		case "dns.question.name":
			ev.DNSName = d.str(k, v, MaxString)
		case "cryptochain.dns.question.type":
			ev.DNSType = d.str(k, v, MaxString)
		case "cryptochain.dns.rcode":
			ev.DNSRcode = d.str(k, v, MaxString)
		case "dns.answers":
			ev.DNSAnswers = d.strs(k, v, MaxDNSItems, MaxDNSItems*MaxString, d.buf(1))
		case "cryptochain.dns.cnames":
			ev.DNSCNAMEs = d.strs(k, v, MaxDNSItems, MaxDNSItems*MaxString, d.buf(2))
		case "file.path":
			ev.Path = d.str(k, v, MaxString)
		case "cryptochain.file.operation":
			ev.Op = d.str(k, v, MaxString)
		case "cryptochain.file.source_path":
			ev.SourcePath = d.str(k, v, MaxString)
		case "cryptochain.file.flags":
			ev.Flags = d.int(k, v)
		case "cryptochain.file.mode":
			ev.Mode = d.int(k, v)
		case "cryptochain.file.result":
			ev.Result = d.str(k, v, MaxString)
		case "cryptochain.file.content":
			ev.Content = d.str(k, v, MaxContent)
		case "cryptochain.sysctl.name":
			ev.SysctlName = d.str(k, v, MaxString)
		case "cryptochain.sysctl.value":
			ev.SysctlValue = d.str(k, v, MaxString)
		case "cryptochain.sysctl.old_value":
			ev.SysctlOldValue = d.str(k, v, MaxString)
		case "cryptochain.fpu.mxcsr":
			ev.FPUMXCSR = d.int(k, v)
		case "cryptochain.fpu.nondefault":
			ev.FPUNonDefault = d.int(k, v)
		case "cryptochain.fpu.samples":
			ev.FPUSamples = d.int(k, v)
		case "cryptochain.network.payload":
			ev.Payload = d.str(k, v, MaxContent)
		case "cryptochain.kill.target_pid":
			ev.KillTargetPID = d.int(k, v)
		case "cryptochain.kill.signal":
			ev.KillSignal = d.int(k, v)
		case "cryptochain.kill.target_name":
			ev.KillTargetName = d.str(k, v, MaxString)
		default:
			if strings.HasPrefix(k, envPrefix) {
				d.env(k, v)
			}
		}
		return true
	})
	if ev.CPUSeconds == 0 && (ev.CPUUser != 0 || ev.CPUSystem != 0) {
		ev.CPUSeconds = ev.CPUUser + ev.CPUSystem
	}
	if ev.Comm == "" && ev.Name == EventRename {
		ev.Comm = ev.CommOld
	}
	if !argsSeen && ev.Command != "" && ev.CmdLine == "" {
		ev.Args = []string{ev.Command}
	}
	switch ev.Name {
	case EventExecFailed:
		ev.Failed = true
	case EventConnect:
		ev.Failed = ev.Result == "error"
	case EventFileWrite, EventFileOpen:
		ev.Failed = ev.Result == "error"
	case EventKill:
		ev.Failed = ev.ErrorType != ""
	}
	if d.err != nil && KnownEvent(ev.Name) {
		return d.err
	}
	return nil
}

type decoder struct {
	ev  *Event
	r   *reuse // nil: allocate fresh
	err error
}

func (d *decoder) wrong(k string, v pcommon.Value, want string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s is %s, want %s", ErrWrongType, k, v.Type(), want)
	}
}

// clip returns s cut to at most n bytes; a cut string is cloned so it does not pin the original.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.Clone(s[:n])
}

func (d *decoder) str(k string, v pcommon.Value, n int) string {
	if v.Type() != pcommon.ValueTypeStr {
		d.wrong(k, v, "string")
		return ""
	}
	return clip(v.Str(), n)
}

func (d *decoder) int(k string, v pcommon.Value) int64 {
	switch v.Type() {
	case pcommon.ValueTypeInt:
		return v.Int()
	default:
		d.wrong(k, v, "int")
		return 0
	}
}

func (d *decoder) double(k string, v pcommon.Value) float64 {
	switch v.Type() {
	case pcommon.ValueTypeDouble:
		return v.Double()
	case pcommon.ValueTypeInt: // an integer number of seconds is still a number of seconds
		return float64(v.Int())
	default:
		d.wrong(k, v, "double")
		return 0
	}
}

func (d *decoder) bool(k string, v pcommon.Value) bool {
	if v.Type() != pcommon.ValueTypeBool {
		d.wrong(k, v, "bool")
		return false
	}
	return v.Bool()
}

func (d *decoder) buf(which int) []string {
	if d.r == nil {
		return nil
	}
	switch which {
	case 0:
		return d.r.args
	case 1:
		return d.r.answers
	}
	return d.r.cnames
}

func (d *decoder) bufInts() []int64 {
	if d.r == nil {
		return nil
	}
	return d.r.ancestors
}

func (d *decoder) strs(k string, v pcommon.Value, maxItems, maxBytes int, out []string) []string {
	if v.Type() != pcommon.ValueTypeSlice {
		d.wrong(k, v, "string[]")
		return nil
	}
	s := v.Slice()
	n := s.Len()
	if n > maxItems {
		n = maxItems
	}
	if n == 0 {
		return nil
	}
	if out == nil {
		out = make([]string, 0, n)
	}
	budget := maxBytes
	for i := 0; i < n && budget > 0; i++ {
		e := s.At(i)
		if e.Type() != pcommon.ValueTypeStr {
			d.wrong(k, v, "string[]")
			return out
		}
		str := clip(e.Str(), budget)
		budget -= len(str)
		out = append(out, str)
	}
	return out
}

func (d *decoder) ints(k string, v pcommon.Value, maxItems int, out []int64) []int64 {
	if v.Type() != pcommon.ValueTypeSlice {
		d.wrong(k, v, "int[]")
		return nil
	}
	s := v.Slice()
	n := min(s.Len(), maxItems)
	if n == 0 {
		return nil
	}
	if out == nil {
		out = make([]int64, 0, n)
	}
	for i := 0; i < n; i++ {
		e := s.At(i)
		if e.Type() != pcommon.ValueTypeInt {
			d.wrong(k, v, "int[]")
			return out
		}
		out = append(out, e.Int())
	}
	return out
}

func (d *decoder) env(k string, v pcommon.Value) {
	name := k[len(envPrefix):]
	if name == "" {
		return
	}
	if v.Type() != pcommon.ValueTypeStr {
		d.wrong(k, v, "string")
		return
	}
	if len(d.ev.EnvVars) >= MaxEnv {
		d.ev.EnvTruncated = true
		return
	}
	if d.ev.EnvVars == nil {
		if d.r != nil && d.r.env != nil {
			d.ev.EnvVars = d.r.env
		} else {
			d.ev.EnvVars = make([]EnvVar, 0, 8)
		}
	}
	e := EnvVar{Name: clip(name, MaxString), Value: clip(v.Str(), MaxEnvValue)}
	d.ev.EnvVars = append(d.ev.EnvVars, e)
	if d.r == nil {
		if d.ev.Env == nil {
			d.ev.Env = make(map[string]string, 8)
		}
		d.ev.Env[e.Name] = e.Value
	}
}
