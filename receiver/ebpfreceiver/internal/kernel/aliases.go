package kernel // import "github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/kernel"

import (
	"strings"
	"sync"
	"sync/atomic"

	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/event"
)

// DefaultMaxAliasPrefixes bounds the prefixes added for symlinks planted during the run.
const DefaultMaxAliasPrefixes = 128

// aliasWatch watches, for the rest of the run, the places a symlink made during the run leads to
// under its own path: after "ln -s /etc/cron.d /tmp/l", "/tmp/l/" is watched; after
// "ln -s /etc /tmp/e", "/tmp/e/cron.d/" and every other watched place under /etc. The kernel
// reports such symlinks (and adds "<link>/" itself for a link to a watched directory, so that a
// rename through it right after is seen). Bounded: prefixes beyond the budget are counted, not
// added. Symlinks made before the start, or by a process in a chroot or another mount namespace
// (whose paths mean something else on the host), are not followed.
type aliasWatch struct {
	mu     sync.Mutex
	table  map[string]uint32 // every prefix in the trie: configured and added
	budget int
	links  map[string]string // link -> where it leads (canonical), for links that added a prefix
	put    func(prefix string, flags uint32) error
	putDir func(dir string, kind uint8) error

	nlinks  atomic.Int32
	added   atomic.Uint64
	dropped atomic.Uint64
	onDrop  func(link string) // called on the first prefix the budget refuses; may be nil
}

func newAliasWatch(table map[string]uint32, budget int, put func(string, uint32) error,
	putDir func(string, uint8) error) *aliasWatch {
	t := make(map[string]uint32, len(table))
	for p, f := range table {
		t[p] = f
	}
	return &aliasWatch{table: t, budget: budget, put: put, putDir: putDir, links: map[string]string{}}
}

// note looks at a decoded file record: a path through a watched link is rewritten to where the
// link leads (the kernel folds names but cannot follow links), and a successful new symlink to a
// watched place is watched.
func (a *aliasWatch) note(f *event.File) {
	if f.Op != event.FileSymlink && a.nlinks.Load() == 0 {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if !f.Chroot && !f.OtherMountNS {
		f.Path = a.through(f.Path)
		if f.Op != event.FileSymlink {
			f.SourcePath = a.through(f.SourcePath)
		}
	}
	if f.Op != event.FileSymlink || f.Errno != 0 || f.Chroot || f.OtherMountNS ||
		len(f.Path) == 0 || f.Path[0] != '/' || f.SourcePath == "" {
		return
	}
	link := cleanAbs(f.Path)
	target := symlinkTarget(link, f.SourcePath)
	add := aliasPrefixes(a.table, link, target)
	if len(add) > 0 && a.links[link] != target {
		if _, ok := a.links[link]; !ok && len(a.links) >= DefaultMaxAliasPrefixes {
			a.dropped.Add(1)
			return
		}
		a.links[link] = target
		a.nlinks.Store(int32(len(a.links)))
	}
	for p, fl := range add {
		if old, ok := a.table[p]; ok && old|fl == old {
			continue
		}
		if len(p) > MaxPrefixLen || a.budget <= 0 {
			if a.dropped.Add(1) == 1 && a.onDrop != nil {
				a.onDrop(link)
			}
			continue
		}
		if err := a.put(p, a.table[p]|fl); err != nil {
			a.dropped.Add(1)
			continue
		}
		a.table[p] |= fl
		a.budget--
		a.added.Add(1)
		// the directories the new prefix names or passes through below the link, so that a
		// symlink to the alias is itself an alias
		if fl&pfxWatched != 0 {
			for d, kind := range prefixAncestors(map[string]uint32{p: pfxWatched}) {
				if strings.HasPrefix(d, link) {
					_ = a.putDir(d, kind)
				}
			}
		}
	}
}

// through rewrites p when it leads through a watched link (the longest one), repeatedly for a link
// to a link (at most a few times: links form no loop the kernel would follow further).
func (a *aliasWatch) through(p string) string {
	for range 8 {
		best := ""
		for l := range a.links {
			if len(l) > len(best) && strings.HasPrefix(p, l+"/") {
				best = l
			}
		}
		if best == "" {
			return p
		}
		t := a.links[best]
		if t == "/" {
			t = ""
		}
		p = t + p[len(best):]
	}
	return p
}
