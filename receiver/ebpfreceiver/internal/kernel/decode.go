package kernel // import "github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/kernel"

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/event"
)

// Record layouts written by bpf/*.c (little endian, offsets from the start of the record). The
// layout test on amd64 checks them against the generated types where bpf2go emits them, and the
// privileged tests check every kind against real records.
const (
	hdrSize = 96

	execFixed      = 144
	execFailedBase = 112
	exitSize       = 120
	renameSize     = 128
	connectSize    = 128
	dnsFixed       = 144
	dnsCap         = 512
	filePathCap    = 512
	fileFixed      = 120
	fileSize       = fileFixed + 2*filePathCap
	sysctlSize     = 360
	killSize       = 112
	fpuSize        = 112
	payloadFixed   = 120
	payloadCap     = 256
)

// exec_rec.flags
const (
	execArgsTrunc = 1
	execEnvTrunc  = 2
	execMemfd     = 4
	execDeleted   = 8
)

// connect_rec.flags
const (
	connectInProgress = 1
	connectNoResult   = 2
)

// hdr.flags: HDR_F_TASK_UNRELIABLE (DNS ingress runs in softirq) is not read here; the receiver never
// trusts the process of a DNS answer and pairs it with its query by client port and DNS id instead.
// HDR_F_LEAN marks a header without credentials, login/session ids and namespaced pid.
const hdrLean = 2

var fileOps = [...]string{1: event.FileOpen, 2: event.FileCreate, 3: event.FileTruncate, 4: event.FileRename,
	5: event.FileLink, 6: event.FileSymlink, 7: event.FileUnlink, 8: event.FileChmod}

// Limits applied while decoding (the kernel bounds bytes; these bound element counts).
type decodeLimits struct {
	maxArgs int
	maxEnv  int
}

var errShort = errors.New("record too short")

var le = binary.LittleEndian

