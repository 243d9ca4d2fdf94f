package stratum

import "strings"

// Message is a recognised mining protocol message.
type Message struct {
	Method string // "login", "mining.subscribe", "mining.authorize", "eth_submitLogin", …
	Login  string // params.login / the authorize user / the eth wallet, "" when not (yet) present
	Agent  string // params.agent / the subscribe user agent, "" when absent
	// Truncated is true when the capture ended inside Login (Login is then a prefix).
	Truncated bool
}

// miningMethods are JSON-RPC methods only mining clients send first on a connection.
var miningMethods = map[string]bool{
	"login":                       true, // XMRig / cpuminer-multi CryptoNote stratum (checked further below)
	"mining.subscribe":            true, // stratum v1
	"mining.authorize":            true,
	"mining.extranonce.subscribe": true,
	"mining.configure":            true,
	"mining.hello":                true, // ethereum stratum v2 (EthereumStratum/2.0.0)
	"eth_submitLogin":             true, // eth-proxy
	"eth_submitWork":              true,
	"eth_submitHashrate":          true,
	"eth_getWork":                 true,
}

// ParseMessage recognises the first message(s) of a mining client in a captured payload (bounded,
// possibly truncated JSON, possibly several newline-separated messages). It never allocates for a
// payload that is not JSON-RPC.
func ParseMessage(p string) (Message, bool) {
	for len(p) > 0 {
		line := p
		if nl := strings.IndexByte(p, '\n'); nl >= 0 {
			line, p = p[:nl], p[nl+1:]
		} else {
			p = ""
		}
		if m, ok := parseLine(line); ok {
			return m, true
		}
	}
	return Message{}, false
}

func parseLine(s string) (Message, bool) {
	s = strings.TrimLeft(s, " \t\r")
	if len(s) < 10 || s[0] != '{' {
		return Message{}, false
	}
	method, ok := stringField(s, "method")
	if !ok || !miningMethods[method] {
		return Message{}, false
	}
	m := Message{Method: method}
	params := s
	if i := keyIndex(s, "params"); i >= 0 {
		params = s[i:]
	}
	switch method {
	case "login":
		// A JSON-RPC "login" alone is generic; a mining login carries params.login together with
		// params.pass, params.agent or params.algo, or an agent (captures are cut at a few hundred
		// bytes, and encoders that sort keys put "agent" first, so the login may be cut or missing).
		var complete, hasLogin bool
		m.Login, complete, hasLogin = partialField(params, "login")
		m.Truncated = hasLogin && !complete
		m.Agent, _, _ = partialField(params, "agent")
		_, _, hasPass := partialField(params, "pass")
		switch {
		case m.Agent != "":
		case hasLogin && m.Login != "" && (hasPass || keyIndex(params, "algo") >= 0):
		case m.Truncated && walletPrefix(m.Login):
		default:
			return Message{}, false
		}
	case "mining.subscribe", "mining.authorize", "eth_submitLogin", "mining.hello":
		first, ok := firstArrayString(params)
		if ok {
			if method == "mining.subscribe" || method == "mining.hello" {
				m.Agent = first
			} else {
				m.Login = first
			}
		}
		if w, ok := stringField(s, "worker"); ok && m.Login == "" {
			m.Login = w
		}
	}
	return m, true
}

// keyIndex returns the index just after `"key"` followed by optional blanks and ':', or -1.
func keyIndex(s, key string) int {
	for off := 0; off < len(s); {
		i := strings.Index(s[off:], key)
		if i < 0 {
			return -1
		}
		i += off
		off = i + len(key)
		if i == 0 || s[i-1] != '"' || off >= len(s) || s[off] != '"' {
			continue
		}
		j := off + 1
		for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
			j++
		}
		if j < len(s) && s[j] == ':' {
			j++
			for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
				j++
			}
			return j
		}
	}
	return -1
}

// stringField returns the JSON string value of "key" (escapes kept verbatim; miners do not escape).
func stringField(s, key string) (string, bool) {
	i := keyIndex(s, key)
	if i < 0 || i >= len(s) || s[i] != '"' {
		return "", false
	}
	return readString(s[i:])
}

// partialField is stringField for captures that may end inside the value: it returns the value read
// so far, whether it was complete, and whether the key was present with a string value.
func partialField(s, key string) (val string, complete, found bool) {
	i := keyIndex(s, key)
	if i < 0 || i >= len(s) || s[i] != '"' {
		return "", false, false
	}
	if v, ok := readString(s[i:]); ok {
		return v, true, true
	}
	return s[i+1:], false, true
}

func readString(s string) (string, bool) {
	if len(s) == 0 || s[0] != '"' {
		return "", false
	}
	for j := 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '"':
			return s[1:j], true
		}
	}
	return "", false // truncated inside the string
}

func firstArrayString(s string) (string, bool) {
	i := strings.IndexByte(s, '[')
	if i < 0 {
		return "", false
	}
	j := i + 1
	for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
		j++
	}
	return readString(s[j:])
}

// walletPrefix reports whether a cut login still looks like the start of a wallet: at least 32
// base58 characters, or "0x" and at least 30 hex digits.
func walletPrefix(s string) bool {
	if len(s) >= 32 && (s[0] == '0') && len(s) > 2 && (s[1] == 'x' || s[1] == 'X') {
		for i := 2; i < len(s); i++ {
			c := s[i]
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
		return true
	}
	if len(s) < 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '1' && c <= '9' || c >= 'A' && c <= 'Z' && c != 'I' && c != 'O' || c >= 'a' && c <= 'z' && c != 'l') {
			return false
		}
	}
	return true
}
