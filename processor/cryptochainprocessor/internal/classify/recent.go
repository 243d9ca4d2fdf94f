package classify

import "net/netip"

// Recent connects and DNS answers, kept in fixed rings (no allocation on the hot path) so that a
// signal that arrives after the connection — a miner config read back by the receiver, RandomX
// behaviour seen after seconds of hashing — can still name the pool the process already reached.
const ringSize = 1024

type connEntry struct {
	pid   int64
	start string
	addr  netip.Addr
	port  int64
	ok    bool
}

type dnsEntry struct {
	name string
	addr netip.Addr
}

type rings struct {
	conns  [ringSize]connEntry
	connN  int
	answer [ringSize]dnsEntry
	dnsN   int
}

func (r *rings) addConn(e connEntry) {
	r.conns[r.connN%ringSize] = e
	r.connN++
}

func (r *rings) addAnswer(name string, a netip.Addr) {
	r.answer[r.dnsN%ringSize] = dnsEntry{name: name, addr: a}
	r.dnsN++
}

// connsOf calls fn for the remembered successful or pending connects of one process.
func (r *rings) connsOf(pid int64, start string, fn func(connEntry)) {
	n := min(r.connN, ringSize)
	for i := 0; i < n; i++ {
		e := &r.conns[i]
		if e.pid == pid && e.ok && (start == "" || e.start == "" || e.start == start) {
			fn(*e)
		}
	}
}

// answersFor calls fn for remembered addresses answered for name.
func (r *rings) answersFor(name string, fn func(netip.Addr)) {
	n := min(r.dnsN, ringSize)
	for i := 0; i < n; i++ {
		if r.answer[i].name == name {
			fn(r.answer[i].addr)
		}
	}
}
