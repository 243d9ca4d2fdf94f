//go:build linux && amd64

package kernel

import (
	"encoding/binary"
	"fmt"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/event"
)

// Records are built from the generated types, so the tests follow bpf/include/records.h as decode does.

func testHdr(kind probesRecordKind) probesRecHdr {
	h := probesRecHdr{Kind: kind, Seq: 77, Ktime: 123456789, Tgid: 4242, Tid: 4243, StartBoottime: 1111, Ppid: 1,
		Vpid: 7, ParentStart: 999, CgroupId: 0xc0ffee, Uid: 1000, Euid: 0, Loginuid: 0xffffffff, Sessionid: 0xffffffff}
	copy(chars(h.Comm[:]), "xmrig\x00garbage")
	return h
}

// raw returns r as the kernel sends it, followed by data (the variable part of exec records).
func raw[T any](r *T, data ...string) []byte {
	out := append([]byte(nil), unsafe.Slice((*byte)(unsafe.Pointer(r)), unsafe.Sizeof(*r))...)
	for _, d := range data {
		out = append(out, d...)
	}
	return out
}

var lim = decodeLimits{maxArgs: 0, maxEnv: 0}

func execRecord(flags probesExecFlag, argc uint32, args, env string) []byte {
	r := probesExecRec{Hdr: testHdr(probesRecordKindKIND_EXEC), Argc: argc, ArgsLen: uint32(len(args)),
		EnvLen: uint32(len(env)), Flags: flags, Sid: 300, Pgid: 301}
	pieces := []string{"/bin/sh", "/usr/bin/dash", "/usr/bin/dash", "/root", "pts/0", "libpod-abc.scope"}
	lens := []*uint16{&r.FilenameLen, &r.InterpLen, &r.ExeLen, &r.CwdLen, &r.TtyLen, &r.CgnameLen}
	for i, p := range pieces {
		*lens[i] = uint16(len(p))
	}
	return raw(&r, append(pieces, args, env)...)
}

func TestDecodeHeader(t *testing.T) {
	var ev event.Event
	r := probesExitRec{Hdr: testHdr(probesRecordKindKIND_EXIT), Code: 3 << 8, Utime: 5, Stime: 6}
	require.NoError(t, decode(raw(&r), lim, &ev))
	require.Equal(t, event.KindExit, ev.Kind)
	require.Equal(t, uint64(77), ev.Seq)
	require.Equal(t, uint64(123456789), ev.BootNS)
	require.Equal(t, event.Process{PID: 4242, TID: 4243, StartBootNS: 1111, PPID: 1, VPID: 7, ParentStartNS: 999,
		Comm: "xmrig", CgroupID: 0xc0ffee, UID: 1000, LoginUID: 0xffffffff, SessionID: 0xffffffff}, ev.Proc)
	require.Equal(t, &event.Exit{Code: 3 << 8, UserNS: 5, SystemNS: 6}, ev.Exit)

	b := raw(&r)
	odd := append(make([]byte, 1, len(b)+1), b...)[1:] // not 8-byte aligned
	var ev2 event.Event
	require.NoError(t, decode(odd, lim, &ev2))
	require.Equal(t, ev, ev2)
}

func TestDecodeLeanHeader(t *testing.T) {
	var ev event.Event
	r := probesConnectRec{Hdr: testHdr(probesRecordKindKIND_CONNECT)}
	r.Hdr.Flags = probesHdrFlagHDR_F_LEAN
	require.NoError(t, decode(raw(&r), lim, &ev))
	require.True(t, ev.Proc.Lean)
	r.Hdr.Flags = probesHdrFlagHDR_F_TASK_UNRELIABLE
	require.NoError(t, decode(raw(&r), lim, &ev))
	require.False(t, ev.Proc.Lean, "HDR_F_TASK_UNRELIABLE alone is not lean")
}

