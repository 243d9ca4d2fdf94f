package kernel

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/event"
)

// rec builds a record the way the BPF programs lay it out.
type rec []byte

func newRec(kind event.Kind, size int) rec {
	r := make(rec, size)
	binary.LittleEndian.PutUint16(r[0:], uint16(kind))
	binary.LittleEndian.PutUint64(r[8:], 77)          // seq
	binary.LittleEndian.PutUint64(r[16:], 123456789)  // ktime
	binary.LittleEndian.PutUint32(r[24:], 4242)       // tgid
	binary.LittleEndian.PutUint32(r[28:], 4243)       // tid
	binary.LittleEndian.PutUint64(r[32:], 1111)       // start_boottime
	binary.LittleEndian.PutUint32(r[40:], 1)          // ppid
	binary.LittleEndian.PutUint32(r[44:], 7)          // vpid
	binary.LittleEndian.PutUint64(r[48:], 999)        // parent_start
	binary.LittleEndian.PutUint64(r[56:], 0xc0ffee)   // cgroup id
	binary.LittleEndian.PutUint32(r[64:], 1000)       // uid
	binary.LittleEndian.PutUint32(r[68:], 0)          // euid
	binary.LittleEndian.PutUint32(r[72:], 0xffffffff) // loginuid
	binary.LittleEndian.PutUint32(r[76:], 0xffffffff) // sessionid
	copy(r[80:96], "xmrig\x00garbage")
	return r
}

func (r rec) u16(off int, v uint16) rec { binary.LittleEndian.PutUint16(r[off:], v); return r }
func (r rec) u32(off int, v uint32) rec { binary.LittleEndian.PutUint32(r[off:], v); return r }
func (r rec) u64(off int, v uint64) rec { binary.LittleEndian.PutUint64(r[off:], v); return r }

var lim = decodeLimits{maxArgs: 0, maxEnv: 0}

func execRecord(flags uint32, argc uint32, args, env string) rec {
	pieces := []string{"/bin/sh", "/usr/bin/dash", "/usr/bin/dash", "/root", "pts/0", "libpod-abc.scope"}
	data := ""
	for _, p := range pieces {
		data += p
	}
	data += args + env
	r := newRec(event.KindExec, execFixed+len(data))
	copy(r[execFixed:], data)
	r.u32(96, argc).u32(100, 1).u32(104, uint32(len(args))).u32(108, uint32(len(env))).u32(112, flags).
		u32(116, 300).u32(120, 301)
	for i, p := range pieces {
		r.u16(128+2*i, uint16(len(p)))
	}
	return r
}

func TestDecodeHeader(t *testing.T) {
	var ev event.Event
	require.NoError(t, decode(newRec(event.KindExit, exitSize).u32(96, 3<<8).u64(104, 5).u64(112, 6), lim, &ev))
	require.Equal(t, event.KindExit, ev.Kind)
	require.Equal(t, uint64(77), ev.Seq)
	require.Equal(t, uint64(123456789), ev.BootNS)
	require.Equal(t, event.Process{PID: 4242, TID: 4243, StartBootNS: 1111, PPID: 1, VPID: 7, ParentStartNS: 999,
		Comm: "xmrig", CgroupID: 0xc0ffee, UID: 1000, LoginUID: 0xffffffff, SessionID: 0xffffffff}, ev.Proc)
	require.Equal(t, &event.Exit{Code: 3 << 8, UserNS: 5, SystemNS: 6}, ev.Exit)
}

func TestDecodeLeanHeader(t *testing.T) {
	var ev event.Event
	require.NoError(t, decode(newRec(event.KindConnect, connectSize).u16(2, hdrLean), lim, &ev))
	require.True(t, ev.Proc.Lean)
	require.NoError(t, decode(newRec(event.KindConnect, connectSize).u16(2, 1), lim, &ev))
	require.False(t, ev.Proc.Lean, "HDR_F_TASK_UNRELIABLE alone is not lean")
}

