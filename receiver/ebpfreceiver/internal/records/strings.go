package records

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
	"github.com/cryptochain-otel/cryptochain/internal/redact"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/untrusted"
)

// clean is untrusted.String for a string the kernel decoder already made: the common case (valid
// UTF-8, no NUL, within max) is returned as it is, without a copy.
func clean(s string, max int) string {
	if (max == 0 || len(s) <= max) && strings.IndexByte(s, 0) < 0 && utf8.ValidString(s) {
		return s
	}
	return untrusted.String([]byte(s), max)
}

// timeCache remembers the RFC 3339 text of recent instants: a process's creation time (and its
// parent's) repeats on every record it causes. Direct-mapped, so a miss costs one format.
type timeCache struct {
	entries [64]struct {
		ns     uint64
		offset int64
		text   string
	}
}

// format returns the text of the wall time of bootNS under the clock's current offset.
func (c *timeCache) format(clock *Clock, bootNS uint64) string {
	off := clock.offset.Load()
	e := &c.entries[(bootNS^bootNS>>17)%uint64(len(c.entries))]
	if e.ns == bootNS && e.offset == off && e.text != "" {
		return e.text
	}
	e.ns, e.offset = bootNS, off
	e.text = time.Unix(0, int64(bootNS)+off).UTC().Format(time.RFC3339Nano)
	return e.text
}

func putNonEmpty(m pcommon.Map, k, v string) {
	if v != "" {
		m.PutStr(k, v)
	}
}

// errnoNames are the Linux errno values a hook reports most; others print as "errno N".
var errnoNames = map[int32]string{
	1: "EPERM", 2: "ENOENT", 3: "ESRCH", 4: "EINTR", 5: "EIO", 6: "ENXIO", 7: "E2BIG", 8: "ENOEXEC", 9: "EBADF",
	11: "EAGAIN", 12: "ENOMEM", 13: "EACCES", 14: "EFAULT", 16: "EBUSY", 17: "EEXIST", 18: "EXDEV", 19: "ENODEV",
	20: "ENOTDIR", 21: "EISDIR", 22: "EINVAL", 23: "ENFILE", 24: "EMFILE", 26: "ETXTBSY", 27: "EFBIG", 28: "ENOSPC",
	30: "EROFS", 36: "ENAMETOOLONG", 39: "ENOTEMPTY", 40: "ELOOP", 95: "EOPNOTSUPP", 97: "EAFNOSUPPORT",
	98: "EADDRINUSE", 99: "EADDRNOTAVAIL", 100: "ENETDOWN", 101: "ENETUNREACH", 103: "ECONNABORTED",
	104: "ECONNRESET", 106: "EISCONN", 110: "ETIMEDOUT", 111: "ECONNREFUSED", 113: "EHOSTUNREACH",
	114: "EALREADY", 115: "EINPROGRESS",
}

// errnoName returns the symbolic name of a positive Linux errno.
func errnoName(e int32) string {
	if s, ok := errnoNames[e]; ok {
		return s
	}
	return "errno " + strconv.Itoa(int(e))
}

// envKeys remembers the attribute key of each environment name seen (bounded).
type envKeys struct {
	m map[string]string
}

const envKeysMax = 4096

func (k *envKeys) key(name string) string {
	if s, ok := k.m[name]; ok {
		return s
	}
	s := contract.AttrEnvPrefix + name
	if k.m == nil || len(k.m) >= envKeysMax {
		k.m = make(map[string]string, 64)
	}
	k.m[strings.Clone(name)] = s // the name may point into a large environment entry
	return s
}

// envCache remembers what each environment entry seen (its raw NAME=value bytes) becomes in a
// record: the attribute key and the redacted value, or nothing for an entry without a name. A
// process tree passes the same environment to every exec, and copying, validating and redacting
// every entry again was most of an exec record's cost. The redaction depends only on the entry
// and the Redactor, so a hit is exactly what a miss would compute. Bounded in entries and bytes,
// and emptied when full, so unique entries (a flood of them) cost what they cost without it.
type envCache struct {
	m     map[string]envEntry
	bytes int
	red   *redact.Redactor // the Redactor the entries were made with
}

type envEntry struct {
	key, value string // key "" = the entry is not exported
}

const (
	envCacheMax   = 4096
	envCacheBytes = 1 << 20
)

func (c *envCache) get(e []byte, red *redact.Redactor) (envEntry, bool) {
	if c.red != red {
		return envEntry{}, false
	}
	en, ok := c.m[string(e)]
	return en, ok
}

func (c *envCache) put(e []byte, red *redact.Redactor, en envEntry) {
	size := len(e) + len(en.value)
	if size > envCacheBytes/64 {
		return // a huge entry is rare; do not let it push out the common ones
	}
	if c.m == nil || c.red != red || len(c.m) >= envCacheMax || c.bytes+size > envCacheBytes {
		c.m, c.bytes, c.red = make(map[string]envEntry, 64), 0, red
	}
	c.m[string(e)] = en
	c.bytes += size
}
