// Package fakedns holds an authoritative-only DNS server that answers given names with loopback
// addresses (directly or through a CNAME); it must not know real resolvers and never forwards.
package fakedns // import "github.com/cryptochain-otel/cryptochain/internal/sim/fakedns"

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// Record is what one name resolves to: either loopback addresses or a CNAME.
type Record struct {
	A     []net.IP
	CNAME string
}

// Server answers questions from a fixed table.
type Server struct {
	mu      sync.Mutex
	table   map[string]Record
	queries []string
	servers []*dns.Server
	wg      sync.WaitGroup
}

// New returns a server for table; names are matched case-insensitively.
// Every A address must be a loopback address: the server cannot point a
// client anywhere else.
func New(table map[string]Record) (*Server, error) {
	t := make(map[string]Record, len(table))
	for name, r := range table {
		for _, ip := range r.A {
			if !ip.IsLoopback() {
				return nil, fmt.Errorf("fakedns: %s -> %s is not a loopback address", name, ip)
			}
		}
		if r.CNAME != "" {
			r.CNAME = dns.Fqdn(strings.ToLower(r.CNAME))
		}
		t[dns.Fqdn(strings.ToLower(name))] = r
	}
	return &Server{table: t}, nil
}

// Queries returns the names asked so far, lower case, fully qualified.
func (s *Server) Queries() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.queries...)
}

// Serve answers on pc (UDP) and l (TCP) until Close. Either may be nil.
func (s *Server) Serve(pc net.PacketConn, l net.Listener) {
	h := dns.HandlerFunc(s.answer)
	if pc != nil {
		srv := &dns.Server{PacketConn: pc, Handler: h}
		s.start(srv)
	}
	if l != nil {
		srv := &dns.Server{Listener: l, Handler: h}
		s.start(srv)
	}
}

func (s *Server) start(srv *dns.Server) {
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	s.mu.Lock()
	s.servers = append(s.servers, srv)
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = srv.ActivateAndServe()
	}()
	<-started
}

// Close stops the server and waits for its goroutines.
func (s *Server) Close() error {
	s.mu.Lock()
	servers := s.servers
	s.servers = nil
	s.mu.Unlock()
	var errs []error
	for _, srv := range servers {
		errs = append(errs, srv.Shutdown())
	}
	s.wg.Wait()
	return errors.Join(errs...)
}

func (s *Server) answer(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	if len(req.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		_ = w.WriteMsg(m)
		return
	}
	q := req.Question[0]
	name := strings.ToLower(q.Name)
	s.mu.Lock()
	s.queries = append(s.queries, name)
	s.mu.Unlock()
	found := false
	// Follow CNAMEs inside the table (bounded, so a loop cannot spin).
	for range 8 {
		r, ok := s.table[name]
		if !ok {
			break
		}
		found = true
		if r.CNAME != "" {
			m.Answer = append(m.Answer, &dns.CNAME{Hdr: hdr(name, dns.TypeCNAME), Target: r.CNAME})
			name = r.CNAME
			continue
		}
		if q.Qtype == dns.TypeA || q.Qtype == dns.TypeANY {
			for _, ip := range r.A {
				if v4 := ip.To4(); v4 != nil {
					m.Answer = append(m.Answer, &dns.A{Hdr: hdr(name, dns.TypeA), A: v4})
				}
			}
		}
		if q.Qtype == dns.TypeAAAA || q.Qtype == dns.TypeANY {
			for _, ip := range r.A {
				if ip.To4() == nil {
					m.Answer = append(m.Answer, &dns.AAAA{Hdr: hdr(name, dns.TypeAAAA), AAAA: ip})
				}
			}
		}
		break
	}
	if !found {
		m.Rcode = dns.RcodeNameError
	}
	_ = w.WriteMsg(m)
}

func hdr(name string, t uint16) dns.RR_Header {
	return dns.RR_Header{Name: name, Rrtype: t, Class: dns.ClassINET, Ttl: 60}
}
