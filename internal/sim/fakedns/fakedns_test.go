package fakedns

import (
	"net"
	"testing"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func startServer(t *testing.T, table map[string]Record) (*Server, string) {
	t.Helper()
	s, err := New(table)
	require.NoError(t, err)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	l, err := net.Listen("tcp", pc.LocalAddr().String())
	if err != nil {
		l, err = net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
	}
	s.Serve(pc, l)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s, pc.LocalAddr().String()
}

func ask(t *testing.T, addr, name string, qtype uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	r, err := dns.Exchange(m, addr)
	require.NoError(t, err)
	return r
}

func TestAnswers(t *testing.T) {
	s, addr := startServer(t, map[string]Record{
		"Pool.SupportXMR.com":    {A: []net.IP{net.ParseIP("127.0.0.1")}},
		"xmr.pool.minergate.com": {CNAME: "pool-eu.minergate.com"},
		"pool-eu.minergate.com":  {A: []net.IP{net.ParseIP("127.0.0.2"), net.ParseIP("::1")}},
	})

	r := ask(t, addr, "pool.supportxmr.com", dns.TypeA)
	require.Equal(t, dns.RcodeSuccess, r.Rcode)
	require.Len(t, r.Answer, 1)
	assert.Equal(t, "127.0.0.1", r.Answer[0].(*dns.A).A.String())

	r = ask(t, addr, "xmr.pool.minergate.com", dns.TypeA)
	require.Len(t, r.Answer, 2)
	assert.Equal(t, "pool-eu.minergate.com.", r.Answer[0].(*dns.CNAME).Target)
	assert.Equal(t, "127.0.0.2", r.Answer[1].(*dns.A).A.String())

	r = ask(t, addr, "pool-eu.minergate.com", dns.TypeAAAA)
	require.Len(t, r.Answer, 1)
	assert.Equal(t, "::1", r.Answer[0].(*dns.AAAA).AAAA.String())

	// Anything else is NXDOMAIN: the server never forwards.
	r = ask(t, addr, "example.com", dns.TypeA)
	assert.Equal(t, dns.RcodeNameError, r.Rcode)
	assert.Empty(t, r.Answer)

	assert.Equal(t, []string{"pool.supportxmr.com.", "xmr.pool.minergate.com.", "pool-eu.minergate.com.", "example.com."}, s.Queries())
}

func TestCNAMELoopIsBounded(t *testing.T) {
	_, addr := startServer(t, map[string]Record{"a.test": {CNAME: "b.test"}, "b.test": {CNAME: "a.test"}})
	r := ask(t, addr, "a.test", dns.TypeA)
	assert.Len(t, r.Answer, 8)
}

func TestRefusesNonLoopback(t *testing.T) {
	_, err := New(map[string]Record{"pool.example": {A: []net.IP{net.ParseIP("192.0.2.1")}}})
	assert.ErrorContains(t, err, "not a loopback address")
}
