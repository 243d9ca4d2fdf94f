package fakepool

import (
	"bufio"
	"crypto/tls"
	"encoding/json"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoginAndJob(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := Serve(l)
	defer func() { require.NoError(t, p.Close()) }()

	c, err := net.Dial("tcp", p.Addr().String())
	require.NoError(t, err)
	defer c.Close()
	rd := bufio.NewReader(c)
	send := func(s string) map[string]any {
		_, err := c.Write([]byte(s + "\n"))
		require.NoError(t, err)
		line, err := rd.ReadBytes('\n')
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, json.Unmarshal(line, &m))
		return m
	}

	r := send(`{"id":1,"jsonrpc":"2.0","method":"login","params":{"login":"44wallet","pass":"x","agent":"XMRig/6.21.0"}}`)
	res := r["result"].(map[string]any)
	assert.Equal(t, "OK", res["status"])
	assert.Equal(t, "rx/0", res["job"].(map[string]any)["algo"])

	r = send(`{"id":2,"method":"mining.authorize","params":["worker.1","x"]}`)
	assert.Equal(t, true, r["result"])

	r = send(`{"id":3,"method":"nope"}`)
	assert.NotNil(t, r["error"])

	assert.Equal(t, []Login{{Wallet: "44wallet", Agent: "XMRig/6.21.0", Method: "login"}, {Wallet: "worker.1", Method: "mining.authorize"}}, p.Logins())
}

func TestGarbageClosesConnection(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := Serve(l)
	defer func() { require.NoError(t, p.Close()) }()
	c, err := net.Dial("tcp", p.Addr().String())
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Write([]byte("\x16\x03\x01 not json\n"))
	require.NoError(t, err)
	line, err := bufio.NewReader(c).ReadBytes('\n')
	require.NoError(t, err)
	assert.Contains(t, string(line), "parse error")
	assert.Empty(t, p.Logins())
}

func TestTLSLogin(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	l, err := TLSListener(raw)
	require.NoError(t, err)
	p := Serve(l)
	defer func() { require.NoError(t, p.Close()) }()
	c, err := tls.Dial("tcp", raw.Addr().String(), &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // test of a throw-away cert
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Write([]byte(`{"id":1,"method":"login","params":{"login":"tlswallet"}}` + "\n"))
	require.NoError(t, err)
	line, err := bufio.NewReader(c).ReadBytes('\n')
	require.NoError(t, err)
	assert.Contains(t, string(line), `"status":"OK"`)
	assert.Equal(t, "tlswallet", p.Logins()[0].Wallet)
}