func TestDecodeExec(t *testing.T) {
	args := "/bin/sh\x00./run.sh\x00\x00\xff\xfe\x00"
	env := "A=1\x00AWS_SECRET=x\x00"
	var ev event.Event
	require.NoError(t, decode(execRecord(probesExecFlagEXEC_F_MEMFD|probesExecFlagEXEC_F_DELETED, 4, args, env), lim, &ev))
	x := ev.Exec
	require.Equal(t, "/bin/sh", x.Filename)
	require.Equal(t, "/usr/bin/dash", x.Interpreter)
	require.Equal(t, "/usr/bin/dash", x.ExePath)
	require.Equal(t, "/root", x.Cwd)
	require.Equal(t, "pts/0", x.TTY)
	require.Equal(t, "libpod-abc.scope", x.CgroupLeafName)
	require.Equal(t, [][]byte{[]byte("/bin/sh"), []byte("./run.sh"), {}, []byte("\xff\xfe")}, x.Args)
	require.False(t, x.ArgsTruncated)
	require.Equal(t, 4, x.Argc)
	require.Equal(t, [][]byte{[]byte("A=1"), []byte("AWS_SECRET=x")}, x.Env)
	require.True(t, x.ExeMemfd)
	require.True(t, x.ExeDeleted)
	require.Equal(t, uint32(300), x.SID)
	require.Equal(t, uint32(301), x.PGID)
}

func TestDecodeExecTruncation(t *testing.T) {
	var ev event.Event
	// cut in the middle of the third argument by the kernel
	require.NoError(t, decode(execRecord(probesExecFlagEXEC_F_ARGS_TRUNC, 100000, "a\x00b\x00cc", ""), lim, &ev))
	require.Equal(t, [][]byte{[]byte("a"), []byte("b"), []byte("cc")}, ev.Exec.Args)
	require.True(t, ev.Exec.ArgsTruncated)
	require.Equal(t, 100000, ev.Exec.Argc)
	require.Nil(t, ev.Exec.Env)

	// more arguments than the kernel copied, without the flag: still truncated
	require.NoError(t, decode(execRecord(0, 5, "a\x00b\x00", ""), lim, &ev))
	require.True(t, ev.Exec.ArgsTruncated)

	// element bound applied in user space
	require.NoError(t, decode(execRecord(0, 3, "a\x00b\x00c\x00", "X=1\x00Y=2\x00Z=3\x00"), decodeLimits{maxArgs: 2, maxEnv: 1}, &ev))
	require.Equal(t, [][]byte{[]byte("a"), []byte("b")}, ev.Exec.Args)
	require.True(t, ev.Exec.ArgsTruncated)
	require.Equal(t, [][]byte{[]byte("X=1")}, ev.Exec.Env)
	require.True(t, ev.Exec.EnvTruncated)
}

func execFailedRecord(filename, args string) []byte {
	r := probesExecFailedRec{Hdr: testHdr(probesRecordKindKIND_EXEC_FAILED), Err: 2, Argc: 3,
		ArgsLen: uint32(len(args)), FilenameLen: uint16(len(filename))}
	return raw(&r, filename, args)
}

func TestDecodeExecFailed(t *testing.T) {
	var ev event.Event
	require.NoError(t, decode(execFailedRecord("/sbin/modprobe", "modprobe\x00msr\x00allow_writes=on\x00"), lim, &ev))
	require.Equal(t, &event.ExecFailed{Filename: "/sbin/modprobe", Errno: 2,
		Args: [][]byte{[]byte("modprobe"), []byte("msr"), []byte("allow_writes=on")}}, ev.ExecFailed)
}

func TestDecodeConnect(t *testing.T) {
	r := probesConnectRec{Hdr: testHdr(probesRecordKindKIND_CONNECT), Family: 10, Proto: 6, Port: 3333, Err: 101,
		Addr: [16]byte{0x20, 0x01, 0x0d, 0xb8, 15: 1}}
	var ev event.Event
	require.NoError(t, decode(raw(&r), lim, &ev))
	require.Equal(t, &event.Connect{Family: 10, Transport: 6, Port: 3333, Errno: 101,
		Addr: [16]byte{0x20, 0x01, 0x0d, 0xb8, 15: 1}}, ev.Connect)

	r.Flags, r.Err = probesConnectFlagCONNECT_F_IN_PROGRESS, 0
	require.NoError(t, decode(raw(&r), lim, &ev))
	require.True(t, ev.Connect.InProgress)
	r.Flags = probesConnectFlagCONNECT_F_NO_RESULT
	require.NoError(t, decode(raw(&r), lim, &ev))
	require.Equal(t, int32(-1), ev.Connect.Errno)
}

