package kernel // import "github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/kernel"

import (
	"fmt"
	"path"
	"sort"
	"strings"
)

// Values of the prefixes trie (enum prefix_match in bpf/include/records.h).
const (
	pfxWatched = 1
	pfxAlways  = 2
)

// prefixTable returns each prefix with its flags. The trie answers with the longest matching prefix
// only, so a prefix also carries the flags of every shorter prefix it extends: "/dev/" watched and
// "/dev/cpu/" always gives "/dev/cpu/" both.
func prefixTable(watched, always []string) (map[string]uint32, error) {
	t := map[string]uint32{}
	add := func(list []string, flag uint32, name string) error {
		for _, p := range list {
			if p == "" || !strings.HasPrefix(p, "/") {
				return fmt.Errorf("%s prefix %q: must be an absolute path", name, p)
			}
			if len(p) > MaxPrefixLen {
				return fmt.Errorf("%s prefix %q: longer than %d bytes", name, p, MaxPrefixLen)
			}
			if strings.IndexByte(p, 0) >= 0 {
				return fmt.Errorf("%s prefix %q: contains a NUL byte", name, p)
			}
			t[p] |= flag
		}
		return nil
	}
	if err := add(watched, pfxWatched, "watched"); err != nil {
		return nil, err
	}
	if err := add(always, pfxAlways, "always"); err != nil {
		return nil, err
	}
	if len(t) > MaxPrefixes {
		return nil, fmt.Errorf("watched and always prefixes: at most %d, got %d", MaxPrefixes, len(t))
	}
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make(map[string]uint32, len(t))
	for _, p := range keys {
		f := t[p]
		for _, q := range keys {
			if len(q) < len(p) && strings.HasPrefix(p, q) {
				f |= t[q]
			}
		}
		out[p] = f
	}
	return out, nil
}

// Pre-filter tables of bpf/file.c (HEAD_MAX, HEAD_ALL, and the 8 bytes of the path head the BPF
// side reads).
const (
	headMax   = 32
	headAll   = 0xffffffff
	headBytes = 8
)

// prefixHeads returns the distinct first bytes (little-endian, up to headBytes) of the prefixes
// whose flags include flag (every prefix when flag is 0) with their masks. n is headAll when they do
// not fit, which turns the kernel pre-filter off for that table.
func prefixHeads(table map[string]uint32, flag uint32) (heads, masks [headMax]uint64, n uint32) {
	seen := map[[2]uint64]bool{}
	keys := make([]string, 0, len(table))
	for p := range table {
		keys = append(keys, p)
	}
	sort.Strings(keys)
	for _, p := range keys {
		if flag != 0 && table[p]&flag == 0 {
			continue
		}
		var h, m uint64
		for i := 0; i < len(p) && i < headBytes; i++ {
			h |= uint64(p[i]) << (8 * i)
			m |= 0xff << (8 * i)
		}
		if seen[[2]uint64{h, m}] {
			continue
		}
		if n == headMax {
			return heads, masks, headAll
		}
		seen[[2]uint64{h, m}] = true
		heads[n], masks[n] = h, m
		n++
	}
	return heads, masks, n
}

// MaxAncestors bounds the directories above watched prefixes (ANCESTORS_MAX in bpf/include/records.h).
const MaxAncestors = 1024

// Values of the ancestors map (enum ancestor_kind in bpf/include/records.h).
const (
	ancWatchedDir = 1
	ancAbove      = 2
)

// prefixAncestors returns the directories of and above the watched prefixes of table: "/" and
// "/etc" above "/etc/cron.d/" (ancAbove), and "/etc/cron.d", the directory it names
// (ancWatchedDir). The kernel reports a symlink whose target is one of them or lies under a
// watched prefix: an alias of a watched place.
func prefixAncestors(table map[string]uint32) map[string]uint8 {
	out := map[string]uint8{}
	for p, f := range table {
		if f&pfxWatched == 0 {
			continue
		}
		for i := 0; i < len(p); i++ {
			if p[i] != '/' {
				continue
			}
			d := p[:i]
			if i == 0 {
				d = "/"
			}
			if i == len(p)-1 && i > 0 {
				out[d] = ancWatchedDir
			} else if out[d] == 0 {
				out[d] = ancAbove
			}
		}
	}
	return out
}

// cleanAbs folds "//", "." and ".." of an absolute path as the kernel does lexically, with no trailing "/".
func cleanAbs(p string) string {
	return path.Clean("/" + p)
}

// symlinkTarget is where a new symlink at link (canonical) leads, as its follower resolves it
// lexically: relative to the link's directory, or from the root ("/proc/self/root" and
// "/proc/thread-self/root" taken as the root).
func symlinkTarget(link, target string) string {
	if !strings.HasPrefix(target, "/") {
		return cleanAbs(path.Dir(link) + "/" + target)
	}
	t := cleanAbs(target)
	for _, p := range []string{"/proc/self/root", "/proc/thread-self/root"} {
		if t == p {
			return "/"
		}
		if strings.HasPrefix(t, p+"/") {
			return t[len(p):]
		}
	}
	return t
}

// aliasPrefixes returns the prefixes (with their flags) that a symlink at link pointing at target
// (resolved, see symlinkTarget) makes reachable under link: each prefix of table below the target,
// respelled under the link, and the link itself when the target lies under a prefix. Nil when the
// link leads to no watched place.
func aliasPrefixes(table map[string]uint32, link, target string) map[string]uint32 {
	link = cleanAbs(link)
	if link == "/" || link == target {
		return nil
	}
	var out map[string]uint32
	add := func(p string, f uint32) {
		if out == nil {
			out = map[string]uint32{}
		}
		out[p] |= f
	}
	dir := target + "/"
	if target == "/" {
		dir = "/"
	}
	for p, f := range table {
		switch {
		case strings.HasPrefix(p, dir) && len(p) > len(dir):
			// a watched place below the target: the same place below the link ("/etc/cron" below
			// "/etc" gives "<link>/cron", a string prefix as the trie matches it)
			add(link+"/"+p[len(dir):], f)
		case strings.HasPrefix(target, p) || p == dir:
			// the target itself is matched ("/etc/cron" matches "/etc/cron.d"): everything below the
			// link is; a link to a watched file is watched itself (chmod follows it)
			add(link+"/", f)
			if target == p && !strings.HasSuffix(p, "/") {
				add(link, f)
			}
		case strings.HasSuffix(p, "/") && strings.HasPrefix(dir, p):
			add(link+"/", f)
		}
	}
	return out
}
