// Package stratum recognises pool endpoints (stratum URLs, host:port) and a miner's first protocol messages.
// It must not know evidence, strengths or indicator lists.
package stratum // import "github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/stratum"

import "strings"

// Endpoint is a parsed pool endpoint.
type Endpoint struct {
	Scheme string // "stratum+tcp", "" for a bare host:port
	Host   string // host name or IP literal (IPv6 without brackets)
	Port   string // decimal port, "" when absent
	TLS    bool   // the scheme asks for TLS (stratum+ssl, stratums, …)
	IP     bool   // Host is an IP literal
}

// HostPort returns "host:port" ("[v6]:port"), or the host when there is no port.
func (e Endpoint) HostPort() string {
	h := e.Host
	if strings.IndexByte(h, ':') >= 0 {
		h = "[" + h + "]"
	}
	if e.Port == "" {
		return h
	}
	return h + ":" + e.Port
}

// schemeOK reports whether s (lower or mixed case, without "://") is a mining scheme.
func schemeOK(s string) (ok, tls bool) {
	if len(s) < 7 || len(s) > 24 || !strings.EqualFold(s[:7], "stratum") {
		return false, false
	}
	rest := s[7:]
	if len(rest) > 0 && (rest[0] == '1' || rest[0] == '2') { // stratum1+tcp, stratum2+ssl
		rest = rest[1:]
	}
	switch {
	case rest == "":
		return true, false
	case strings.EqualFold(rest, "s"):
		return true, true
	case len(rest) > 1 && rest[0] == '+':
		t := rest[1:]
		switch {
		case strings.EqualFold(t, "tcp"), strings.EqualFold(t, "udp"):
			return true, false
		case strings.EqualFold(t, "ssl"), strings.EqualFold(t, "tls"):
			return true, true
		}
	}
	return false, false
}

// ParseURL parses "stratum+tcp://host:port[/path]" (any mining scheme). Credentials before '@'
// ("stratum+tcp://wallet.worker:x@host:port") are skipped; Login returns them.
func ParseURL(s string) (Endpoint, bool) {
	i := strings.Index(s, "://")
	if i < 0 {
		return Endpoint{}, false
	}
	ok, tls := schemeOK(s[:i])
	if !ok {
		return Endpoint{}, false
	}
	e, ok := ParseHostPort(authority(s[i+3:]), false)
	if !ok {
		return Endpoint{}, false
	}
	e.Scheme, e.TLS = s[:i], tls
	return e, true
}

// Login returns the credentials part of a URL with embedded user info, or "".
func Login(s string) string {
	i := strings.Index(s, "://")
	if i < 0 {
		return ""
	}
	rest := s[i+3:]
	end := strings.IndexAny(rest, "/?#")
	if end >= 0 {
		rest = rest[:end]
	}
	at := strings.LastIndexByte(rest, '@')
	if at < 0 {
		return ""
	}
	u := rest[:at]
	if c := strings.IndexByte(u, ':'); c >= 0 {
		u = u[:c]
	}
	return u
}

func authority(s string) string {
	if end := strings.IndexAny(s, "/?#"); end >= 0 {
		s = s[:end]
	}
	if at := strings.LastIndexByte(s, '@'); at >= 0 {
		s = s[at+1:]
	}
	return s
}

// ParseHostPort parses "host:port" or "[v6]:port". With needPort, a port is required. The host must be
// a plausible DNS name or IP literal and the port 1–65535, so "key=value", file names and
// "user:password" are rejected.
func ParseHostPort(s string, needPort bool) (Endpoint, bool) {
	if s == "" || len(s) > 260 {
		return Endpoint{}, false
	}
	var host, port string
	if s[0] == '[' {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return Endpoint{}, false
		}
		host = s[1:end]
		rest := s[end+1:]
		if rest != "" {
			if rest[0] != ':' {
				return Endpoint{}, false
			}
			port = rest[1:]
		}
		if !isIPv6(host) {
			return Endpoint{}, false
		}
		if (needPort && port == "") || (port != "" && !validPort(port)) {
			return Endpoint{}, false
		}
		return Endpoint{Host: host, Port: port, IP: true}, true
	}
	if c := strings.LastIndexByte(s, ':'); c >= 0 {
		host, port = s[:c], s[c+1:]
		if strings.IndexByte(host, ':') >= 0 { // bare IPv6 without brackets: no port
			if isIPv6(s) && !needPort {
				return Endpoint{Host: s, IP: true}, true
			}
			return Endpoint{}, false
		}
		if !validPort(port) {
			return Endpoint{}, false
		}
	} else {
		if needPort {
			return Endpoint{}, false
		}
		host = s
	}
	if isIPv4(host) {
		return Endpoint{Host: host, Port: port, IP: true}, true
	}
	if !isHostname(host) {
		return Endpoint{}, false
	}
	return Endpoint{Host: host, Port: port}, true
}