func TestDecodeDNS(t *testing.T) {
	r := probesDnsRec{Hdr: testHdr(probesRecordKindKIND_DNS), Family: 2, Proto: 17, Egress: 1, Sport: 40000,
		Dport: 53, Len: 3, Saddr: [16]byte{127, 0, 0, 1}, Daddr: [16]byte{127, 0, 0, 53}}
	copy(r.Data[:], "abc")
	var ev event.Event
	require.NoError(t, decode(raw(&r), lim, &ev))
	require.Equal(t, []byte("abc"), ev.DNS.Payload)
	require.True(t, ev.DNS.Egress)
	require.Equal(t, uint16(53), ev.DNS.DstPort)
	require.Equal(t, [16]byte{127, 0, 0, 53}, ev.DNS.DstAddr)

	r.Len = 600
	require.Error(t, decode(raw(&r), lim, &ev), "length beyond the cap")
}

func TestDecodePayload(t *testing.T) {
	r := probesPayloadRec{Hdr: testHdr(probesRecordKindKIND_PAYLOAD), Family: 2, Dport: 3333, Sport: 40000, Len: 4,
		Daddr: [16]byte{10, 0, 0, 1}}
	copy(r.Data[:], "{\"id\"")
	var ev event.Event
	require.NoError(t, decode(raw(&r), lim, &ev))
	require.Equal(t, &event.Payload{Family: 2, Port: 3333, SrcPort: 40000, Addr: [16]byte{10, 0, 0, 1},
		Data: []byte("{\"id")}, ev.Payload)
	r.Len = 257
	require.Error(t, decode(raw(&r), lim, &ev), "length beyond the cap")
}

func TestDecodeFile(t *testing.T) {
	r := probesFileRec{Hdr: testHdr(probesRecordKindKIND_FILE), Op: probesFileOpFOP_TRUNCATE, PathLen: 14,
		Flags: 0o1101, Mode: 0o644, Err: 13}
	copy(chars(r.Path[:]), "/etc/cron.d/xy")
	var ev event.Event
	require.NoError(t, decode(raw(&r), lim, &ev))
	require.Equal(t, &event.File{Op: event.FileTruncate, Path: "/etc/cron.d/xy", Flags: 0o1101, Mode: 0o644, Errno: 13,
		WriteIntent: true}, ev.File)

	r.Op, r.Flags = probesFileOpFOP_OPEN, 0
	require.NoError(t, decode(raw(&r), lim, &ev))
	require.False(t, ev.File.WriteIntent, "read-only open")
	r.Op = 99
	require.Error(t, decode(raw(&r), lim, &ev))
}

func TestDecodeSysctlRenameKillFPU(t *testing.T) {
	s := probesSysctlRec{Hdr: testHdr(probesRecordKindKIND_SYSCTL), NameLen: 15, NewLen: 5, OldLen: 2}
	copy(chars(s.Name[:]), "vm/nr_hugepages")
	copy(chars(s.NewValue[:]), "1280\n")
	copy(chars(s.OldValue[:]), "0\n")
	var ev event.Event
	require.NoError(t, decode(raw(&s), lim, &ev))
	require.Equal(t, &event.Sysctl{Name: "vm/nr_hugepages", NewValue: "1280", OldValue: "0"}, ev.Sysctl)

	r := probesRenameRec{Hdr: testHdr(probesRecordKindKIND_RENAME)}
	copy(chars(r.Oldcomm[:]), "bash")
	copy(chars(r.Newcomm[:]), "[kthreadd]")
	require.NoError(t, decode(raw(&r), lim, &ev))
	require.Equal(t, &event.Rename{OldComm: "bash", NewComm: "[kthreadd]"}, ev.Rename)

	k := probesKillRec{Hdr: testHdr(probesRecordKindKIND_KILL), Target: 99, Sig: 9, Err: 1}
	require.NoError(t, decode(raw(&k), lim, &ev))
	require.Equal(t, &event.Kill{TargetPID: 99, Signal: 9, Errno: 1}, ev.Kill)

	f := probesFpuRec{Hdr: testHdr(probesRecordKindKIND_FPU), Mxcsr: 0x7f80, Nondefault: 9, Samples: 12}
	require.NoError(t, decode(raw(&f), lim, &ev))
	require.Equal(t, &event.FPU{MXCSR: 0x7f80, NonDefault: 9, Samples: 12}, ev.FPU)
}

