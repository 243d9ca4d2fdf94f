package classify

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/evidence"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/stratum"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/wallet"
)

const (
	srcStratumProtocol = "mining protocol message (XMRig login, stratum mining.subscribe/authorize, eth_submitLogin)"
	srcCNAME           = "DNS answer whose CNAME chain names a pool domain"
	srcLearned         = "host of a stratum URL seen on a command line"
	srcIPPool          = "IP literal of a pool URL or miner proxy seen on a command line or miner config"
)

// learn remembers a pool endpoint seen on a command line: IP literals go to the address map (a later
// connect to them is Pool evidence), host names to the learned-host set (DNS for them is).
func (c *Classifier) learn(ep stratum.Endpoint, what string) {
	if ep.IP {
		if a, ok := parseAddr(ep.Host); ok {
			port, _ := strconv.ParseInt(ep.Port, 10, 32)
			c.pdns.Add(a, poolRef{name: strings.Clone(what), source: srcIPPool, port: port})
		}
		return
	}
	if strings.IndexByte(ep.Host, '.') < 0 { // "localhost" and other single labels are nobody's pool name
		return
	}
	host := strings.Clone(strings.ToLower(ep.Host)) // kept: must not pin the argument it came from
	if !c.learned.Contains(host) {
		c.learned.Add(host, struct{}{})
	}
	// Answers already seen for this host (the process resolved it before we learnt it).
	c.recent.answersFor(host, func(a netip.Addr) {
		c.pdns.Add(a, poolRef{name: host, source: srcLearned})
	})
}

