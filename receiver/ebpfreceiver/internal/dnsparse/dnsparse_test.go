package dnsparse

import (
	"net/netip"
	"testing"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func pack(t *testing.T, m *dns.Msg) []byte {
	b, err := m.Pack()
	require.NoError(t, err)
	return b
}

func TestParseQueryAndAnswer(t *testing.T) {
	q := new(dns.Msg)
	q.SetQuestion("Pool.Example.TEST.", dns.TypeA)
	q.Id = 4242
	m, err := Parse(pack(t, q))
	require.NoError(t, err)
	assert.Equal(t, Message{ID: 4242, Name: "pool.example.test", Type: "A"}, m)

	r := new(dns.Msg)
	r.SetReply(q)
	r.Answer = append(r.Answer,
		&dns.CNAME{Hdr: dns.RR_Header{Name: "pool.example.test.", Rrtype: dns.TypeCNAME, Class: dns.ClassINET, Ttl: 60}, Target: "edge.cdn.test."},
		&dns.A{Hdr: dns.RR_Header{Name: "edge.cdn.test.", Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: netip.MustParseAddr("10.1.2.3").AsSlice()},
		&dns.AAAA{Hdr: dns.RR_Header{Name: "edge.cdn.test.", Rrtype: dns.TypeAAAA, Class: dns.ClassINET, Ttl: 60}, AAAA: netip.MustParseAddr("fd00::1").AsSlice()},
		&dns.TXT{Hdr: dns.RR_Header{Name: "edge.cdn.test.", Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60}, Txt: []string{"x"}},
	)
	m, err = Parse(pack(t, r))
	require.NoError(t, err)
	assert.True(t, m.Response)
	assert.Equal(t, "NOERROR", m.RCode)
	assert.Equal(t, []string{"10.1.2.3", "fd00::1"}, m.Answers)
	assert.Equal(t, []string{"edge.cdn.test"}, m.CNAMEs)

	nx := new(dns.Msg)
	nx.SetRcode(q, dns.RcodeNameError)
	m, err = Parse(pack(t, nx))
	require.NoError(t, err)
	assert.Equal(t, "NXDOMAIN", m.RCode)

	q.SetQuestion("x.test.", 65) // HTTPS
	m, err = Parse(pack(t, q))
	require.NoError(t, err)
	assert.Equal(t, "HTTPS", m.Type)
	q.SetQuestion("x.test.", 4000)
	m, _ = Parse(pack(t, q))
	assert.Equal(t, "TYPE4000", m.Type)
}

func TestParseHostile(t *testing.T) {
	for _, b := range [][]byte{nil, {1}, make([]byte, 12), {0, 1, 0x81, 0x80, 0, 1, 0, 5, 0, 0, 0, 0, 0xc0, 0x0c}} {
		_, err := Parse(b)
		assert.Error(t, err)
	}
	// Truncated answer section: the question is still reported.
	q := new(dns.Msg)
	q.SetQuestion("a.test.", dns.TypeA)
	r := new(dns.Msg)
	r.SetReply(q)
	r.Answer = append(r.Answer, &dns.A{Hdr: dns.RR_Header{Name: "a.test.", Rrtype: dns.TypeA, Class: dns.ClassINET}, A: []byte{1, 2, 3, 4}})
	b := pack(t, r)
	m, err := Parse(b[:len(b)-2])
	require.NoError(t, err)
	assert.Equal(t, "a.test", m.Name)
	assert.Empty(t, m.Answers)
}

func FuzzParse(f *testing.F) {
	q := new(dns.Msg)
	q.SetQuestion("a.test.", dns.TypeA)
	b, _ := q.Pack()
	f.Add(b)
	f.Fuzz(func(_ *testing.T, b []byte) { _, _ = Parse(b) })
}

func TestMatcher(t *testing.T) {
	m := NewMatcher[uint32](2)
	m.Query(5353, 1, 100)
	m.Query(5354, 1, 101)
	who, ok := m.Answer(5353, 1)
	require.True(t, ok)
	assert.Equal(t, uint32(100), who)
	_, ok = m.Answer(5353, 2)
	assert.False(t, ok)
	m.Query(5355, 1, 102)
	m.Query(5356, 1, 103)
	_, ok = m.Answer(5354, 1)
	assert.False(t, ok, "bounded: oldest forgotten")
}
