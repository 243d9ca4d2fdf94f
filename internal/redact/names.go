package redact

import (
	"path"
	"strings"
	"sync"
)

// DefaultSecretNames are the name patterns (matched case-insensitively, `*` and `?` wildcards) of
// environment variables, `NAME=value` assignments and JSON/YAML keys whose values are secret.
var DefaultSecretNames = []string{
	"*KEY*", "*TOKEN*", "*SECRET*", "*PASS*", "*PWD*", "*CREDENTIAL*", "*AUTH*", "*COOKIE*",
	"*SESSION*", "*PRIVATE*", "*SIGNATURE*", "*CERT*", "*DSN*", "*CONNECTION_STRING*", "*DATABASE_URL*",
	"AWS_*", "AZURE_*", "GOOGLE_*", "GCP_*", "GH_*", "GITHUB_*", "GITLAB_*", "NPM_*", "DOCKER_*",
	"VAULT_*", "KUBECONFIG*",
}

// weakSecretParts are name parts (split at `_`, `-`, `.`) that make a high-entropy value secret.
var weakSecretParts = []string{
	"SK", "JWT", "WEBHOOK", "HOOK", "SALT", "HMAC", "BEARER", "API", "SIG", "SEED", "MNEMONIC", "OTP",
	"PIN", "NONCE", "CRED", "CREDS", "DSN", "URI", "URL", "CONN", "LICENSE", "ACCESS", "CLIENT", "HASH",
}

// matcher is a pattern reduced to a substring test when it is *X*, X* or *X (the common forms).
type matcher struct {
	kind byte // 'c' contains, 'p' prefix, 's' suffix, 'e' exact, 'g' glob
	s    string
}

// names decides whether a name is secret. Verdicts for exact names are cached (env names repeat).
type names struct {
	m     []matcher
	mu    sync.RWMutex
	cache map[string]bool
}

const nameCacheMax = 4096

// ValidName reports whether p is a usable name pattern.
func ValidName(p string) bool {
	if p == "" {
		return false
	}
	_, err := path.Match(p, "")
	return err == nil
}

func newNames(patterns []string) *names {
	n := &names{cache: map[string]bool{}}
	for _, p := range patterns {
		if p == "" {
			continue
		}
		p = strings.ToUpper(p)
		inner := strings.Trim(p, "*")
		switch {
		case strings.ContainsAny(inner, "*?[\\"):
			n.m = append(n.m, matcher{'g', p})
		case len(p) >= 2 && p[0] == '*' && p[len(p)-1] == '*':
			n.m = append(n.m, matcher{'c', inner})
		case p[len(p)-1] == '*':
			n.m = append(n.m, matcher{'p', inner})
		case p[0] == '*':
			n.m = append(n.m, matcher{'s', inner})
		default:
			n.m = append(n.m, matcher{'e', p})
		}
	}
	return n
}

// verdict is match with a bounded verdict cache, for names that repeat (environment variables).
func (n *names) verdict(name string) bool {
	n.mu.RLock()
	v, ok := n.cache[name]
	n.mu.RUnlock()
	if ok {
		return v
	}
	v = n.match(name)
	n.mu.Lock()
	if len(n.cache) >= nameCacheMax {
		clear(n.cache)
	}
	n.cache[strings.Clone(name)] = v
	n.mu.Unlock()
	return v
}

// match tests name case-insensitively without allocating, except for glob patterns.
func (n *names) match(name string) bool {
	for _, m := range n.m {
		var ok bool
		switch m.kind {
		case 'c':
			ok = indexFold(name, m.s) >= 0
		case 'p':
			ok = len(name) >= len(m.s) && equalFold(name[:len(m.s)], m.s)
		case 's':
			ok = len(name) >= len(m.s) && equalFold(name[len(name)-len(m.s):], m.s)
		case 'e':
			ok = equalFold(name, m.s)
		default:
			ok, _ = path.Match(m.s, strings.ToUpper(name))
		}
		if ok {
			return true
		}
	}
	return false
}

// weakSecret reports whether one part of name is a weak secret word (STRIPE_SK, SLACK_WEBHOOK).
func weakSecret(name string) bool {
	for len(name) > 0 {
		i := strings.IndexAny(name, "_-.")
		part := name
		if i >= 0 {
			part, name = name[:i], name[i+1:]
		} else {
			name = ""
		}
		for _, w := range weakSecretParts {
			if equalFold(part, w) {
				return true
			}
		}
	}
	return false
}

// upper folds an ASCII letter to upper case.
func upper(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

// equalFold compares ASCII case-insensitively.
func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if upper(a[i]) != upper(b[i]) {
			return false
		}
	}
	return true
}

// indexFold finds sub in s, ASCII case-insensitively.
func indexFold(s, sub string) int {
	if len(sub) == 0 {
		return 0
	}
	f := upper(sub[0])
	for i := 0; i+len(sub) <= len(s); i++ {
		if upper(s[i]) == f && equalFold(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}
