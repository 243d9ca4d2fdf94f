// Package indicators holds the embedded indicator lists (pools, miners, flags, ports) with provenance, and
// the persistence rules built from the persistence-location table of internal/contract.
// It must not know records or evidence: it answers lookups over TSV lists that configuration may extend.
package indicators // import "github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/indicators"

import (
	"embed"
	"fmt"
	"strconv"
	"strings"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
)

//go:embed data/*.tsv
var files embed.FS

// FlagInfo describes a miner-only flag.
type FlagInfo struct {
	TakesValue bool
	Source     string
}

// PathRule is one persistence location.
type PathRule struct {
	Pattern string // exact path, prefix ending in "/", "*" matching one path element
	Kind    string // cron, anacron, at, systemd, rc, or "custom" for configured entries
	Source  string
	lit     string // Pattern up to the first "*", compared first
}

func newRule(pattern, kind, source string) PathRule {
	lit := pattern
	if i := strings.IndexByte(lit, '*'); i >= 0 {
		lit = lit[:i]
	}
	return PathRule{Pattern: pattern, Kind: kind, Source: source, lit: lit}
}

// Set is the loaded lists. Lookups are by exact, lower-case (domains, names) or verbatim (flags) key.
type Set struct {
	PoolDomains map[string]string   // domain → source
	MinerNames  map[string]string   // lower-case executable name → source
	MinerFlags  map[string]FlagInfo // flag name without dashes → info
	Algorithms  map[string]string   // lower-case algorithm → source
	StratumPort map[int64]string    // port → source
	EnvNames    map[string]string   // upper-case name → source
	Persistence []PathRule
	byTop       map[string][]PathRule // Persistence indexed by first path element
}

// top returns the first element of an absolute path ("/etc/cron.d/x" → "etc").
func top(p string) string {
	if len(p) < 2 || p[0] != '/' {
		return ""
	}
	p = p[1:]
	if i := strings.IndexByte(p, '/'); i >= 0 {
		return p[:i]
	}
	return p
}

func (s *Set) index() {
	s.byTop = map[string][]PathRule{}
	for _, r := range s.Persistence {
		t := top(r.Pattern)
		s.byTop[t] = append(s.byTop[t], r)
	}
}

// Source of configured entries.
const ConfigSource = "processor configuration"

// Load parses the embedded lists.
func Load() (*Set, error) {
	s := &Set{
		PoolDomains: map[string]string{},
		MinerNames:  map[string]string{},
		MinerFlags:  map[string]FlagInfo{},
		Algorithms:  map[string]string{},
		StratumPort: map[int64]string{},
		EnvNames:    map[string]string{},
	}
	if err := each("pool_domains.tsv", 2, func(f []string) error {
		d := NormalizeDomain(f[0])
		if d == "" {
			return fmt.Errorf("bad domain %q", f[0])
		}
		s.PoolDomains[d] = f[1]
		return nil
	}); err != nil {
		return nil, err
	}
	if err := each("miner_names.tsv", 2, func(f []string) error { s.MinerNames[strings.ToLower(f[0])] = f[1]; return nil }); err != nil {
		return nil, err
	}
	if err := each("miner_flags.tsv", 3, func(f []string) error {
		if f[1] != "v" && f[1] != "-" {
			return fmt.Errorf("flag %q: takes-value must be v or -", f[0])
		}
		s.MinerFlags[f[0]] = FlagInfo{TakesValue: f[1] == "v", Source: f[2]}
		return nil
	}); err != nil {
		return nil, err
	}
	if err := each("algorithms.tsv", 2, func(f []string) error { s.Algorithms[strings.ToLower(f[0])] = f[1]; return nil }); err != nil {
		return nil, err
	}
	if err := each("stratum_ports.tsv", 2, func(f []string) error {
		p, err := strconv.ParseInt(f[0], 10, 32)
		if err != nil || p <= 0 || p > 65535 {
			return fmt.Errorf("bad port %q", f[0])
		}
		s.StratumPort[p] = f[1]
		return nil
	}); err != nil {
		return nil, err
	}
	if err := each("env_names.tsv", 2, func(f []string) error { s.EnvNames[strings.ToUpper(f[0])] = f[1]; return nil }); err != nil {
		return nil, err
	}
	for _, l := range contract.PersistenceLocations() {
		s.Persistence = append(s.Persistence, newRule(l.Pattern, l.Mechanism, l.Source))
	}
	s.index()
	return s, nil
}

