package redact

import "strings"

// credentialHeaders are HTTP headers whose value is a credential. For the first two the auth
// scheme word (Basic, Bearer, …) is kept.
var credentialHeaders = []string{"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api-key",
	"apikey", "x-auth-token", "x-access-token", "private-token", "job-token", "x-vault-token", "x-amz-security-token",
	"x-goog-api-key", "x-csrf-token", "x-xsrf-token", "x-registry-auth"}

// miningPassKeys are the password keys of a mining login and a miner config file.
var miningPassKeys = []string{"pass", "password", "passwd"}

// credentialParams are URL query parameter names whose value is a credential (besides secret names).
var credentialParams = []string{"token", "access_token", "refresh_token", "id_token", "auth", "apikey", "api_key", "key",
	"password", "passwd", "pass", "pwd", "secret", "client_secret", "sig", "signature", "x-amz-signature",
	"x-amz-credential", "x-amz-security-token", "sessionid", "session", "jwt", "code", "private_token"}

func isNameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.'
}

func oneOf(s string, list []string) bool {
	for _, w := range list {
		if equalFold(s, w) {
			return true
		}
	}
	return false
}

// urls redacts the password of URL userinfo and credential query parameters.
func (r *Redactor) urls(s string, e *edits) {
	userinfo, query := r.on(RuleURLUserinfo), r.on(RuleURLQuery)
	for from := 0; ; {
		i := strings.Index(s[from:], "://")
		if i < 0 {
			return
		}
		i += from
		sch := i
		for sch > 0 && (isNameByte(s[sch-1]) || s[sch-1] == '+') {
			sch--
		}
		scheme := s[sch:i]
		a := i + 3
		end := a
		for end < len(s) && !strings.ContainsRune(" \t\r\n\"'<>`", rune(s[end])) {
			end++
		}
		from = end
		if end == a {
			continue
		}
		u := s[a:end]
		auth := u
		if k := strings.IndexAny(u, "/?#"); k >= 0 {
			auth = u[:k]
		}
		if at := strings.LastIndexByte(auth, '@'); at > 0 && userinfo {
			ui := auth[:at]
			if c := strings.IndexByte(ui, ':'); c >= 0 {
				e.add(a+c+1, a+at)
			} else if !strings.HasPrefix(strings.ToLower(scheme), "stratum") && len(ui) >= 16 && randomLooking(ui) {
				e.add(a, a+at) // a bare token as user (https://TOKEN@host); a wallet as user stays
			}
		}
		if q := strings.IndexByte(u, '?'); q >= 0 && query {
			r.query(s, a+q+1, end, e)
		}
	}
}

// query redacts credential parameters in s[lo:hi] (name=value&…).
func (r *Redactor) query(s string, lo, hi int, e *edits) {
	for lo < hi {
		amp := strings.IndexAny(s[lo:hi], "&#;")
		next := hi
		if amp >= 0 {
			next = lo + amp
		}
		if eq := strings.IndexByte(s[lo:next], '='); eq > 0 {
			name := s[lo : lo+eq]
			if oneOf(name, credentialParams) || r.names.match(name) {
				e.add(lo+eq+1, next)
			}
		}
		if next < hi && s[next] == '#' {
			return
		}
		lo = next + 1
	}
}

// pairs redacts the values of `name: value`, `"name": "value"` and `NAME=value` when the name is a
// credential header, a mining password key or a secret name.
func (r *Redactor) pairs(s string, argMode bool, e *edits) {
	headers, assign, mining := r.on(RuleHTTPHeaders), r.on(RuleAssignments), r.on(RuleMiningPass)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != ':' && c != '=' {
			continue
		}
		// the name before the separator, possibly quoted
		end, quoted := i, false
		for end > 0 && (s[end-1] == ' ' || s[end-1] == '\t') && c == ':' {
			end--
		}
		if end > 0 && (s[end-1] == '"' || s[end-1] == '\'') {
			quoted = true
			end--
		}
		start := end
		for start > 0 && isNameByte(s[start-1]) {
			start--
		}
		if start == end {
			continue
		}
		name := s[start:end]
		if quoted && (start == 0 || s[start-1] != s[end]) {
			quoted = false
			if end != i {
				continue
			}
		}
		v := i + 1
		if c == '=' {
			if v < len(s) && s[v] == '=' || i > 0 && strings.IndexByte("=!<>", s[i-1]) >= 0 {
				i = v
				continue
			}
			if name[0] == '-' || !assign || !r.names.match(name) {
				continue
			}
			lo, hi := valueSpan(s, v, argMode, false)
			if start > 0 && (s[start-1] == '?' || s[start-1] == '&') { // a query parameter ends at & or #
				if k := strings.IndexAny(s[lo:hi], "&#"); k >= 0 {
					hi = lo + k
				}
			}
			if lo < hi && strings.IndexByte("/$~", s[lo]) < 0 {
				e.add(lo, hi)
				i = max(i, hi-1) // what is inside a redacted value does not matter (and is not rescanned)
			}
			continue
		}
		if v < len(s) && s[v] == '/' {
			continue // scheme://, path:/x
		}
		if headers && oneOf(name, credentialHeaders) {
			for v < len(s) && (s[v] == ' ' || s[v] == '\t') {
				v++
			}
			hi := v
			for hi < len(s) && s[hi] != '\n' && s[hi] != '\r' && (argMode || (s[hi] != '"' && s[hi] != '\'')) {
				hi++
			}
			if equalFold(name, "authorization") || equalFold(name, "proxy-authorization") {
				if sp := strings.IndexByte(s[v:hi], ' '); sp > 0 && sp < 24 {
					v += sp + 1
				}
			}
			e.add(v, hi)
			i = max(i, hi-1)
			continue
		}
		// key: value needs a quoted key or a blank after the colon (YAML, JSON, headers)
		if !quoted && (v >= len(s) || (s[v] != ' ' && s[v] != '\t')) {
			continue
		}
		if !(mining && oneOf(name, miningPassKeys)) && !(assign && r.names.match(name)) {
			continue
		}
		for v < len(s) && (s[v] == ' ' || s[v] == '\t') {
			v++
		}
		lo, hi := valueSpan(s, v, false, quoted)
		if lo < hi && !(s[lo] == '[' || s[lo] == '{') {
			e.add(lo, hi)
			i = max(i, hi-1)
		}
	}
}

// valueSpan returns the value starting at v: the inside of a quoted value (to the closing quote
// or the end), or a bare run to the end of the argument (argMode), of the line, or of a JSON value.
func valueSpan(s string, v int, argMode, json bool) (lo, hi int) {
	if v >= len(s) {
		return v, v
	}
	if q := s[v]; q == '"' || q == '\'' {
		for hi = v + 1; hi < len(s); hi++ {
			if s[hi] == '\\' && q == '"' {
				hi++
				continue
			}
			if s[hi] == q {
				break
			}
		}
		return v + 1, min(hi, len(s))
	}
	if argMode {
		return v, len(s)
	}
	for hi = v; hi < len(s); hi++ {
		c := s[hi]
		if c == '\n' || c == '\r' || (c == ' ' || c == '\t' || c == '"' || c == '\'' || c == ';' || c == '&') && !json ||
			json && (c == ',' || c == '}' || c == ' ') {
			break
		}
	}
	return v, hi
}
