package classify

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/argv"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/evidence"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/stratum"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/wallet"
)

// Sources of structural (not list-based) Miner indicators.
const (
	srcStratumScheme = "stratum URL scheme (pool syntax of XMRig, cpuminer, ethminer and forks)"
	srcHostPort      = "host:port given to a miner pool option (-o/--url)"
	srcWallet        = "wallet address format and checksum (Monero base58+Keccak, Bitcoin, Ethereum)"
	srcBase64        = "base64-encoded miner arguments"
)

// Options that take a value, for getopt-style parsing of any program's argv.
var valueShort = [256]bool{'o': true, 'u': true, 'p': true, 'a': true, 'c': true, 'x': true, 't': true, 'O': true, 'P': true, 'w': true}

var valueLong = map[string]bool{
	"url": true, "user": true, "pass": true, "algo": true, "algorithm": true, "config": true, "proxy": true,
	"wallet": true, "userpass": true, "pool": true, "server": true, "login": true, "worker": true,
	"password": true, "threads": true, "log-file": true, "port": true, "api-worker-id": true,
	"http-host": true, "http-port": true, "http-access-token": true, "address": true,
}

// Option roles.
func isPoolOpt(name string, long bool) bool {
	if long {
		return name == "url" || name == "pool" || name == "server"
	}
	return name == "o" || name == "P"
}

func isUserOpt(name string, long bool) bool {
	if long {
		return name == "user" || name == "wallet" || name == "login" || name == "userpass" || name == "start-mining" || name == "address"
	}
	return name == "u" || name == "O" || name == "w"
}

func isAlgoOpt(name string, long bool) bool {
	if long {
		return name == "algo" || name == "algorithm"
	}
	return name == "a"
}

func isProxyOpt(name string, long bool) bool {
	if long {
		return name == "proxy" || name == "socks5"
	}
	return name == "x"
}

func (c *Classifier) takes(name string, long bool) bool {
	if !long {
		return len(name) == 1 && valueShort[name[0]]
	}
	if valueLong[name] {
		return true
	}
	fi, ok := c.set.MinerFlags[name]
	return ok && fi.TakesValue
}

// argState gathers what one command line says before strengths are decided.
type argState struct {
	urls       int
	endpoint   string // bare host:port after a pool option
	knownPool  bool   // the bare endpoint's host is a listed pool domain
	walletFlag bool
	walletPos  string
	walletKind wallet.Kind
	algo       string
	algoSrc    string
	flags      int
	flag1      string
	flagSrc    string
	kFlag      bool
	proxy      string
}