// each calls fn with the tab-separated fields of every non-comment line of data/name; every line must
// have exactly n fields, the last being a non-empty source.
func each(name string, n int, fn func([]string) error) error {
	b, err := files.ReadFile("data/" + name)
	if err != nil {
		return err
	}
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != n || strings.TrimSpace(f[n-1]) == "" {
			return fmt.Errorf("indicators: %s line %d: want %d tab-separated fields ending with a source", name, i+1, n)
		}
		if err := fn(f); err != nil {
			return fmt.Errorf("indicators: %s line %d: %w", name, i+1, err)
		}
	}
	return nil
}

// NormalizeDomain lower-cases d and strips a trailing dot and a leading "*." or "."; "" if invalid.
func NormalizeDomain(d string) string {
	d = strings.ToLower(strings.TrimSpace(d))
	d = strings.TrimSuffix(d, ".")
	d = strings.TrimPrefix(d, "*.")
	d = strings.TrimPrefix(d, ".")
	if d == "" || len(d) > 253 || strings.ContainsAny(d, " /:\t") || !strings.Contains(d, ".") {
		return ""
	}
	return d
}

// AddPoolDomains extends the pool domains; key names the config key for errors.
func (s *Set) AddPoolDomains(key string, ds []string) error {
	for i, d := range ds {
		n := NormalizeDomain(d)
		if n == "" {
			return fmt.Errorf("%s[%d]: %q is not a domain name", key, i, d)
		}
		s.PoolDomains[n] = ConfigSource
	}
	return nil
}

// AddMinerNames extends the miner names.
func (s *Set) AddMinerNames(key string, ns []string) error {
	for i, n := range ns {
		n = strings.ToLower(strings.TrimSpace(n))
		if n == "" || strings.ContainsRune(n, '/') {
			return fmt.Errorf("%s[%d]: %q is not an executable name", key, i, ns[i])
		}
		s.MinerNames[n] = ConfigSource
	}
	return nil
}

// AddPersistence extends the persistence locations.
func (s *Set) AddPersistence(key string, ps []string) error {
	for i, p := range ps {
		if !strings.HasPrefix(p, "/") {
			return fmt.Errorf("%s[%d]: %q is not an absolute path", key, i, p)
		}
		s.Persistence = append(s.Persistence, newRule(p, "custom", ConfigSource))
	}
	s.index()
	return nil
}

// PoolDomain returns the listed domain that name is, or is a subdomain of, walking suffixes
// ("a.b.pool.com" → "b.pool.com" → "pool.com") without allocating. name must be lower case.
func (s *Set) PoolDomain(name string) (domain, source string, ok bool) {
	name = strings.TrimSuffix(name, ".")
	for len(name) > 0 {
		if src, ok := s.PoolDomains[name]; ok {
			return name, src, true
		}
		i := strings.IndexByte(name, '.')
		if i < 0 {
			return "", "", false
		}
		name = name[i+1:]
	}
	return "", "", false
}

// PersistenceRule returns the most specific (longest) rule matching path, if any. The literal part
// of each pattern (before any "*") is compared first, so unrelated paths cost one prefix test per rule.
func (s *Set) PersistenceRule(path string) (PathRule, bool) {
	best, found := PathRule{}, false
	for _, r := range s.byTop[top(path)] {
		if !strings.HasPrefix(path, r.lit) {
			continue
		}
		if len(r.Pattern) > len(best.Pattern) && contract.MatchPattern(r.Pattern, path) {
			best, found = r, true
		}
	}
	return best, found
}