func TestDecodeSuppressed(t *testing.T) {
	r := probesSuppressedRec{Hdr: testHdr(probesRecordKindKIND_SUPPRESSED), OfKind: probesRecordKindKIND_FILE,
		PathLen: 17, Err: 13, Count: 40000, Op: uint32(probesFileOpFOP_TRUNCATE), FirstNs: 5, LastNs: 9}
	copy(chars(r.Path[:]), "/etc/cron.d/x\x00junk")
	var ev event.Event
	require.NoError(t, decode(raw(&r), lim, &ev))
	require.Equal(t, &event.Suppressed{Of: event.KindFile, Count: 40000, Path: "/etc/cron.d/x", Errno: 13,
		Op: event.FileTruncate, FirstNS: 5, LastNS: 9}, ev.Suppressed)

	k := probesSuppressedRec{Hdr: testHdr(probesRecordKindKIND_SUPPRESSED), OfKind: probesRecordKindKIND_KILL,
		Err: 1, Count: 3, Op: 9, PathLen: 300}
	require.NoError(t, decode(raw(&k), lim, &ev))
	require.Equal(t, int32(9), ev.Suppressed.Signal)
	require.Empty(t, ev.Suppressed.Op)

	for _, of := range []probesRecordKind{0, probesRecordKindKIND_SUPPRESSED, probesRecordKindKIND_COUNT, 999} {
		bad := probesSuppressedRec{Hdr: testHdr(probesRecordKindKIND_SUPPRESSED), OfKind: of}
		require.Error(t, decode(raw(&bad), lim, &ev), "of kind %d", of)
	}
}

// Hostile records: every prefix of every kind, and lengths pointing past the end, are errors, not panics.
func TestDecodeNeverPanics(t *testing.T) {
	exit := probesExitRec{Hdr: testHdr(probesRecordKindKIND_EXIT)}
	rename := probesRenameRec{Hdr: testHdr(probesRecordKindKIND_RENAME)}
	connect := probesConnectRec{Hdr: testHdr(probesRecordKindKIND_CONNECT)}
	dns := probesDnsRec{Hdr: testHdr(probesRecordKindKIND_DNS)}
	sysctl := probesSysctlRec{Hdr: testHdr(probesRecordKindKIND_SYSCTL)}
	file := probesFileRec{Hdr: testHdr(probesRecordKindKIND_FILE), Op: probesFileOpFOP_OPEN}
	payload := probesPayloadRec{Hdr: testHdr(probesRecordKindKIND_PAYLOAD)}
	suppressed := probesSuppressedRec{Hdr: testHdr(probesRecordKindKIND_SUPPRESSED), OfKind: probesRecordKindKIND_FILE, PathLen: 0xffff}
	full := [][]byte{
		execRecord(0, 2, "a\x00b\x00", "X=1\x00"), raw(&exit), raw(&rename), raw(&connect), raw(&dns), raw(&sysctl),
		raw(&file), raw(&payload), execFailedRecord("abcd", ""), raw(&suppressed),
	}
	var ev event.Event
	for _, r := range full {
		require.NoError(t, decode(r, lim, &ev))
		for n := 0; n < len(r); n++ {
			_ = decode(r[:n], lim, &ev)
		}
	}
	bad := execRecord(0, 2, "a\x00b\x00", "")
	(*probesExecRec)(unsafe.Pointer(&bad[0])).ArgsLen = 1 << 31
	require.Error(t, decode(bad, lim, &ev))
	bad = execRecord(0, 2, "a\x00b\x00", "")
	(*probesExecRec)(unsafe.Pointer(&bad[0])).FilenameLen = 0xffff
	require.Error(t, decode(bad, lim, &ev))
	unknown := probesExitRec{Hdr: testHdr(200)}
	require.Error(t, decode(raw(&unknown), lim, &ev))
	require.Error(t, decode(nil, lim, &ev))
}

func FuzzDecode(f *testing.F) {
	dns := probesDnsRec{Hdr: testHdr(probesRecordKindKIND_DNS)}
	f.Add(execRecord(0, 2, "a\x00b\x00", "X=1\x00"))
	f.Add(raw(&dns))
	f.Fuzz(func(t *testing.T, b []byte) {
		var ev event.Event
		_ = decode(b, decodeLimits{maxArgs: 8, maxEnv: 8}, &ev)
	})
}

func TestSplitBlock(t *testing.T) {
	parts, trunc := splitBlock(nil, []byte("\x00"), false, 0)
	require.Equal(t, [][]byte{{}}, parts, "a single empty argument")
	require.False(t, trunc)
	parts, trunc = splitBlock(nil, nil, false, 0)
	require.Nil(t, parts)
	require.False(t, trunc)
	parts, _ = splitBlock(nil, []byte("a\x00\x00\x00"), false, 0)
	require.Equal(t, [][]byte{[]byte("a"), {}, {}}, parts, "trailing empty arguments kept")
	parts, trunc = splitBlock(parts[:0], []byte("x\x00y\x00z\x00"), false, 2)
	require.Equal(t, [][]byte{[]byte("x"), []byte("y")}, parts, "a reused slice holds only the new block, bounded")
	require.True(t, trunc)
	require.Equal(t, 1, cap(parts[0]), "an element cannot grow into the next")
}

