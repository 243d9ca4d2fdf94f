//go:build linux && amd64

package kernel // import "github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/kernel"

import (
	"bytes"
	"errors"
	"fmt"
	"unsafe"

	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/event"
)

// HDR_F_TASK_UNRELIABLE (DNS ingress runs in softirq) is not read: the receiver never trusts the
// process of a DNS answer and pairs it with its query by client port and DNS id instead.

var fileOps = [...]string{
	probesFileOpFOP_OPEN:     event.FileOpen,
	probesFileOpFOP_CREATE:   event.FileCreate,
	probesFileOpFOP_TRUNCATE: event.FileTruncate,
	probesFileOpFOP_RENAME:   event.FileRename,
	probesFileOpFOP_LINK:     event.FileLink,
	probesFileOpFOP_SYMLINK:  event.FileSymlink,
	probesFileOpFOP_UNLINK:   event.FileUnlink,
	probesFileOpFOP_CHMOD:    event.FileChmod,
}

// open(2) flags that mean write intent: O_WRONLY, O_RDWR, O_CREAT, O_TRUNC.
const writeIntentFlags = 0o1 | 0o2 | 0o100 | 0o1000

// Limits applied while decoding (the kernel bounds bytes; these bound element counts).
type decodeLimits struct {
	maxArgs int
	maxEnv  int
	comms   *commCache  // nil: every comm is a new string
	aliases *aliasWatch // nil: symlinks to watched places are reported but not followed
	bufs    *splitBufs  // nil: every exec's argv and environment get new slices
}

// splitBufs are the element slices of the last exec's argv and environment, reused by the next: the
// elements point into the ring record, which the reader reuses too, so nothing may keep them past
// the event's handling anyway.
type splitBufs struct {
	args, env [][]byte
}

// commCache hands out the same string for a comm seen a moment ago: the comms of a busy host
// repeat, and every record carries one. Direct-mapped, one goroutine.
type commCache [256]string

func (c *commCache) get(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	if c == nil {
		return string(b)
	}
	h := uint(len(b))
	for _, x := range b {
		h = h*31 + uint(x)
	}
	e := &c[h%uint(len(c))]
	if *e != string(b) {
		*e = string(b)
	}
	return *e
}

var errShort = errors.New("record too short")