// minerArgs grades the argv of a program with no special role: pool URLs and endpoints, wallets,
// algorithms, miner flags and proxies, each strong or weak by what else the command line says.
// monero marks the Monero node and wallet tools, whose bare Monero addresses are their own business.
func (c *Classifier) minerArgs(args []string, minerName, monero bool, o *out) {
	var st argState
	argv.Parse(args, c.takes, func(op argv.Opt) bool {
		c.option(op, &st, o)
		return true
	})
	if st.kFlag && (st.endpoint != "" || st.urls > 0) {
		st.flags++
		if st.flag1 == "" {
			st.flag1 = "-k"
		}
	}
	ctx := st.urls > 0 || st.walletFlag || st.flags > 0 || minerName || st.knownPool
	if st.endpoint != "" {
		s := evidence.Weak
		if ctx || st.algo != "" || st.walletPos != "" {
			s = evidence.Strong
		}
		o.add(evidence.Evidence{Group: evidence.Miner, Strength: s, Kind: KindPoolURL, Indicator: st.endpoint, Source: srcHostPort, Endpoint: st.endpoint})
		if s == evidence.Strong {
			if ep, ok := stratum.ParseHostPort(st.endpoint, true); ok {
				c.learn(ep, st.endpoint)
			}
		}
	}
	if st.flags > 0 {
		s := evidence.Weak
		if st.flags >= 2 || st.urls > 0 || st.endpoint != "" {
			s = evidence.Strong
		}
		o.add(evidence.Evidence{Group: evidence.Miner, Strength: s, Kind: KindMinerFlag, Indicator: st.flag1, Source: st.flagSrc})
	}
	if st.algo != "" {
		s := evidence.Weak
		if st.flags > 0 || st.urls > 0 || st.walletFlag || minerName || st.endpoint != "" {
			s = evidence.Strong
		}
		o.add(evidence.Evidence{Group: evidence.Miner, Strength: s, Kind: KindAlgorithm, Indicator: st.algo, Source: st.algoSrc})
	}
	if st.walletPos != "" && !monero {
		s := evidence.Weak
		if ctx || st.endpoint != "" || st.algo != "" {
			s = evidence.Strong
		}
		o.add(evidence.Evidence{Group: evidence.Miner, Strength: s, Kind: KindWallet, Indicator: st.walletPos, Source: srcWallet + ": " + st.walletKind.String(), Wallet: st.walletPos})
	}
	if st.proxy != "" && (ctx || st.endpoint != "") {
		o.add(evidence.Evidence{Group: evidence.Pool, Strength: evidence.Weak, Kind: KindProxy, Indicator: st.proxy, Source: "miner proxy option (-x/--proxy)", Endpoint: st.proxy})
		p := st.proxy
		if i := strings.Index(p, "://"); i >= 0 {
			p = p[i+3:]
		}
		if ep, ok := stratum.ParseHostPort(p, false); ok && ep.IP {
			c.learn(ep, st.proxy)
		}
	}
}

// option handles one parsed argv element.
func (c *Classifier) option(op argv.Opt, st *argState, o *out) {
	v := op.Value
	if op.Name == "" { // positional
		c.token(v, st, o)
		return
	}
	if fi, ok := c.set.MinerFlags[op.Name]; ok && op.Long {
		st.flags++
		if st.flag1 == "" {
			st.flag1, st.flagSrc = "--"+op.Name, fi.Source
		}
		if isUserOpt(op.Name, true) && op.HasValue { // --start-mining WALLET
			c.userValue(v, st, o)
		}
		if op.HasValue {
			c.generic(v, st, o)
		}
		return
	}
	switch {
	case !op.Long && op.Name == "k":
		st.kFlag = true
	case !op.HasValue:
	case isPoolOpt(op.Name, op.Long):
		if ep, ok := stratum.ParseURL(v); ok {
			c.poolURL(v, ep, st, o)
			return
		}
		hp := v
		for _, p := range [...]string{"tcp://", "ssl://", "tls://"} {
			if len(hp) > len(p) && strings.EqualFold(hp[:len(p)], p) {
				hp = hp[len(p):]
			}
		}
		if ep, ok := stratum.ParseHostPort(hp, true); ok && st.endpoint == "" {
			st.endpoint = hp
			if !ep.IP {
				var buf [256]byte
				if k, ok := lowerKey(ep.Host, buf[:]); ok {
					if _, _, ok := c.set.PoolDomain(string(k)); ok {
						st.knownPool = true
					}
				}
			}
			return
		}
		c.generic(v, st, o)
	case isUserOpt(op.Name, op.Long):
		c.userValue(v, st, o)
	case isAlgoOpt(op.Name, op.Long):
		var buf [32]byte
		if k, ok := lowerKey(v, buf[:]); ok {
			if src, ok := c.set.Algorithms[string(k)]; ok {
				st.algo, st.algoSrc = v, src
				return
			}
		}
		c.generic(v, st, o)
	case isProxyOpt(op.Name, op.Long):
		p := v
		if i := strings.Index(p, "://"); i >= 0 {
			p = p[i+3:]
		}
		if _, ok := stratum.ParseHostPort(p, true); ok {
			st.proxy = v
			return
		}
		c.generic(v, st, o)
	default:
		c.token(v, st, o)
	}
}