// The reader reuses one pair of element slices for every exec: the second exec's argv and
// environment must be its own, whatever the first left behind.
func TestDecodeReusesSplitSlices(t *testing.T) {
	l := decodeLimits{bufs: new(splitBufs)}
	var ev event.Event
	require.NoError(t, decode(execRecord(0, 3, "a\x00b\x00c\x00", "X=1\x00Y=2\x00"), l, &ev))
	require.Len(t, ev.Exec.Args, 3)
	require.NoError(t, decode(execRecord(0, 1, "z\x00", "Q=9\x00"), l, &ev))
	require.Equal(t, [][]byte{[]byte("z")}, ev.Exec.Args)
	require.Equal(t, [][]byte{[]byte("Q=9")}, ev.Exec.Env)
	allocs := testing.AllocsPerRun(100, func() {
		_ = decode(execRecord(0, 3, "a\x00b\x00c\x00", "X=1\x00Y=2\x00"), l, &ev)
	})
	withoutBufs := testing.AllocsPerRun(100, func() {
		_ = decode(execRecord(0, 3, "a\x00b\x00c\x00", "X=1\x00Y=2\x00"), decodeLimits{}, &ev)
	})
	require.Less(t, allocs, withoutBufs, "argv and environment slices are reused")
}

func TestPrefixTable(t *testing.T) {
	tab, err := prefixTable([]string{"/dev/", "/etc/cron"}, []string{"/dev/cpu/"})
	require.NoError(t, err)
	require.Equal(t, map[string]uint32{"/dev/": pfxWatched, "/etc/cron": pfxWatched, "/dev/cpu/": pfxWatched | pfxAlways}, tab)
	_, err = prefixTable([]string{"relative/"}, nil)
	require.ErrorContains(t, err, "watched prefix")
	_, err = prefixTable(nil, []string{"/" + string(make([]byte, 300))})
	require.ErrorContains(t, err, "always prefix")
}

func TestOptionsValidation(t *testing.T) {
	o, err := withDefaults(event.Options{})
	require.NoError(t, err)
	require.Equal(t, DefaultRingBufferSize, o.RingBufferSize)
	require.Equal(t, DefaultAlwaysPrefixes, o.AlwaysPrefixes)
	for _, bad := range []event.Options{
		{RingBufferSize: 5000},
		{RingBufferSize: 1024},
		{ArgvMaxBytes: MaxArgvBytes + 1},
		{EnvMaxBytes: -1},
		{ExcludePIDs: make([]uint32, MaxExcludePIDs+1)},
		{WatchedPrefixes: []string{""}},
		{PollInterval: 1},
	} {
		_, err := withDefaults(bad)
		require.Error(t, err, "%+v", bad)
	}
}

// headMatches is the BPF pre-filter (head_miss in bpf/file.c) on a NUL-padded 8-byte path head.
func headMatches(path string, heads, masks [headMax]uint64, n uint32) bool {
	var b [8]byte
	copy(b[:], path)
	h := binary.LittleEndian.Uint64(b[:])
	for i := uint32(0); i < n; i++ {
		if h&masks[i] == heads[i] {
			return true
		}
	}
	return false
}

func TestPrefixHeads(t *testing.T) {
	tab, err := prefixTable([]string{"/etc/cron", "/etc/crontab", "/proc/sys/vm/", "/v"}, []string{"/dev/cpu/"})
	require.NoError(t, err)
	heads, masks, n := prefixHeads(tab, pfxAlways)
	require.Equal(t, uint32(1), n)
	require.True(t, headMatches("/dev/cpu/0/msr", heads, masks, n))
	require.False(t, headMatches("/dev/null", heads, masks, n))
	require.False(t, headMatches("/dev", heads, masks, n), "a path shorter than the head mismatches at its NUL")
	heads, masks, n = prefixHeads(tab, 0)
	require.Equal(t, uint32(4), n, "/etc/cron and /etc/crontab share their 8-byte head")
	for _, p := range []string{"/etc/cron.d/x", "/etc/crontab", "/proc/sys/vm/nr_hugepages", "/var/spool/cron/root", "/dev/cpu/0/msr"} {
		require.True(t, headMatches(p, heads, masks, n), p)
	}
	for _, p := range []string{"/etc/hostname", "/dev/null", "/proc/self/maps", "/usr/lib/x.so"} {
		require.False(t, headMatches(p, heads, masks, n), p)
	}
	many := make([]string, headMax+1)
	for i := range many {
		many[i] = "/" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + "/"
	}
	tab, err = prefixTable(many, nil)
	require.NoError(t, err)
	_, _, n = prefixHeads(tab, 0)
	require.Equal(t, uint32(headAll), n, "too many heads turn the pre-filter off")
}