// decode turns one raw ring-buffer record into ev. Byte slices in ev point into raw. It never
// panics on hostile or truncated input; it returns an error instead.
func decode(raw []byte, lim decodeLimits, ev *event.Event) error {
	*ev = event.Event{}
	if uintptr(unsafe.Pointer(unsafe.SliceData(raw)))%8 != 0 {
		raw = bytes.Clone(raw) // the ring reader's buffers are aligned; only odd callers pay this
	}
	h := view[probesRecHdr](raw)
	if h == nil {
		return fmt.Errorf("header: %w (%d bytes)", errShort, len(raw))
	}
	ev.Kind = event.Kind(h.Kind)
	ev.Seq = h.Seq
	ev.BootNS = h.Ktime
	ev.Proc = event.Process{
		PID:           h.Tgid,
		TID:           h.Tid,
		StartBootNS:   h.StartBoottime,
		PPID:          h.Ppid,
		VPID:          h.Vpid,
		ParentStartNS: h.ParentStart,
		CgroupID:      h.CgroupId,
		UID:           h.Uid,
		EUID:          h.Euid,
		LoginUID:      h.Loginuid,
		SessionID:     h.Sessionid,
		Comm:          lim.comms.get(chars(h.Comm[:])),
		Lean:          h.Flags&probesHdrFlagHDR_F_LEAN != 0,
	}
	switch h.Kind {
	case probesRecordKindKIND_EXEC:
		return decodeExec(raw, lim, ev)
	case probesRecordKindKIND_EXEC_FAILED:
		return decodeExecFailed(raw, ev)
	case probesRecordKindKIND_EXIT:
		r := view[probesExitRec](raw)
		if r == nil {
			return fmt.Errorf("exit: %w", errShort)
		}
		ev.Exit = &event.Exit{Code: r.Code, UserNS: r.Utime, SystemNS: r.Stime}
	case probesRecordKindKIND_RENAME:
		r := view[probesRenameRec](raw)
		if r == nil {
			return fmt.Errorf("rename: %w", errShort)
		}
		ev.Rename = &event.Rename{OldComm: cstring(chars(r.Oldcomm[:])), NewComm: cstring(chars(r.Newcomm[:]))}
	case probesRecordKindKIND_CONNECT:
		r := view[probesConnectRec](raw)
		if r == nil {
			return fmt.Errorf("connect: %w", errShort)
		}
		c := &event.Connect{Family: r.Family, Transport: r.Proto, Port: r.Port, Errno: r.Err, Addr: r.Addr,
			InProgress: r.Flags&probesConnectFlagCONNECT_F_IN_PROGRESS != 0}
		if r.Flags&probesConnectFlagCONNECT_F_NO_RESULT != 0 {
			c.Errno = -1
		}
		ev.Connect = c
	case probesRecordKindKIND_DNS:
		return decodeDNS(raw, ev)
	case probesRecordKindKIND_FILE:
		if err := decodeFile(raw, ev); err != nil {
			return err
		}
		if lim.aliases != nil {
			lim.aliases.note(ev.File)
		}
		return nil
	case probesRecordKindKIND_SYSCTL:
		r := view[probesSysctlRec](raw)
		if r == nil {
			return fmt.Errorf("sysctl: %w", errShort)
		}
		ev.Sysctl = &event.Sysctl{
			Name:     boundedString(chars(r.Name[:]), int(r.NameLen)),
			NewValue: trimValue(boundedString(chars(r.NewValue[:]), int(r.NewLen))),
			OldValue: trimValue(boundedString(chars(r.OldValue[:]), int(r.OldLen))),
		}
	case probesRecordKindKIND_KILL:
		r := view[probesKillRec](raw)
		if r == nil {
			return fmt.Errorf("kill: %w", errShort)
		}
		ev.Kill = &event.Kill{TargetPID: r.Target, Signal: r.Sig, Errno: r.Err}
	case probesRecordKindKIND_FPU:
		r := view[probesFpuRec](raw)
		if r == nil {
			return fmt.Errorf("fpu: %w", errShort)
		}
		ev.FPU = &event.FPU{MXCSR: r.Mxcsr, NonDefault: r.Nondefault, Samples: r.Samples}
	case probesRecordKindKIND_PAYLOAD:
		r := view[probesPayloadRec](raw)
		if r == nil {
			return fmt.Errorf("payload: %w", errShort)
		}
		if int(r.Len) > len(r.Data) {
			return fmt.Errorf("payload: %d bytes: %w", r.Len, errShort)
		}
		ev.Payload = &event.Payload{Family: r.Family, Port: r.Dport, SrcPort: r.Sport, Addr: r.Daddr,
			Data: r.Data[:r.Len]}
	case probesRecordKindKIND_SUPPRESSED:
		return decodeSuppressed(raw, ev)
	default:
		return fmt.Errorf("unknown record kind %d", ev.Kind)
	}
	return nil
}

// cursor hands out consecutive length-prefixed pieces of a record's data area.
type cursor struct {
	data []byte
	off  int
	err  error
}

func (c *cursor) next(n int) []byte {
	if c.err != nil {
		return nil
	}
	if n < 0 || c.off+n > len(c.data) {
		c.err = fmt.Errorf("%w: field of %d bytes at %d, %d available", errShort, n, c.off, len(c.data)-c.off)
		return nil
	}
	b := c.data[c.off : c.off+n]
	c.off += n
	return b
}

