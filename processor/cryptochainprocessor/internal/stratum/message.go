package stratum

import "strings"

// Message is a recognised mining protocol message.
type Message struct {
	Method string // "login", "mining.subscribe", "mining.authorize", "eth_submitLogin", …
	Login  string // params.login / the authorize user / the eth wallet, "" when not (yet) present
	Agent  string // params.agent / the subscribe user agent, "" when absent
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
		// params.pass, params.agent or params.algo.
		m.Login, _ = stringField(params, "login")
		m.Agent, _ = stringField(params, "agent")
		_, hasPass := stringField(params, "pass")
		if m.Login == "" || (m.Agent == "" && !hasPass && keyIndex(params, "algo") < 0) {
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