// userValue handles the value of a user/wallet option: any validated wallet is strong.
func (c *Classifier) userValue(v string, st *argState, o *out) {
	if w, k := wallet.Login(v); k != wallet.None {
		st.walletFlag = true
		o.add(evidence.Evidence{Group: evidence.Miner, Strength: evidence.Strong, Kind: KindWallet, Indicator: w, Source: srcWallet + ": " + k.String(), Wallet: w})
		return
	}
	c.generic(v, st, o)
}

// token handles a positional argument or the value of an option without a role.
func (c *Classifier) token(v string, st *argState, o *out) {
	if len(v) >= wallet.MoneroLen {
		w := v
		if eq := strings.IndexByte(w, '='); eq >= 0 && eq < len(w)-1 {
			w = w[eq+1:]
		}
		w, _ = wallet.Split(w)
		if k := wallet.ValidMonero(w); k != wallet.None {
			if st.walletPos == "" {
				st.walletPos, st.walletKind = w, k
			}
			return
		}
	}
	c.generic(v, st, o)
}

// generic looks for a stratum URL anywhere in a value and for base64-encoded miner arguments.
func (c *Classifier) generic(v string, st *argState, o *out) {
	if len(v) >= 12 && strings.IndexByte(v, ':') >= 0 && strings.Contains(v, "://") && stratum.IndexFold(v, "tratum") >= 0 {
		if u, ep, ok := stratum.FindURL(v); ok {
			c.poolURL(u, ep, st, o)
			return
		}
	}
	c.base64Token(v, o)
}

// poolURL records a stratum URL (strong) and learns its host for the Pool group.
func (c *Classifier) poolURL(u string, ep stratum.Endpoint, st *argState, o *out) {
	if st != nil {
		st.urls++
	}
	src := srcStratumScheme
	if !ep.IP {
		var buf [256]byte
		if k, ok := lowerKey(ep.Host, buf[:]); ok {
			if _, s, ok := c.set.PoolDomain(string(k)); ok {
				src = s
			}
		}
	}
	e := evidence.Evidence{Group: evidence.Miner, Strength: evidence.Strong, Kind: KindPoolURL, Indicator: u, Source: src, Endpoint: ep.HostPort()}
	if login := stratum.Login(u); login != "" {
		if w, k := wallet.Login(login); k != wallet.None {
			e.Wallet = w
		}
	}
	o.add(e)
	c.learn(ep, u)
}

const (
	minB64        = 16
	maxB64        = 8 << 10
	maxB64Decoded = maxB64 / 4 * 3
)

// base64Token decodes an argument that looks like base64 and looks inside for a stratum URL, a
// wallet or miner flags.
func (c *Classifier) base64Token(v string, o *out) {
	if len(v) < minB64 || len(v) > maxB64 || v[0] == '/' || v[0] == '-' {
		return
	}
	digits, upper, lower := false, false, false
	for i := 0; i < len(v); i++ {
		ch := v[i]
		switch {
		case ch >= 'A' && ch <= 'Z':
			upper = true
		case ch >= 'a' && ch <= 'z':
			lower = true
		case ch >= '0' && ch <= '9', ch == '+', ch == '/':
			digits = true
		case ch == '=' && i >= len(v)-2:
		case ch == '-' || ch == '_':
			digits = true
		default:
			return
		}
	}
	if !upper || !lower || !digits {
		return
	}
	enc := base64.StdEncoding
	switch {
	case strings.ContainsAny(v, "-_"):
		enc = base64.URLEncoding
	}
	if len(v)%4 != 0 {
		if strings.IndexByte(v, '=') >= 0 {
			return
		}
		if enc == base64.URLEncoding {
			enc = base64.RawURLEncoding
		} else {
			enc = base64.RawStdEncoding
		}
	}
	src := c.b64src[:copy(c.b64src, v)]
	n, err := enc.Decode(c.b64, src)
	if err != nil || n == 0 {
		return
	}
	d := c.b64[:n]
	text := string(d) // only reached for base64-looking tokens that decoded
	what := ""
	switch {
	case strings.Contains(text, "tratum"):
		if u, _, ok := stratum.FindURL(text); ok {
			what = u
		}
	}
	if what == "" {
		if w, _ := wallet.Find(text); w != "" {
			what = w
		}
	}
	if what == "" {
		for _, f := range [...]string{"--donate-level", "--cpu-priority", "--randomx", "xmrig", "--coin", "--nicehash"} {
			if strings.Contains(text, f) {
				what = f
				break
			}
		}
	}
	if what == "" {
		return
	}
	o.add(evidence.Evidence{Group: evidence.Miner, Strength: evidence.Strong, Kind: KindBase64, Indicator: clip(what, 256), Source: srcBase64})
}

