package stratum

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		in   string
		ok   bool
		host string
		port string
		tls  bool
		ip   bool
	}{
		{"stratum+tcp://pool.example.net:3333", true, "pool.example.net", "3333", false, false},
		{"STRATUM+SSL://pool.example.net:443", true, "pool.example.net", "443", true, false},
		{"stratum+udp://pool.example.net:3333", true, "pool.example.net", "3333", false, false},
		{"stratum1+tcp://pool.example.net:3333", true, "pool.example.net", "3333", false, false},
		{"stratum2+ssl://pool.example.net:3334", true, "pool.example.net", "3334", true, false},
		{"stratums://pool.example.net:3333", true, "pool.example.net", "3333", true, false},
		{"stratum://198.51.100.1:80/path", true, "198.51.100.1", "80", false, true},
		{"stratum+tcp://4wallet.worker:x@pool.example.net:3333", true, "pool.example.net", "3333", false, false},
		{"stratum+tcp://[2001:db8::1]:3333", true, "2001:db8::1", "3333", false, true},
		{"stratum+tcp://pool.example.net", true, "pool.example.net", "", false, false},
		{"stratum+http://pool.example.net:3333", false, "", "", false, false},
		{"stratum+tcp://:3333", false, "", "", false, false},
		{"stratum+tcp://pool.example.net:99999", false, "", "", false, false},
		{"stratum+tcp://bad host:1", false, "", "", false, false},
		{"http://pool.example.net:3333", false, "", "", false, false},
		{"stratum+tcp:/pool", false, "", "", false, false},
	} {
		e, ok := ParseURL(tc.in)
		assert.Equal(t, tc.ok, ok, tc.in)
		if ok {
			assert.Equal(t, tc.host, e.Host, tc.in)
			assert.Equal(t, tc.port, e.Port, tc.in)
			assert.Equal(t, tc.tls, e.TLS, tc.in)
			assert.Equal(t, tc.ip, e.IP, tc.in)
		}
	}
	assert.Equal(t, "4wallet.worker", Login("stratum+tcp://4wallet.worker:x@pool.example.net:3333"))
	assert.Equal(t, "", Login("stratum+tcp://pool.example.net:3333"))
	assert.Equal(t, "[2001:db8::1]:3333", Endpoint{Host: "2001:db8::1", Port: "3333"}.HostPort())
}

func TestParseHostPort(t *testing.T) {
	for in, ok := range map[string]bool{
		"pool.example.net:3333": true, "198.51.100.1:443": true, "localhost:3333": true, "[::1]:3333": true,
		"out.bin": false, "StrictHostKeyChecking=no": false, "user:password": false, "a:b:c": false,
		"1.2.3.4.5:1": true /* a name with digits only labels is rejected below */, "pool:0": false, ":3333": false,
		"rw,noatime": false, "300.1.1.1:1": true,
	} {
		_, got := ParseHostPort(in, true)
		if in == "1.2.3.4.5:1" || in == "300.1.1.1:1" {
			assert.False(t, got, "all-numeric names are not hosts: %s", in)
			continue
		}
		assert.Equal(t, ok, got, in)
	}
}

func TestFindURL(t *testing.T) {
	u, e, ok := FindURL(`{"url": "stratum+tcp://pool.example.net:3333", "user": "x"}`)
	assert.True(t, ok)
	assert.Equal(t, "stratum+tcp://pool.example.net:3333", u)
	assert.Equal(t, "3333", e.Port)
	_, _, ok = FindURL("stratum is a word; stratumfoo://x")
	assert.False(t, ok)
	_, _, ok = FindURL(strings.Repeat("stratum", 100000))
	assert.False(t, ok)
	assert.Equal(t, 2, IndexFold("xSTRATUM", "tratum"))
	assert.Equal(t, -1, IndexFold("\r", "-"))
}

func TestParseMessage(t *testing.T) {
	w := "4" + strings.Repeat("A", 94)
	for _, tc := range []struct {
		in     string
		ok     bool
		method string
		login  string
		agent  string
	}{
		{`{"id":1,"jsonrpc":"2.0","method":"login","params":{"login":"` + w + `","pass":"x","agent":"XMRig/6.21.0"}}`, true, "login", w, "XMRig/6.21.0"},
		{`{"id":1,"method":"login","params":{"login":"` + w + `","pass":"x","agent":"XMRig/6.2`, true, "login", w, "XMRig/6.2"},
		{`{"id":1,"method":"login","params":{"login":"` + w[:50], true, "login", w[:50], ""}, // cut inside a wallet
		{`{"id":1,"method":"login","params":{"login":"alice@example.com-with-a-long-user-name`, false, "", "", ""},
		{`{"id":1,"method":"login","params":{"login":"` + w + `","pass":"x`, true, "login", w, ""},
		{`{"id":1,"jsonrpc":"2.0","method":"login","params":{"agent":"XMRig/6.21.0 (Linux x86_64)","login":"` + w[:60], true, "login", w[:60], "XMRig/6.21.0 (Linux x86_64)"},
		{`{"id":1,"jsonrpc":"2.0","method":"login","params":{"agent":"XMRig/6.2`, true, "login", "", "XMRig/6.2"},
		{`{"id": 1, "method": "mining.subscribe", "params": ["cgminer/4.10"]}`, true, "mining.subscribe", "", "cgminer/4.10"},
		{`{"params": ["u.w", "x"], "id": 2, "method": "mining.authorize"}`, true, "mining.authorize", "u.w", ""},
		{`{"id":1,"method":"eth_submitLogin","params":["0xabc"],"worker":"rig"}`, true, "eth_submitLogin", "0xabc", ""},
		{"\n\n" + `{"id":1,"method":"mining.subscribe","params":[]}`, true, "mining.subscribe", "", ""},
		{`{"method":"login","params":{"user":"bob","password":"x"}}`, false, "", "", ""},
		{`{"jsonrpc":"2.0","method":"eth_call","params":[]}`, false, "", "", ""},
		{`{"method":"login"}`, false, "", "", ""},
		{`GET / HTTP/1.1`, false, "", "", ""},
		{"", false, "", "", ""},
		{`{"method":"mining.subscribe\`, false, "", "", ""},
		{"{\"method\"\x00:\"login\"}", false, "", "", ""},
	} {
		m, ok := ParseMessage(tc.in)
		assert.Equal(t, tc.ok, ok, tc.in)
		if ok {
			assert.Equal(t, tc.method, m.Method, tc.in)
			assert.Equal(t, tc.login, m.Login, tc.in)
			assert.Equal(t, tc.agent, m.Agent, tc.in)
		}
	}
}

func FuzzStratum(f *testing.F) {
	f.Add(`{"id":1,"method":"login","params":{"login":"x","pass":"y"}}`)
	f.Add("stratum+tcp://a.b:1")
	f.Fuzz(func(t *testing.T, s string) {
		ParseMessage(s)
		ParseURL(s)
		ParseHostPort(s, false)
		FindURL(s)
		Login(s)
	})
}

func TestFindURLLinear(t *testing.T) {
	// Hostile repetition must not be quadratic (bounded URL length).
	_, _, ok := FindURL(strings.Repeat("stratum+tcp://", 200000))
	assert.False(t, ok)
	_, _, ok = FindURL(strings.Repeat("stratum+tcp://", 50000) + " stratum+tcp://a.bc:1")
	assert.True(t, ok)
}