// parseAddr parses an IP literal, unmapping IPv4-in-IPv6 and dropping a zone, without allocating.
func parseAddr(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

func endpoint(host string, port int64) string {
	if port <= 0 {
		return host
	}
	if strings.IndexByte(host, ':') >= 0 {
		return "[" + host + "]:" + strconv.FormatInt(port, 10)
	}
	return host + ":" + strconv.FormatInt(port, 10)
}

// connectAddr is parseAddr for connect records, remembering the last result: a host's connects
// mostly repeat the same few peers, and parsing costs more than comparing the text.
func (c *Classifier) connectAddr(s string) (netip.Addr, bool) {
	if s == c.lastAddrText && c.lastAddrSet {
		return c.lastAddr, c.lastAddrOK
	}
	a, ok := parseAddr(s)
	if len(s) <= maxAddrText { // longer is never an address; nothing large is kept
		c.lastAddrText, c.lastAddr, c.lastAddrOK, c.lastAddrSet = s, a, ok, true
	}
	return a, ok
}

// maxAddrText is the longest textual IP address (IPv4-mapped IPv6 with a zone is longer, rare).
const maxAddrText = 64

func (c *Classifier) connect(ev *evidence.Event, o *out) {
	a, okAddr := c.connectAddr(ev.Address)
	if okAddr {
		c.recent.addConn(connEntry{pid: ev.PID, start: ev.Start, addr: a, port: ev.Port, ok: !ev.Failed && ev.Transport != "udp"})
	}
	if c.randomx.Len() > 0 && !ev.Failed && ev.Transport != "udp" && c.randomx.Contains(procKey{ev.PID, ev.Start}) {
		o.add(evidence.Evidence{Group: evidence.Pool, Strength: evidence.Weak, Kind: KindRandomXConn, Indicator: endpoint(ev.Address, ev.Port), Source: srcRandomX, Endpoint: endpoint(ev.Address, ev.Port)})
	}
	if okAddr {
		if ref, ok := c.pdns.Get(a); ok && (ref.port == 0 || ref.port == ev.Port) {
			o.add(evidence.Evidence{Group: evidence.Pool, Strength: evidence.Strong, Kind: KindPoolAddress, Indicator: ev.Address, Source: ref.source + ": " + ref.name, Endpoint: endpoint(poolHost(ref.name, ev.Address), ev.Port)})
			return
		}
	}
	if src, ok := c.set.StratumPort[ev.Port]; ok && ev.Transport != "udp" {
		o.add(evidence.Evidence{Group: evidence.Pool, Strength: evidence.Weak, Kind: KindStratumPort, Indicator: strconv.FormatInt(ev.Port, 10), Source: src, Endpoint: endpoint(ev.Address, ev.Port)})
	}
}

// poolHost names the endpoint to block: the pool domain, or the address for URL/proxy entries.
func poolHost(name, addr string) string {
	if strings.Contains(name, "://") || strings.IndexByte(name, ':') >= 0 {
		return addr
	}
	return name
}

// poolName returns the pool domain (or learned host) name is, or belongs to.
func (c *Classifier) poolName(name string) (string, string, bool) {
	if name == "" {
		return "", "", false
	}
	name = strings.TrimSuffix(name, ".")
	if hasUpper(name) { // the contract says lower case; other agents may not
		name = strings.ToLower(name)
	}
	if d, src, ok := c.listedPool(name); ok {
		return d, src, true
	}
	if c.learned.Len() > 0 && c.learned.Contains(name) {
		return name, srcLearned, true
	}
	return "", "", false
}

// listedPool is set.PoolDomain remembering the last name asked: queries come in runs for one name
// (A then AAAA, retries, the answer after the query), and the suffix walk costs a map lookup per label.
// The list does not change after New, so the remembered answer stays right.
func (c *Classifier) listedPool(name string) (string, string, bool) {
	if c.lastPool.set && name == c.lastPool.name {
		return c.lastPool.domain, c.lastPool.source, c.lastPool.ok
	}
	d, src, ok := c.set.PoolDomain(name)
	if len(name) <= maxDNSName { // longer is no DNS name; nothing large is kept
		c.lastPool = lastPool{name: name, domain: d, source: src, ok: ok, set: true}
	}
	return d, src, ok
}

// maxDNSName is the longest DNS name in text form.
const maxDNSName = 255

type lastPool struct {
	name, domain, source string
	ok, set              bool
}

func (c *Classifier) dnsQuery(ev *evidence.Event, o *out) {
	if d, src, ok := c.poolName(ev.DNSName); ok {
		o.add(evidence.Evidence{Group: evidence.Pool, Strength: evidence.Strong, Kind: KindPoolDomain, Indicator: ev.DNSName, Source: src + " (" + d + ")", Endpoint: ev.DNSName})
	}
}

// dnsAnswer feeds the passive DNS map: when the question or any CNAME in the chain is a pool domain,
// every answered address maps to it.
func (c *Classifier) dnsAnswer(ev *evidence.Event, o *out) {
	for i, a := range ev.DNSAnswers {
		if i == 4 {
			break
		}
		if addr, ok := parseAddr(a); ok {
			c.recent.addAnswer(ev.DNSName, addr)
		}
	}
	d, src, ok := c.poolName(ev.DNSName)
	viaCNAME := false
	if !ok {
		for _, cn := range ev.DNSCNAMEs {
			if d, src, ok = c.poolName(cn); ok {
				viaCNAME = true
				break
			}
		}
	}
	if !ok {
		return
	}
	if viaCNAME {
		src = srcCNAME + "; " + src
	}
	// The endpoint to block is the name the process asked for; the listed domain goes to the source.
	name := strings.ToLower(strings.TrimSuffix(ev.DNSName, "."))
	ref := poolRef{name: strings.Clone(name), source: src + " (" + d + ")"}
	for _, a := range ev.DNSAnswers {
		if addr, ok := parseAddr(a); ok {
			c.pdns.Add(addr, ref)
		}
	}
	o.add(evidence.Evidence{Group: evidence.Pool, Strength: evidence.Strong, Kind: KindPoolDomain, Indicator: ev.DNSName, Source: src + " (" + d + ")", Endpoint: ev.DNSName})
}

// payload recognises a mining client's first message: strong Miner and strong Pool at once.
func (c *Classifier) payload(ev *evidence.Event, o *out) {
	m, ok := stratum.ParseMessage(ev.Payload)
	if !ok {
		return
	}
	w := ""
	ind := m.Method
	if m.Login != "" {
		if addr, k := wallet.Login(m.Login); k != wallet.None {
			w = addr
		} else if m.Truncated {
			ind += " login=" + clip(m.Login, 128) + "… (capture cut)"
		} else {
			w = clip(m.Login, 256)
		}
	}
	if m.Agent != "" {
		ind += " agent=" + clip(m.Agent, 128)
	}
	ep := endpoint(ev.Address, ev.Port)
	o.add(evidence.Evidence{Group: evidence.Miner, Strength: evidence.Strong, Kind: KindStratumLogin, Indicator: ind, Source: srcStratumProtocol, Endpoint: ep, Wallet: w})
	o.add(evidence.Evidence{Group: evidence.Pool, Strength: evidence.Strong, Kind: KindStratumPayload, Indicator: ind, Source: srcStratumProtocol, Endpoint: ep, Wallet: w})
	if a, ok := parseAddr(ev.Address); ok {
		c.pdns.Add(a, poolRef{name: "mining protocol peer " + ep, source: srcStratumProtocol, port: ev.Port})
	}
}

// knownConnections reports, as strong Pool evidence on the current event, the connections the
// process already made to addresses that are now known pool addresses (after learning from a
// config file read back later than the connect).
func (c *Classifier) knownConnections(ev *evidence.Event, o *out) {
	c.recent.connsOf(ev.PID, ev.Start, func(e connEntry) {
		if ref, ok := c.pdns.Peek(e.addr); ok && (ref.port == 0 || ref.port == e.port) {
			addr := e.addr.String()
			o.add(evidence.Evidence{Group: evidence.Pool, Strength: evidence.Strong, Kind: KindPoolAddress, Indicator: addr, Source: ref.source + ": " + ref.name, Endpoint: endpoint(poolHost(ref.name, addr), e.port)})
		}
	})
}
