// Package redact holds the rules that take secrets out of what cryptochain exports: credential
// flags in argv, URL userinfo and credential query parameters, environment values by name and by
// shape, well-known token formats, HTTP credential headers, the password of a mining login, and
// secret assignments in file content and cron lines. A redacted value keeps its shape
// (`-u admin:[REDACTED]`, `postgres://app:[REDACTED]@db:5432/prod`) so indicators survive: wallet
// addresses and pool host:port are never redacted.
//
// It works on plain strings: it must not know pdata, the Collector, events or detection logic.
package redact // import "github.com/cryptochain-otel/cryptochain/internal/redact"