// env classifies environment variables by name (weak) and by value (strong).
func (c *Classifier) env(ev *evidence.Event, o *out) {
	for i := range ev.EnvVars {
		c.envVar(ev.EnvVars[i].Name, ev.EnvVars[i].Value, o)
	}
}

func (c *Classifier) envVar(name, val string, o *out) {
	known := false
	if c.envFilter.maybe(name) {
		var buf [64]byte
		if k, ok := upperKey(name, buf[:]); ok {
			if src, ok := c.set.EnvNames[string(k)]; ok {
				known = true
				o.add(evidence.Evidence{Group: evidence.Miner, Strength: evidence.Weak, Kind: KindEnvName, Indicator: name, Source: src})
			}
		}
	}
	if len(val) < 12 || val == "[REDACTED]" {
		return
	}
	if strings.Contains(val, "://") && stratum.IndexFold(val, "tratum") >= 0 {
		if u, ep, ok := stratum.FindURL(val); ok {
			o.add(evidence.Evidence{Group: evidence.Miner, Strength: evidence.Strong, Kind: KindEnv, Indicator: name + "=" + clip(u, 512), Source: srcStratumScheme, Endpoint: ep.HostPort()})
			c.learn(ep, u)
			return
		}
	}
	if len(val) >= wallet.MoneroLen {
		if w, k := wallet.Find(val); w != "" {
			o.add(evidence.Evidence{Group: evidence.Miner, Strength: evidence.Strong, Kind: KindEnv, Indicator: name + "=" + w, Source: srcWallet + ": " + k.String(), Wallet: w})
			return
		}
	}
	if known {
		if w, k := wallet.Login(val); k != wallet.None {
			o.add(evidence.Evidence{Group: evidence.Miner, Strength: evidence.Strong, Kind: KindEnv, Indicator: name + "=" + w, Source: srcWallet + ": " + k.String(), Wallet: w})
		}
	}
}

func upperKey(s string, buf []byte) ([]byte, bool) {
	if len(s) > len(buf) {
		return nil, false
	}
	n := copy(buf, s)
	for i := 0; i < n; i++ {
		if ch := buf[i]; ch >= 'a' && ch <= 'z' {
			buf[i] = ch - 'a' + 'A'
		}
	}
	return buf[:n], true
}

// patternsIn runs the configured ExtraPatterns over argv and environment values.
func (c *Classifier) patternsIn(args []string, ev *evidence.Event, o *out) {
	check := func(s string) bool {
		loc := c.pattern.FindStringIndex(s)
		if loc == nil {
			return false
		}
		m := s[loc[0]:loc[1]]
		src := "indicators.patterns"
		for i, re := range c.patterns {
			if re.MatchString(m) {
				src = "indicators.patterns[" + strconv.Itoa(i) + "]: " + re.String()
				break
			}
		}
		o.add(evidence.Evidence{Group: evidence.Miner, Strength: evidence.Strong, Kind: KindPattern, Indicator: clip(m, 512), Source: src})
		return true
	}
	for _, a := range args {
		if check(a) {
			return
		}
	}
	for i := range ev.EnvVars {
		if check(ev.EnvVars[i].Value) {
			return
		}
	}
}
