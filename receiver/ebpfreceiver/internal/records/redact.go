package records

import (
	"path"
	"strings"
	"sync"
)

// Redacted replaces a secret value.
const Redacted = "[REDACTED]"

// Env value policies (mirrors the receiver config).
const (
	EnvValuesNonSecret = "non_secret"
	EnvValuesNone      = "none"
	EnvValuesAll       = "all"
)

// Redactor decides what of an environment entry is exported.
type Redactor struct {
	Values   string   // non_secret, none or all
	Patterns []string // glob patterns of secret names, matched case-insensitively

	once     sync.Once
	compiled []matcher
	mu       sync.Mutex
	cache    map[string]bool // env names repeat: remember verdicts (bounded)
}

// matcher is a pattern reduced to a substring test when it is *X*, X* or *X (the common forms).
type matcher struct {
	kind byte // 'c' contains, 'p' prefix, 's' suffix, 'e' exact, 'g' glob
	s    string
}

const redactCacheMax = 4096

// Apply splits a NAME=value entry and returns the value to export. ok is false for entries
// without a name.
func (r *Redactor) Apply(entry string) (name, value string, ok bool) {
	name, value, _ = strings.Cut(entry, "=")
	if name == "" {
		return "", "", false
	}
	switch r.Values {
	case EnvValuesAll:
		return name, value, true
	case EnvValuesNone:
		return name, Redacted, true
	}
	if r.IsSecret(name) {
		return name, Redacted, true
	}
	return name, value, true
}

// IsSecret says whether a variable name matches a secret pattern (case-insensitive).
func (r *Redactor) IsSecret(name string) bool {
	r.once.Do(r.compile)
	r.mu.Lock()
	if v, ok := r.cache[name]; ok {
		r.mu.Unlock()
		return v
	}
	r.mu.Unlock()
	v := r.match(strings.ToUpper(name))
	r.mu.Lock()
	if len(r.cache) >= redactCacheMax {
		r.cache = map[string]bool{}
	}
	r.cache[name] = v
	r.mu.Unlock()
	return v
}

func (r *Redactor) compile() {
	r.cache = map[string]bool{}
	for _, p := range r.Patterns {
		if p == "" {
			continue
		}
		p = strings.ToUpper(p)
		inner := strings.Trim(p, "*")
		switch {
		case strings.ContainsAny(inner, "*?[\\"):
			r.compiled = append(r.compiled, matcher{'g', p})
		case len(p) >= 2 && p[0] == '*' && p[len(p)-1] == '*':
			r.compiled = append(r.compiled, matcher{'c', inner})
		case p[len(p)-1] == '*':
			r.compiled = append(r.compiled, matcher{'p', inner})
		case p[0] == '*':
			r.compiled = append(r.compiled, matcher{'s', inner})
		default:
			r.compiled = append(r.compiled, matcher{'e', p})
		}
	}
}

func (r *Redactor) match(up string) bool {
	for _, m := range r.compiled {
		var ok bool
		switch m.kind {
		case 'c':
			ok = strings.Contains(up, m.s)
		case 'p':
			ok = strings.HasPrefix(up, m.s)
		case 's':
			ok = strings.HasSuffix(up, m.s)
		case 'e':
			ok = up == m.s
		default:
			ok, _ = path.Match(m.s, up)
		}
		if ok {
			return true
		}
	}
	return false
}
