package redact

import "strings"

// miningMethods are the JSON-RPC methods a mining client sends (stratum, CryptoNote stratum,
// eth-proxy, getwork).
var miningMethods = []string{"login", "submit", "keepalived", "getjob", "eth_submitLogin", "eth_submitWork",
	"eth_submitHashrate", "eth_getWork", "getwork", "getblocktemplate", "submitblock"}

// Mining reports whether a captured payload head carries a mining protocol message: a JSON-RPC
// line (possibly the body of an HTTP request) whose method is a mining method.
func Mining(p string) bool {
	for from := 0; ; {
		i := strings.Index(p[from:], `"method"`)
		if i < 0 {
			return false
		}
		i += from + len(`"method"`)
		from = i
		for i < len(p) && (p[i] == ' ' || p[i] == '\t' || p[i] == ':') {
			i++
		}
		if i >= len(p) || p[i] != '"' {
			continue
		}
		m := p[i+1:]
		if q := strings.IndexByte(m, '"'); q >= 0 {
			m = m[:q]
		} else {
			continue
		}
		if strings.HasPrefix(m, "mining.") || oneOf(m, miningMethods) {
			return true
		}
	}
}

// Payload returns the payload head to export: "" and false when it is not a mining protocol
// message (payload_filter), else the head with the password and credential headers redacted.
func (r *Redactor) Payload(p string) (string, bool) {
	if r.on(RulePayloadFilter) && !Mining(p) {
		return "", false
	}
	var e edits
	r.scan(p, false, &e)
	if r.on(RuleMiningPass) {
		arrayPass(p, &e)
	}
	if len(e) == 0 {
		return p, true
	}
	return e.apply(p), true
}

// arrayPass redacts the second string of "params": [user, password] (mining.authorize,
// eth_submitLogin); a cut capture is redacted to its end.
func arrayPass(p string, e *edits) {
	for from := 0; ; {
		i := strings.Index(p[from:], `"params"`)
		if i < 0 {
			return
		}
		i += from + len(`"params"`)
		from = i
		for i < len(p) && (p[i] == ' ' || p[i] == ':' || p[i] == '\t') {
			i++
		}
		if i >= len(p) || p[i] != '[' {
			continue
		}
		_, end := valueSpan(p, skipBlank(p, i+1), false, true)
		if end >= len(p) || p[skipBlank(p, i+1)] != '"' {
			continue
		}
		j := skipBlank(p, end+1)
		if j >= len(p) || p[j] != ',' {
			continue
		}
		j = skipBlank(p, j+1)
		if j < len(p) && p[j] == '"' {
			lo, hi := valueSpan(p, j, false, true)
			e.add(lo, hi)
		}
	}
}

func skipBlank(p string, i int) int {
	for i < len(p) && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r') {
		i++
	}
	return i
}