func validPort(p string) bool {
	if len(p) == 0 || len(p) > 5 {
		return false
	}
	n := 0
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
		n = n*10 + int(p[i]-'0')
	}
	return n > 0 && n <= 65535
}

func isIPv4(s string) bool {
	parts, n, digits := 0, 0, 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			if digits == 0 || n > 255 {
				return false
			}
			parts++
			n, digits = 0, 0
			continue
		}
		if s[i] < '0' || s[i] > '9' || digits == 3 {
			return false
		}
		n = n*10 + int(s[i]-'0')
		digits++
	}
	return parts == 4
}

func isIPv6(s string) bool {
	if len(s) < 2 || len(s) > 45 || strings.Count(s, ":") < 2 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == ':' || c == '.') {
			return false
		}
	}
	return true
}

// isHostname accepts DNS names with at least one dot (or "localhost"), labels of letters, digits,
// '-' and '_', not all-numeric.
func isHostname(s string) bool {
	if len(s) == 0 || len(s) > 253 {
		return false
	}
	if s == "localhost" {
		return true
	}
	dots, label, alpha := 0, 0, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			if label == 0 {
				return false
			}
			dots++
			label = 0
			continue
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
			alpha = true
		case c >= '0' && c <= '9', c == '-', c == '_':
		default:
			return false
		}
		label++
		if label > 63 {
			return false
		}
	}
	return dots >= 1 && label > 0 && alpha
}

// FindURL returns the first stratum URL inside arbitrary text (an environment value, a script, a
// decoded base64 blob), or false. Without the letters "tratum" it costs one byte scan.
func FindURL(s string) (string, Endpoint, bool) {
	for off := 0; off < len(s); {
		i := indexFold(s[off:], "stratum")
		if i < 0 {
			return "", Endpoint{}, false
		}
		start := off + i
		off = start + 7
		sep := strings.Index(s[start:min(len(s), start+maxScheme)], "://")
		if sep < 0 {
			continue
		}
		if ok, _ := schemeOK(s[start : start+sep]); !ok {
			continue
		}
		end := start
		for end < len(s) && end-start < maxURL && urlChar(s[end]) {
			end++
		}
		if e, ok := ParseURL(s[start:end]); ok {
			return s[start:end], e, true
		}
	}
	return "", Endpoint{}, false
}

// Bounds that keep FindURL linear on hostile text.
const (
	maxScheme = 16 + 3
	maxURL    = 512
)

func urlChar(c byte) bool {
	return c > ' ' && c < 0x7f && c != '"' && c != '\'' && c != ',' && c != ';' && c != '<' && c != '>' && c != '\\' && c != '`'
}

// indexFold is strings.Index for an ASCII lower-case needle, case-insensitive, without allocating.
func indexFold(s, needle string) int {
	n := len(needle)
	first := needle[0]
	for i := 0; i+n <= len(s); i++ {
		if lower(s[i]) != first {
			continue
		}
		j := 1
		for ; j < n; j++ {
			if lower(s[i+j]) != needle[j] {
				break
			}
		}
		if j == n {
			return i
		}
	}
	return -1
}

// IndexFold is the exported case-insensitive search for an ASCII lower-case needle.
func IndexFold(s, needle string) int {
	if needle == "" {
		return 0
	}
	return indexFold(s, needle)
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