func TestDecodeExec(t *testing.T) {
	args := "/bin/sh\x00./run.sh\x00\x00\xff\xfe\x00"
	env := "A=1\x00AWS_SECRET=x\x00"
	var ev event.Event
	require.NoError(t, decode(execRecord(execMemfd|execDeleted, 4, args, env), lim, &ev))
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
	require.NoError(t, decode(execRecord(execArgsTrunc, 100000, "a\x00b\x00cc", ""), lim, &ev))
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

func TestDecodeExecFailed(t *testing.T) {
	data := "/sbin/modprobe" + "modprobe\x00msr\x00allow_writes=on\x00"
	r := newRec(event.KindExecFailed, execFailedBase+len(data))
	copy(r[execFailedBase:], data)
	r.u32(96, 2).u32(100, 3).u32(104, uint32(len(data)-14)).u16(108, 14)
	var ev event.Event
	require.NoError(t, decode(r, lim, &ev))
	require.Equal(t, &event.ExecFailed{Filename: "/sbin/modprobe", Errno: 2,
		Args: [][]byte{[]byte("modprobe"), []byte("msr"), []byte("allow_writes=on")}}, ev.ExecFailed)
}

func TestDecodeConnect(t *testing.T) {
	r := newRec(event.KindConnect, connectSize).u16(96, 10).u16(100, 3333).u32(104, 101)
	r[98] = 6
	copy(r[112:], []byte{0x20, 0x01, 0x0d, 0xb8, 15: 1})
	var ev event.Event
	require.NoError(t, decode(r, lim, &ev))
	require.Equal(t, &event.Connect{Family: 10, Transport: 6, Port: 3333, Errno: 101,
		Addr: [16]byte{0x20, 0x01, 0x0d, 0xb8, 15: 1}}, ev.Connect)

	r[99] = connectInProgress
	require.NoError(t, decode(r.u32(104, 0), lim, &ev))
	require.True(t, ev.Connect.InProgress)
	r[99] = connectNoResult
	require.NoError(t, decode(r, lim, &ev))
	require.Equal(t, int32(-1), ev.Connect.Errno)
}

func TestDecodeDNS(t *testing.T) {
	r := newRec(event.KindDNS, dnsFixed+dnsCap).u16(96, 2).u16(100, 40000).u16(102, 53).u16(104, 3)
	r[98], r[99] = 17, 1
	copy(r[112:], []byte{127, 0, 0, 1})
	copy(r[128:], []byte{127, 0, 0, 53})
	copy(r[dnsFixed:], "abc")
	var ev event.Event
	require.NoError(t, decode(r, lim, &ev))
	require.Equal(t, []byte("abc"), ev.DNS.Payload)
	require.True(t, ev.DNS.Egress)
	require.Equal(t, uint16(53), ev.DNS.DstPort)
	require.Equal(t, [16]byte{127, 0, 0, 53}, ev.DNS.DstAddr)

	require.Error(t, decode(r.u16(104, 600), lim, &ev), "length beyond the cap")
}

func TestDecodeFile(t *testing.T) {
	r := newRec(event.KindFile, fileSize).u16(98, 14).u16(100, 0).u32(104, 0o1101).u32(108, 0o644).u32(112, 13)
	r[96] = 3
	copy(r[fileFixed:], "/etc/cron.d/xy")
	var ev event.Event
	require.NoError(t, decode(r, lim, &ev))
	require.Equal(t, &event.File{Op: event.FileTruncate, Path: "/etc/cron.d/xy", Flags: 0o1101, Mode: 0o644, Errno: 13,
		WriteIntent: true}, ev.File)

	r[96] = 1
	require.NoError(t, decode(r.u32(104, 0), lim, &ev))
	require.False(t, ev.File.WriteIntent, "read-only open")
	r[96] = 99
	require.Error(t, decode(r, lim, &ev))
}

func TestDecodeSysctlAndRename(t *testing.T) {
	r := newRec(event.KindSysctl, sysctlSize).u16(96, 15).u16(98, 5).u16(100, 2)
	copy(r[104:], "vm/nr_hugepages")
	copy(r[232:], "1280\n")
	copy(r[296:], "0\n")
	var ev event.Event
	require.NoError(t, decode(r, lim, &ev))
	require.Equal(t, &event.Sysctl{Name: "vm/nr_hugepages", NewValue: "1280", OldValue: "0"}, ev.Sysctl)

	r = newRec(event.KindRename, renameSize)
	copy(r[96:], "bash")
	copy(r[112:], "[kthreadd]")
	require.NoError(t, decode(r, lim, &ev))
	require.Equal(t, &event.Rename{OldComm: "bash", NewComm: "[kthreadd]"}, ev.Rename)
}

// Hostile records: every prefix of every kind, and lengths pointing past the end, are errors, not panics.
func TestDecodeNeverPanics(t *testing.T) {
	full := []rec{
		execRecord(0, 2, "a\x00b\x00", "X=1\x00"),
		newRec(event.KindExit, exitSize), newRec(event.KindRename, renameSize), newRec(event.KindConnect, connectSize),
		newRec(event.KindDNS, dnsFixed+dnsCap), newRec(event.KindSysctl, sysctlSize),
		newRec(event.KindExecFailed, execFailedBase+4).u16(108, 4),
	}
	var ev event.Event
	for _, r := range full {
		for n := 0; n < len(r); n++ {
			_ = decode(r[:n], lim, &ev)
		}
	}
	bad := execRecord(0, 2, "a\x00b\x00", "").u32(104, 1<<31)
	require.Error(t, decode(bad, lim, &ev))
	bad = execRecord(0, 2, "a\x00b\x00", "").u16(128, 0xffff)
	require.Error(t, decode(bad, lim, &ev))
	require.Error(t, decode(newRec(200, 200), lim, &ev))
	require.Error(t, decode(nil, lim, &ev))
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(execRecord(0, 2, "a\x00b\x00", "X=1\x00")))
	f.Add([]byte(newRec(event.KindDNS, dnsFixed+dnsCap)))
	f.Fuzz(func(t *testing.T, b []byte) {
		var ev event.Event
		_ = decode(b, decodeLimits{maxArgs: 8, maxEnv: 8}, &ev)
	})
}

func TestSplitBlock(t *testing.T) {
	parts, trunc := splitBlock([]byte("\x00"), false, 0)
	require.Equal(t, [][]byte{{}}, parts, "a single empty argument")
	require.False(t, trunc)
	parts, trunc = splitBlock(nil, false, 0)
	require.Nil(t, parts)
	require.False(t, trunc)
	parts, _ = splitBlock([]byte("a\x00\x00\x00"), false, 0)
	require.Equal(t, [][]byte{[]byte("a"), {}, {}}, parts, "trailing empty arguments kept")
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
