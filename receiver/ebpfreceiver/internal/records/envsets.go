package records

import (
	"bytes"
	"hash/maphash"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/cryptochain-otel/cryptochain/internal/redact"
)

// envSets remembers whole exported environments as ready attribute maps. A process tree passes one
// environment to every exec, and putting its variables one by one looks each key up among those
// already put (dozens of keys sharing the process.environment_variable. prefix); a ready map is
// copied without lookups. An environment becomes a set the second time it is seen, so a flood of
// distinct environments costs no more than it did before. Bounded in sets and bytes, and emptied
// when full.
type envSets struct {
	seed  maphash.Seed
	sets  map[uint64]*envSet
	seen  map[uint64]struct{} // environments seen once
	bytes int
	red   *redact.Redactor // the Redactor the sets were made with
}

type envSet struct {
	raw       [][]byte    // the entries as read, to confirm a hit
	attrs     pcommon.Map // the exported variables
	truncated bool        // the bounds cut the environment
}

const (
	envSetsMax   = 256
	envSetsBytes = 2 << 20
)

func envHash(seed maphash.Seed, env [][]byte, truncated bool) uint64 {
	var h maphash.Hash
	h.SetSeed(seed)
	for _, e := range env {
		_, _ = h.Write(e)
		_ = h.WriteByte(0)
	}
	if truncated {
		_ = h.WriteByte(1)
	}
	return h.Sum64()
}

// get returns the set of env (as read, with the kernel's truncation flag), making it with build on
// its second sighting; nil means put the variables one by one.
func (s *envSets) get(env [][]byte, truncated bool, red *redact.Redactor, build func(pcommon.Map) bool) *envSet {
	if len(env) == 0 {
		return nil
	}
	if s.sets == nil || s.red != red {
		s.reset(red)
	}
	h := envHash(s.seed, env, truncated)
	if set, ok := s.sets[h]; ok && set.matches(env) {
		return set
	}
	if _, ok := s.seen[h]; !ok {
		if len(s.seen) >= envSetsMax*4 {
			clear(s.seen)
		}
		s.seen[h] = struct{}{}
		return nil
	}
	size := 0
	for _, e := range env {
		size += len(e)
	}
	if size > envSetsBytes/16 {
		return nil // a huge environment is rare; do not let it push out the common ones
	}
	if len(s.sets) >= envSetsMax || s.bytes+size > envSetsBytes {
		s.reset(red)
	}
	set := &envSet{raw: make([][]byte, len(env)), attrs: pcommon.NewMap()}
	buf := make([]byte, 0, size) // one copy for all entries: the ring record is reused
	for i, e := range env {
		buf = append(buf, e...)
		set.raw[i] = buf[len(buf)-len(e) : len(buf) : len(buf)]
	}
	set.truncated = build(set.attrs)
	s.sets[h] = set
	s.bytes += size
	return set
}

func (s *envSets) reset(red *redact.Redactor) {
	if s.sets == nil {
		s.seed = maphash.MakeSeed()
	}
	s.sets, s.seen, s.bytes, s.red = make(map[uint64]*envSet, 16), make(map[uint64]struct{}, 64), 0, red
}

func (set *envSet) matches(env [][]byte) bool {
	if len(set.raw) != len(env) {
		return false
	}
	for i, e := range env {
		if !bytes.Equal(set.raw[i], e) {
			return false
		}
	}
	return true
}
