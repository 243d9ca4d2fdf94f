package records

import "github.com/cryptochain-otel/cryptochain/internal/redact"

// Redacted replaces a secret value.
const Redacted = redact.Mark

// Env value policies (mirrors the receiver config).
const (
	EnvValuesNonSecret = redact.EnvValuesNonSecret
	EnvValuesNone      = redact.EnvValuesNone
	EnvValuesAll       = redact.EnvValuesAll
)