// decode turns one raw ring-buffer record into ev. Byte slices in ev point into raw. It never
// panics on hostile or truncated input; it returns an error instead.
func decode(raw []byte, lim decodeLimits, ev *event.Event) error {
	*ev = event.Event{}
	if len(raw) < hdrSize {
		return fmt.Errorf("header: %w (%d bytes)", errShort, len(raw))
	}
	ev.Kind = event.Kind(le.Uint16(raw[0:]))
	ev.Seq = le.Uint64(raw[8:])
	ev.BootNS = le.Uint64(raw[16:])
	ev.Proc = event.Process{
		PID:           le.Uint32(raw[24:]),
		TID:           le.Uint32(raw[28:]),
		StartBootNS:   le.Uint64(raw[32:]),
		PPID:          le.Uint32(raw[40:]),
		VPID:          le.Uint32(raw[44:]),
		ParentStartNS: le.Uint64(raw[48:]),
		CgroupID:      le.Uint64(raw[56:]),
		UID:           le.Uint32(raw[64:]),
		EUID:          le.Uint32(raw[68:]),
		LoginUID:      le.Uint32(raw[72:]),
		SessionID:     le.Uint32(raw[76:]),
		Comm:          cstring(raw[80:96]),
		Lean:          le.Uint16(raw[2:])&hdrLean != 0,
	}
	switch ev.Kind {
	case event.KindExec:
		return decodeExec(raw, lim, ev)
	case event.KindExecFailed:
		return decodeExecFailed(raw, ev)
	case event.KindExit:
		if len(raw) < exitSize {
			return fmt.Errorf("exit: %w", errShort)
		}
		ev.Exit = &event.Exit{Code: int32(le.Uint32(raw[96:])), UserNS: le.Uint64(raw[104:]), SystemNS: le.Uint64(raw[112:])}
	case event.KindRename:
		if len(raw) < renameSize {
			return fmt.Errorf("rename: %w", errShort)
		}
		ev.Rename = &event.Rename{OldComm: cstring(raw[96:112]), NewComm: cstring(raw[112:128])}
	case event.KindConnect:
		if len(raw) < connectSize {
			return fmt.Errorf("connect: %w", errShort)
		}
		c := &event.Connect{Family: le.Uint16(raw[96:]), Transport: raw[98], Port: le.Uint16(raw[100:]),
			Errno: int32(le.Uint32(raw[104:]))}
		flags := raw[99]
		c.InProgress = flags&connectInProgress != 0
		if flags&connectNoResult != 0 {
			c.Errno = -1
		}
		copy(c.Addr[:], raw[112:128])
		ev.Connect = c
	case event.KindDNS:
		return decodeDNS(raw, ev)
	case event.KindFile:
		return decodeFile(raw, ev)
	case event.KindSysctl:
		if len(raw) < sysctlSize {
			return fmt.Errorf("sysctl: %w", errShort)
		}
		ev.Sysctl = &event.Sysctl{
			Name:     boundedString(raw[104:232], int(le.Uint16(raw[96:]))),
			NewValue: trimValue(boundedString(raw[232:296], int(le.Uint16(raw[98:])))),
			OldValue: trimValue(boundedString(raw[296:360], int(le.Uint16(raw[100:])))),
		}
	case event.KindKill:
		if len(raw) < killSize {
			return fmt.Errorf("kill: %w", errShort)
		}
		ev.Kill = &event.Kill{TargetPID: le.Uint32(raw[96:]), Signal: int32(le.Uint32(raw[100:])),
			Errno: int32(le.Uint32(raw[104:]))}
	case event.KindFPU:
		if len(raw) < fpuSize {
			return fmt.Errorf("fpu: %w", errShort)
		}
		ev.FPU = &event.FPU{MXCSR: le.Uint32(raw[96:]), NonDefault: le.Uint32(raw[100:]), Samples: le.Uint32(raw[104:])}
	case event.KindPayload:
		if len(raw) < payloadFixed {
			return fmt.Errorf("payload: %w", errShort)
		}
		n := int(le.Uint16(raw[102:]))
		if n > payloadCap || payloadFixed+n > len(raw) {
			return fmt.Errorf("payload: %d bytes: %w", n, errShort)
		}
		p := &event.Payload{Family: le.Uint16(raw[96:]), Port: le.Uint16(raw[98:]), SrcPort: le.Uint16(raw[100:]),
			Data: raw[payloadFixed : payloadFixed+n]}
		copy(p.Addr[:], raw[104:120])
		ev.Payload = p
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
	if len(raw) < execFixed {
		return fmt.Errorf("exec: %w", errShort)
	}
	argc := le.Uint32(raw[96:])
	argsLen := int(le.Uint32(raw[104:]))
	envLen := int(le.Uint32(raw[108:]))
	flags := le.Uint32(raw[112:])
	c := cursor{data: raw[execFixed:]}
	x := &event.Exec{
		Argc:       int(argc),
		ExeMemfd:   flags&execMemfd != 0,
		ExeDeleted: flags&execDeleted != 0,
		SID:        le.Uint32(raw[116:]),
		PGID:       le.Uint32(raw[120:]),
	}
	x.Filename = string(c.next(int(le.Uint16(raw[128:]))))
	x.Interpreter = string(c.next(int(le.Uint16(raw[130:]))))
	x.ExePath = string(c.next(int(le.Uint16(raw[132:]))))
	x.Cwd = string(c.next(int(le.Uint16(raw[134:]))))
	x.TTY = string(c.next(int(le.Uint16(raw[136:]))))
	x.CgroupLeafName = string(c.next(int(le.Uint16(raw[138:]))))
	args := c.next(argsLen)
	env := c.next(envLen)
	if c.err != nil {
		return fmt.Errorf("exec: %w", c.err)
	}
	x.Args, x.ArgsTruncated = splitBlock(args, flags&execArgsTrunc != 0, lim.maxArgs)
	if !x.ArgsTruncated && int(argc) > len(x.Args) {
		x.ArgsTruncated = true
	}
	x.Env, x.EnvTruncated = splitBlock(env, flags&execEnvTrunc != 0, lim.maxEnv)
	ev.Exec = x
	return nil
}

func decodeExecFailed(raw []byte, ev *event.Event) error {
	if len(raw) < execFailedBase {
		return fmt.Errorf("exec_failed: %w", errShort)
	}
	c := cursor{data: raw[execFailedBase:]}
	x := &event.ExecFailed{Errno: int32(le.Uint32(raw[96:]))}
	x.Filename = string(c.next(int(le.Uint16(raw[108:]))))
	args := c.next(int(le.Uint32(raw[104:])))
	if c.err != nil {
		return fmt.Errorf("exec_failed: %w", c.err)
	}
	x.Args, x.ArgsTruncated = splitBlock(args, le.Uint16(raw[110:])&execArgsTrunc != 0, 0)
	ev.ExecFailed = x
	return nil
}

func decodeDNS(raw []byte, ev *event.Event) error {
	if len(raw) < dnsFixed {
		return fmt.Errorf("dns: %w", errShort)
	}
	n := int(le.Uint16(raw[104:]))
	if n > dnsCap || dnsFixed+n > len(raw) {
		return fmt.Errorf("dns: payload of %d bytes: %w", n, errShort)
	}
	d := &event.DNSPacket{Family: le.Uint16(raw[96:]), Transport: raw[98], Egress: raw[99] != 0,
		SrcPort: le.Uint16(raw[100:]), DstPort: le.Uint16(raw[102:]), Payload: raw[dnsFixed : dnsFixed+n]}
	copy(d.SrcAddr[:], raw[112:128])
	copy(d.DstAddr[:], raw[128:144])
	ev.DNS = d
	return nil
}

func decodeFile(raw []byte, ev *event.Event) error {
	if len(raw) < fileSize {
		return fmt.Errorf("file: %w", errShort)
	}
	op := int(raw[96])
	if op <= 0 || op >= len(fileOps) {
		return fmt.Errorf("file: unknown operation %d", op)
	}
	f := &event.File{
		Op:         fileOps[op],
		Path:       boundedString(raw[fileFixed:fileFixed+filePathCap], int(le.Uint16(raw[98:]))),
		SourcePath: boundedString(raw[fileFixed+filePathCap:fileSize], int(le.Uint16(raw[100:]))),
		Flags:      le.Uint32(raw[104:]),
		Mode:       le.Uint32(raw[108:]),
		Errno:      int32(le.Uint32(raw[112:])),
	}
	f.WriteIntent = op != 1 || f.Flags&(0o1|0o2|0o100|0o1000) != 0
	ev.File = f
	return nil
}

// splitBlock splits a NUL-separated argv or environment block, keeping empty elements. A block that
// was cut (trunc) keeps its partial last element. maxElems > 0 bounds the count.
func splitBlock(b []byte, trunc bool, maxElems int) ([][]byte, bool) {
	if len(b) == 0 {
		return nil, trunc
	}
	if b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	} else {
		trunc = true // the kernel block always ends with a NUL unless it was cut
	}
	parts := bytes.Split(b, []byte{0})
	if maxElems > 0 && len(parts) > maxElems {
		parts = parts[:maxElems]
		trunc = true
	}
	return parts, trunc
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
