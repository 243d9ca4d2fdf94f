package evidence

import (
	"errors"
	"fmt"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
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
	envPrefix    = contract.AttrEnvPrefix
)

// KnownEvent reports whether name is one of the event names of docs/events.md that the processor
// consumes (findings excluded).
func KnownEvent(name string) bool {
	switch name {
	case contract.EventExec, contract.EventExecFailed, contract.EventExit, contract.EventRename,
		contract.EventConnect, contract.EventDNSQuery, contract.EventDNSAnswer, contract.EventFileWrite,
		contract.EventFileOpen, contract.EventSysctlWrite, contract.EventFPURounding, contract.EventPayload,
		contract.EventConfigFile, contract.EventKill:
		return true
	}
	return false
}

// ErrWrongType is wrapped by the error Decode returns for a wrongly typed attribute.
var ErrWrongType = errors.New("wrongly typed attribute")

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

// Decode decodes a record of docs/events.md into the Decoder's Event. Missing attributes are fine.
// For a known event name, a wrongly typed attribute makes it return the partially decoded event and an
// error wrapping ErrWrongType (the processor counts the record as malformed); records with other names
// decode what they can and never fail. It never panics and keeps no pdata references: strings are
// immutable Go values (pdata copies them out of the wire buffer), and a string cut to a bound is cloned
// so it does not pin the large original.
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
		case contract.AttrProcessPID:
			ev.PID = d.int(k, v)
		case contract.AttrProcessCreationTime:
			ev.Start = d.str(k, v, MaxString)
		case contract.AttrProcessParentPID:
			ev.PPID = d.int(k, v)
		case contract.AttrProcessParentCreationTime:
			ev.PStart = d.str(k, v, MaxString)
		case contract.AttrProcessAncestors:
			ev.Ancestors = d.ints(k, v, MaxAncestors, d.bufInts())
		case contract.AttrProcessExecutablePath:
			ev.Exe = d.str(k, v, MaxString)
		case contract.AttrProcessExecutableHash:
			ev.ExeHash = SHA256Hex(d.str(k, v, MaxString))
		case contract.AttrProcessExecutableName:
			ev.ExeName = d.str(k, v, MaxString)
		case contract.AttrProcessComm:
			ev.Comm = d.str(k, v, MaxString)
		case contract.AttrProcessCommOld:
			ev.CommOld = d.str(k, v, MaxString)
		case contract.AttrEventSource:
			ev.EventSource = d.str(k, v, MaxString)
		case contract.AttrProcessCommand:
			ev.Command = d.str(k, v, MaxString)
		case contract.AttrProcessCommandArgs:
			argsSeen = true
			ev.Args = d.strs(k, v, MaxArgs, MaxArgsBytes, d.buf(0))
		case contract.AttrProcessCommandLine:
			ev.CmdLine = d.str(k, v, MaxCmdLine)
		case contract.AttrProcessArgsCount:
			ev.ArgsCount = d.int(k, v)
		case contract.AttrProcessArgsTruncated:
			ev.ArgsTruncated = d.bool(k, v)
		case contract.AttrProcessWorkingDirectory:
			ev.Cwd = d.str(k, v, MaxString)
		case contract.AttrProcessUserID:
			ev.UID = d.int(k, v)
		case contract.AttrProcessInteractive:
			ev.Interactive = d.bool(k, v)
		case contract.AttrProcessFilename:
			ev.Filename = d.str(k, v, MaxString)
		case contract.AttrProcessInterpreter:
			ev.Interpreter = d.str(k, v, MaxString)
		case contract.AttrProcessExeMemfd:
			ev.ExeMemfd = d.bool(k, v)
		case contract.AttrProcessExeDeleted:
			ev.ExeDeleted = d.bool(k, v)
		case contract.AttrProcessExeUnusualLocation:
			ev.UnusualLocation = d.bool(k, v)
		case contract.AttrProcessNameMismatch:
			ev.NameMismatch = d.bool(k, v)
		case contract.AttrProcessKthreadLike:
			ev.KthreadLike = d.bool(k, v)
		case contract.AttrProcessEnvTruncated:
			ev.EnvTruncated = d.bool(k, v)
		case contract.AttrErrorType:
			ev.ErrorType = d.str(k, v, MaxString)
		case contract.AttrProcessExitCode:
			ev.ExitCode = d.int(k, v)
			ev.HasExit = true
		case contract.AttrProcessExitSignal:
			ev.ExitSignal = d.int(k, v)
		case contract.AttrProcessCPUTime:
			ev.CPUSeconds = d.double(k, v)
		case contract.AttrProcessCPUUser:
			ev.CPUUser = d.double(k, v)
		case contract.AttrProcessCPUSystem:
			ev.CPUSystem = d.double(k, v)
		case contract.AttrServerAddress:
			ev.Address = d.str(k, v, MaxString)
		case contract.AttrServerPort:
			ev.Port = d.int(k, v)
		case contract.AttrNetworkTransport:
			ev.Transport = d.str(k, v, MaxString)
		case contract.AttrConnectResult:
			ev.Result = d.str(k, v, MaxString)
		case contract.AttrDNSQuestionName:
			ev.DNSName = d.str(k, v, MaxString)
		case contract.AttrDNSQuestionType:
			ev.DNSType = d.str(k, v, MaxString)
		case contract.AttrDNSRcode:
			ev.DNSRcode = d.str(k, v, MaxString)
		case contract.AttrDNSAnswers:
			ev.DNSAnswers = d.strs(k, v, MaxDNSItems, MaxDNSItems*MaxString, d.buf(1))
		case contract.AttrDNSCnames:
			ev.DNSCNAMEs = d.strs(k, v, MaxDNSItems, MaxDNSItems*MaxString, d.buf(2))
		case contract.AttrFilePath:
			ev.Path = d.str(k, v, MaxString)
		case contract.AttrFileOperation:
			ev.Op = d.str(k, v, MaxString)
		case contract.AttrFileSourcePath, contract.AttrFileSymlinkTargetPath:
			ev.SourcePath = d.str(k, v, MaxString)
		case contract.AttrFileFlags:
			ev.Flags = d.int(k, v)
		case contract.AttrFileMode:
			ev.Mode = d.str(k, v, MaxString)
		case contract.AttrFileResult:
			ev.Result = d.str(k, v, MaxString)
		case contract.AttrFileContent:
			ev.Content = d.str(k, v, MaxContent)
		case contract.AttrFileRoot:
			ev.FileRoot = d.str(k, v, MaxString)
		case contract.AttrSysctlName:
			ev.SysctlName = d.str(k, v, MaxString)
		case contract.AttrSysctlValue:
			ev.SysctlValue = d.str(k, v, MaxString)
		case contract.AttrSysctlOldValue:
			ev.SysctlOldValue = d.str(k, v, MaxString)
		case contract.AttrFPUMXCSR:
			ev.FPUMXCSR = d.int(k, v)
		case contract.AttrFPUNondefault:
			ev.FPUNonDefault = d.int(k, v)
		case contract.AttrFPUSamples:
			ev.FPUSamples = d.int(k, v)
		case contract.AttrNetworkPayload:
			ev.Payload = d.str(k, v, MaxContent)
		case contract.AttrKillTargetPID:
			ev.KillTargetPID = d.int(k, v)
		case contract.AttrKillSignal:
			ev.KillSignal = d.int(k, v)
		case contract.AttrKillTargetName:
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
	if ev.Comm == "" && ev.Name == contract.EventRename {
		ev.Comm = ev.CommOld
	}
	if !argsSeen && ev.Command != "" && ev.CmdLine == "" {
		ev.Args = []string{ev.Command}
	}
	switch ev.Name {
	case contract.EventExecFailed:
		ev.Failed = true
	case contract.EventConnect:
		ev.Failed = ev.Result == "error"
	case contract.EventFileWrite, contract.EventFileOpen:
		ev.Failed = ev.Result == "error"
	case contract.EventKill:
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
	d.ev.EnvVars = append(d.ev.EnvVars, EnvVar{Name: clip(name, MaxString), Value: clip(v.Str(), MaxEnvValue)})
}
