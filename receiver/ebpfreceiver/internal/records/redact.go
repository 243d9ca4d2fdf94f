package records

import (
	"path"
	"strings"
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
	Patterns []string // upper-case glob patterns of secret names
}

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
	up := strings.ToUpper(name)
	for _, p := range r.Patterns {
		if ok, _ := path.Match(strings.ToUpper(p), up); ok {
			return true
		}
	}
	return false
}