func TestCommCache(t *testing.T) {
	c := new(commCache)
	a := c.get([]byte("bash\x00\x00junk"))
	b := c.get([]byte("bash\x00"))
	assert.Equal(t, "bash", a)
	assert.Equal(t, unsafe.StringData(a), unsafe.StringData(b), "a repeated comm is the same string")
	for i := range 1000 { // collisions replace entries, never return another comm
		name := fmt.Sprintf("w%d", i)
		assert.Equal(t, name, c.get([]byte(name)))
	}
	assert.Equal(t, "bash", c.get([]byte("bash")))
	assert.Equal(t, "", c.get([]byte("\x00bash")))
	var none *commCache
	assert.Equal(t, "sh", none.get([]byte("sh\x00")))
}

func TestDecodeExecArgsGap(t *testing.T) {
	r := probesExecRec{Hdr: testHdr(probesRecordKindKIND_EXEC), Argc: 3006, Flags: probesExecFlagEXEC_F_ARGS_TRUNC |
		probesExecFlagEXEC_F_ARGS_GAP | probesExecFlagEXEC_F_CREATOR, CreatorTgid: 77, CreatorStart: 5555}
	head := "/bin/xmrig\x00--fill\x00--fi" // cut inside an element
	tail := "ller\x00-o\x00pool:443\x00-u\x00W\x00"
	r.ArgsLen, r.ArgsTailLen, r.ArgsSkipped, r.EnvLen = uint32(len(head)), uint32(len(tail)), 40000, 4
	var ev event.Event
	require.NoError(t, decode(raw(&r, head, tail, "A=1\x00"), decodeLimits{maxArgs: 3}, &ev))
	x := ev.Exec
	require.Equal(t, []string{"/bin/xmrig", "--fill", "--fi", "pool:443", "-u", "W"}, strs(x.Args),
		"head bounded to 3; the tail's first (partial) element dropped, its last 3 kept")
	require.Equal(t, 3, x.ArgsTailAt)
	require.Equal(t, 40000, x.ArgsSkipped)
	require.True(t, x.ArgsTruncated)
	require.Equal(t, [][]byte{[]byte("A=1")}, x.Env, "the environment follows the tail")
	require.Equal(t, uint32(77), x.CreatorPID)
	require.Equal(t, uint64(5555), x.CreatorStart)

	// without the flags: no tail, no creator
	r.Flags = 0
	r.ArgsTailLen = 0
	require.NoError(t, decode(raw(&r, head, "A=1\x00"), lim, &ev))
	require.Zero(t, ev.Exec.ArgsTailAt)
	require.Zero(t, ev.Exec.CreatorPID)
	// a tail longer than the record is an error, not a panic
	r.Flags, r.ArgsTailLen = probesExecFlagEXEC_F_ARGS_GAP, 1<<20
	require.Error(t, decode(raw(&r, head, tail), lim, &ev))
}

func TestDecodeFileMarks(t *testing.T) {
	r := probesFileRec{Hdr: testHdr(probesRecordKindKIND_FILE), Op: probesFileOpFOP_CREATE, PathLen: 14,
		Fflags: probesFileFlagFILE_F_RESOLVED | probesFileFlagFILE_F_CHROOT | probesFileFlagFILE_F_MNTNS}
	copy(chars(r.Path[:]), "/etc/cron.d/xy")
	var ev event.Event
	require.NoError(t, decode(raw(&r), lim, &ev))
	require.True(t, ev.File.Resolved)
	require.True(t, ev.File.Chroot)
	require.True(t, ev.File.OtherMountNS)
	r.Fflags = 0
	require.NoError(t, decode(raw(&r), lim, &ev))
	require.False(t, ev.File.Resolved || ev.File.Chroot || ev.File.OtherMountNS)
}

func strs(b [][]byte) []string {
	out := make([]string, len(b))
	for i, s := range b {
		out[i] = string(s)
	}
	return out
}