func decodeExec(raw []byte, lim decodeLimits, ev *event.Event) error {
	r := view[probesExecRec](raw)
	if r == nil {
		return fmt.Errorf("exec: %w", errShort)
	}
	c := cursor{data: tail[probesExecRec](raw)}
	x := &event.Exec{
		Argc:       int(r.Argc),
		ExeMemfd:   r.Flags&probesExecFlagEXEC_F_MEMFD != 0,
		ExeDeleted: r.Flags&probesExecFlagEXEC_F_DELETED != 0,
		SID:        r.Sid,
		PGID:       r.Pgid,
	}
	x.Filename = string(c.next(int(r.FilenameLen)))
	x.Interpreter = string(c.next(int(r.InterpLen)))
	x.ExePath = string(c.next(int(r.ExeLen)))
	x.Cwd = string(c.next(int(r.CwdLen)))
	x.TTY = string(c.next(int(r.TtyLen)))
	x.CgroupLeafName = string(c.next(int(r.CgnameLen)))
	args := c.next(int(r.ArgsLen))
	var argsTail []byte
	if r.Flags&probesExecFlagEXEC_F_ARGS_GAP != 0 {
		argsTail = c.next(int(r.ArgsTailLen))
	}
	env := c.next(int(r.EnvLen))
	if c.err != nil {
		return fmt.Errorf("exec: %w", c.err)
	}
	var argsBuf, envBuf [][]byte
	if lim.bufs != nil {
		argsBuf, envBuf = lim.bufs.args[:0], lim.bufs.env[:0]
	}
	x.Args, x.ArgsTruncated = splitBlock(argsBuf, args, r.Flags&probesExecFlagEXEC_F_ARGS_TRUNC != 0, lim.maxArgs)
	if argsTail != nil {
		x.Args, x.ArgsTailAt = joinTail(x.Args, argsTail, lim.maxArgs)
		x.ArgsSkipped = int(r.ArgsSkipped)
		x.ArgsTruncated = true
	}
	if !x.ArgsTruncated && int(r.Argc) > len(x.Args) {
		x.ArgsTruncated = true
	}
	if r.Flags&probesExecFlagEXEC_F_CREATOR != 0 {
		x.CreatorPID, x.CreatorStart = r.CreatorTgid, r.CreatorStart
	}
	x.Env, x.EnvTruncated = splitBlock(envBuf, env, r.Flags&probesExecFlagEXEC_F_ENV_TRUNC != 0, lim.maxEnv)
	if lim.bufs != nil {
		lim.bufs.args, lim.bufs.env = x.Args, x.Env
	}
	ev.Exec = x
	return nil
}

func decodeExecFailed(raw []byte, ev *event.Event) error {
	r := view[probesExecFailedRec](raw)
	if r == nil {
		return fmt.Errorf("exec_failed: %w", errShort)
	}
	c := cursor{data: tail[probesExecFailedRec](raw)}
	x := &event.ExecFailed{Errno: r.Err}
	x.Filename = string(c.next(int(r.FilenameLen)))
	args := c.next(int(r.ArgsLen))
	if c.err != nil {
		return fmt.Errorf("exec_failed: %w", c.err)
	}
	x.Args, x.ArgsTruncated = splitBlock(nil, args, probesExecFlag(r.Flags)&probesExecFlagEXEC_F_ARGS_TRUNC != 0, 0)
	ev.ExecFailed = x
	return nil
}

func decodeDNS(raw []byte, ev *event.Event) error {
	r := view[probesDnsRec](raw)
	if r == nil {
		return fmt.Errorf("dns: %w", errShort)
	}
	if int(r.Len) > len(r.Data) {
		return fmt.Errorf("dns: payload of %d bytes: %w", r.Len, errShort)
	}
	ev.DNS = &event.DNSPacket{Family: r.Family, Transport: r.Proto, Egress: r.Egress != 0, SrcPort: r.Sport,
		DstPort: r.Dport, SrcAddr: r.Saddr, DstAddr: r.Daddr, Payload: r.Data[:r.Len]}
	return nil
}

