// Package dnsparse decodes the DNS messages the kernel hands over raw and links answers back to
// whoever asked (by client port and message id). It must not know processes, records or the kernel.
package dnsparse // import "github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/dnsparse"

import (
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"sync"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/net/dns/dnsmessage"
)

// Message is what the receiver reports of one DNS message.
type Message struct {
	ID       uint16
	Response bool
	Name     string // first question, lower case, no trailing dot
	Type     string // A, AAAA, CNAME, TXT, ... or TYPE<n>
	RCode    string // NOERROR, NXDOMAIN, ... (responses only)
	Answers  []string
	CNAMEs   []string
}

const maxRecords = 64 // answers beyond this are not decoded

// ErrNoQuestion is returned for messages without a question section.
var ErrNoQuestion = errors.New("dns message has no question")

// Parse decodes a DNS message. Hostile input yields an error, never a panic.
func Parse(b []byte) (Message, error) {
	var p dnsmessage.Parser
	h, err := p.Start(b)
	if err != nil {
		return Message{}, err
	}
	m := Message{ID: h.ID, Response: h.Response}
	q, err := p.Question()
	if err != nil {
		if errors.Is(err, dnsmessage.ErrSectionDone) {
			return m, ErrNoQuestion
		}
		return m, err
	}
	m.Name = normName(q.Name.String())
	m.Type = typeName(q.Type)
	if !h.Response {
		return m, nil
	}
	m.RCode = rcodeName(h.RCode)
	if err := p.SkipAllQuestions(); err != nil {
		return m, nil
	}
	for i := 0; i < maxRecords; i++ {
		rh, err := p.AnswerHeader()
		if err != nil {
			break
		}
		switch rh.Type {
		case dnsmessage.TypeA:
			r, err := p.AResource()
			if err != nil {
				return m, nil
			}
			m.Answers = append(m.Answers, netip.AddrFrom4(r.A).String())
		case dnsmessage.TypeAAAA:
			r, err := p.AAAAResource()
			if err != nil {
				return m, nil
			}
			m.Answers = append(m.Answers, netip.AddrFrom16(r.AAAA).String())
		case dnsmessage.TypeCNAME:
			r, err := p.CNAMEResource()
			if err != nil {
				return m, nil
			}
			m.CNAMEs = append(m.CNAMEs, normName(r.CNAME.String()))
		default:
			if err := p.SkipAnswer(); err != nil {
				return m, nil
			}
		}
	}
	return m, nil
}

func normName(s string) string {
	return strings.ToLower(strings.TrimSuffix(s, "."))
}

func typeName(t dnsmessage.Type) string {
	s := t.String()
	if rest, ok := strings.CutPrefix(s, "Type"); ok && rest != "" && !strings.ContainsAny(rest[:1], "0123456789") {
		return rest
	}
	return "TYPE" + strconv.Itoa(int(t))
}

var rcodes = map[dnsmessage.RCode]string{
	dnsmessage.RCodeSuccess: "NOERROR", dnsmessage.RCodeFormatError: "FORMERR",
	dnsmessage.RCodeServerFailure: "SERVFAIL", dnsmessage.RCodeNameError: "NXDOMAIN",
	dnsmessage.RCodeNotImplemented: "NOTIMP", dnsmessage.RCodeRefused: "REFUSED",
}

func rcodeName(r dnsmessage.RCode) string {
	if s, ok := rcodes[r]; ok {
		return s
	}
	return "RCODE" + strconv.Itoa(int(r))
}

type key struct {
	port uint16
	id   uint16
}

// Matcher remembers recent queries (bounded) so that an answer can be attributed to the process
// that asked. T is whatever the caller wants back (the asking process).
type Matcher[T any] struct {
	mu      sync.Mutex
	pending *lru.Cache[key, T]
}

// NewMatcher holds at most size outstanding queries.
func NewMatcher[T any](size int) *Matcher[T] {
	c, _ := lru.New[key, T](size)
	return &Matcher[T]{pending: c}
}

// Query records a query sent from client port with message id.
func (m *Matcher[T]) Query(clientPort, id uint16, who T) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pending.Add(key{clientPort, id}, who)
}

// Answer returns who asked the query this answer (to client port, with id) belongs to.
func (m *Matcher[T]) Answer(clientPort, id uint16) (T, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pending.Get(key{clientPort, id})
}
