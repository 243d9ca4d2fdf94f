// Package untrusted turns bytes read from the kernel or from procfs (argv, paths, comm, payloads)
// into valid, bounded UTF-8 strings. It knows nothing of where the bytes came from or go to.
package untrusted // import "github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/untrusted"

import (
	"strings"
	"unicode/utf8"
)

// String turns untrusted bytes into a valid UTF-8 string of at most max bytes (0 = unbounded):
// invalid sequences and NUL bytes become U+FFFD, and the cut never splits a rune.
func String(b []byte, max int) string {
	s := string(b)
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "\uFFFD")
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if max > 0 && len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return s
}