func decodeFile(raw []byte, ev *event.Event) error {
	r := view[probesFileRec](raw)
	if r == nil {
		return fmt.Errorf("file: %w", errShort)
	}
	if r.Op == 0 || int(r.Op) >= len(fileOps) {
		return fmt.Errorf("file: unknown operation %d", r.Op)
	}
	f := &event.File{
		Op:           fileOps[r.Op],
		Path:         boundedString(chars(r.Path[:]), int(r.PathLen)),
		SourcePath:   boundedString(chars(r.Path2[:]), int(r.Path2Len)),
		Flags:        r.Flags,
		Mode:         r.Mode,
		Errno:        r.Err,
		Resolved:     r.Fflags&probesFileFlagFILE_F_RESOLVED != 0,
		Chroot:       r.Fflags&probesFileFlagFILE_F_CHROOT != 0,
		OtherMountNS: r.Fflags&probesFileFlagFILE_F_MNTNS != 0,
	}
	f.WriteIntent = r.Op != probesFileOpFOP_OPEN || f.Flags&writeIntentFlags != 0
	ev.File = f
	return nil
}

func decodeSuppressed(raw []byte, ev *event.Event) error {
	r := view[probesSuppressedRec](raw)
	if r == nil {
		return fmt.Errorf("suppressed: %w", errShort)
	}
	of := event.Kind(r.OfKind)
	if of == event.KindUnknown || of >= event.KindCount || of == event.KindSuppressed {
		return fmt.Errorf("suppressed: unknown kind %d", r.OfKind)
	}
	x := &event.Suppressed{Of: of, Count: r.Count, Errno: r.Err, FirstNS: r.FirstNs, LastNS: r.LastNs,
		Path: boundedString(chars(r.Path[:]), int(r.PathLen))}
	switch of {
	case event.KindFile:
		if r.Op != 0 && int(r.Op) < len(fileOps) {
			x.Op = fileOps[r.Op]
		}
	case event.KindKill:
		x.Signal = int32(r.Op)
	}
	ev.Suppressed = x
	return nil
}

// joinTail appends the end of an argv block that was cut in the middle to its head, and returns the
// joined argv and the index the tail starts at. The head's last element may be cut (it is kept, as
// for any truncated block); the tail's first element most likely started before the tail and is
// dropped. maxElems > 0 bounds the tail to its last maxElems elements (the head is bounded already).
func joinTail(head [][]byte, tail []byte, maxElems int) ([][]byte, int) {
	if i := bytes.IndexByte(tail, 0); i >= 0 {
		tail = tail[i+1:]
	} else {
		tail = nil
	}
	parts, _ := splitBlock(nil, tail, false, 0)
	if maxElems > 0 && len(parts) > maxElems {
		parts = parts[len(parts)-maxElems:]
	}
	at := len(head)
	if len(parts) == 0 {
		return head, 0
	}
	out := make([][]byte, 0, len(head)+len(parts))
	out = append(out, head...)
	return append(out, parts...), at
}

// splitBlock splits a NUL-separated argv or environment block into dst (appended to), keeping empty
// elements. A block that was cut (trunc) keeps its partial last element. maxElems > 0 bounds the
// count.
func splitBlock(dst [][]byte, b []byte, trunc bool, maxElems int) ([][]byte, bool) {
	if len(b) == 0 {
		return dst, trunc
	}
	if b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	} else {
		trunc = true // the kernel block always ends with a NUL unless it was cut
	}
	start := len(dst)
	for {
		if maxElems > 0 && len(dst)-start == maxElems {
			return dst, true
		}
		i := bytes.IndexByte(b, 0)
		if i < 0 {
			return append(dst, b), trunc
		}
		dst = append(dst, b[:i:i])
		b = b[i+1:]
	}
}

func cstring(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// boundedString reads n bytes of b (n clamped to b), stopping at a NUL.
func boundedString(b []byte, n int) string {
	if n < 0 {
		n = 0
	}
	if n > len(b) {
		n = len(b)
	}
	return cstring(b[:n])
}

func trimValue(s string) string {
	return string(bytes.TrimRight([]byte(s), "\n\x00 \t"))
}
