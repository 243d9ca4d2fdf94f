package classify

import (
	"encoding/base64"
	"net/netip"
	"strconv"
	"strings"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/argv"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/evidence"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/shellcmd"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/stratum"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/wallet"
)

// Sources of structural (not list-based) indicators.
const (
	srcStratumScheme = "stratum URL scheme (pool syntax of XMRig, cpuminer, ethminer and forks)"
	srcHostPort      = "host:port given to a miner pool option (-o/--url)"
	srcWallet        = "wallet address format and checksum (Monero base58+Keccak, Bitcoin, Ethereum)"
	srcMasquerade    = "masquerade heuristics (issue 5: memfd/deleted/tmp/hidden executables, renamed processes)"
	srcBase64        = "base64-encoded miner arguments"
	srcLearned       = "host of a stratum URL seen on a command line"
	srcIPPool        = "IP literal of a pool URL or miner proxy seen on a command line or miner config"
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

func (c *Classifier) exec(ev *evidence.Event, o *out) {
	args := ev.Args
	if len(args) == 0 && ev.CmdLine != "" {
		args = argv.Fields(ev.CmdLine, evidence.MaxArgs)
	}
	exe := ev.Exe
	exeBase := ev.ExeName
	if ev.Name == contract.EventExecFailed || exe == "" {
		// A failed exec carries the caller's process attributes: the program is the path asked for.
		exe, exeBase = ev.Filename, ""
	}
	if exeBase == "" {
		exeBase = argv.Base(exe)
	}
	a0 := ""
	if len(args) > 0 {
		a0 = strings.TrimPrefix(argv.Base(args[0]), "-")
	}

	// Miner names (weak): the executable, argv[0], comm.
	minerName := false
	for i, n := range [...]string{exeBase, a0, ev.Comm} {
		if (i == 1 && n == exeBase) || (i == 2 && (n == a0 || n == exeBase)) {
			continue
		}
		if name, src := c.minerName(n); name != "" {
			o.add(evidence.Evidence{Group: evidence.Miner, Strength: evidence.Weak, Kind: KindMinerName, Indicator: name, Source: src})
			minerName = true
			break
		}
	}
	c.masquerade(ev, exe, a0, o)

	prog := exeBase
	if a0 != "" && (prog == "" || prog == "busybox" || ev.Interpreter != "") {
		prog = a0
	}
	// A "grep" or "monerod" running from /tmp, a memfd or a deleted file is not the system tool.
	untrusted := ev.ExeMemfd || ev.ExeDeleted || ev.UnusualLocation || unusualExe(exe) != ""
	c.command(prog, args, minerName, untrusted, o, 0)
	c.env(ev, o)
	if c.pattern != nil {
		c.patternsIn(args, ev, o)
	}
}

// command classifies one argv (of an exec, or of a command inside a "sh -c" script).
func (c *Classifier) command(prog string, args []string, minerName, untrusted bool, o *out, depth int) {
	if prog == "busybox" && len(args) > 1 {
		prog, args = argv.Base(args[1]), args[1:]
	}
	role := progRoles[prog]
	if untrusted && (role == roleText || role == roleMonero) {
		role = roleNone
	}
	switch role {
	case roleShell:
		if depth == 0 {
			c.shellScript(args, o)
		}
		return
	case roleCrontab:
		c.crontab(args, o)
		return
	case roleSysctl:
		c.sysctlExec(args, o)
		return
	case roleModprobe:
		c.modprobe(args, o)
		return
	case roleWRMSR:
		o.add(evidence.Evidence{Group: evidence.Optimization, Strength: evidence.Strong, Kind: KindMSR, Indicator: "wrmsr", Source: srcTuning, Action: joinArgs(args)})
		return
	case roleCPUPower:
		c.cpupower(args, o)
		return
	case roleKill:
		c.killByName(args, o)
		return
	case roleText:
		// Data, not configuration; only base64 blobs (echo <b64> | base64 -d | sh) are looked into.
		for _, a := range args[min(1, len(args)):] {
			c.base64Token(a, o)
		}
		return
	}
	monero := role == roleMonero
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

// shellScript classifies the commands of "sh -c SCRIPT".
func (c *Classifier) shellScript(args []string, o *out) {
	script := ""
	for i := 1; i < len(args); i++ {
		a := args[i]
		if len(a) > 1 && a[0] == '-' && a[1] != '-' && strings.IndexByte(a, 'c') > 0 {
			if i+1 < len(args) {
				script = args[i+1]
			}
			break
		}
		if len(a) == 0 || a[0] != '-' {
			break
		}
	}
	if script == "" {
		return
	}
	c.cmdBuf = argv.EachCommand(script, 32, c.cmdBuf, func(cmd []string) {
		skip := 0
		for skip < len(cmd)-1 && shellcmd.IsWrapper(argv.Base(cmd[skip]), cmd[skip]) {
			skip++
		}
		cmd = cmd[skip:]
		name, src := c.minerName(argv.Base(cmd[0]))
		if name != "" {
			o.add(evidence.Evidence{Group: evidence.Miner, Strength: evidence.Weak, Kind: KindMinerName, Indicator: name, Source: src})
		}
		c.command(argv.Base(cmd[0]), cmd, name != "", unusualExe(cmd[0]) != "", o, 1)
	})
}

// env classifies environment variables by name (weak) and by value (strong).
func (c *Classifier) env(ev *evidence.Event, o *out) {
	if len(ev.EnvVars) > 0 {
		for i := range ev.EnvVars {
			c.envVar(ev.EnvVars[i].Name, ev.EnvVars[i].Value, o)
		}
		return
	}
	for name, val := range ev.Env {
		c.envVar(name, val, o)
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
				src = "indicators.patterns[" + itoa(i) + "]: " + re.String()
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
	if len(ev.EnvVars) == 0 {
		for _, v := range ev.Env {
			if check(v) {
				return
			}
		}
	}
}

// masquerade records the ways an executable hides (weak Miner evidence, one kind, at most one item
// per way). The receiver's own flags (unusual_location, name_mismatch, kthread_like) count too, so
// records from agents that only send the flags are understood.
func (c *Classifier) masquerade(ev *evidence.Event, exe, a0 string, o *out) {
	add := func(why string) {
		o.add(evidence.Evidence{Group: evidence.Miner, Strength: evidence.Weak, Kind: KindMasquerade, Indicator: why, Source: srcMasquerade})
	}
	switch {
	case ev.ExeMemfd || strings.HasPrefix(exe, "/memfd:"):
		add("executable is a memfd: " + exe)
	case ev.ExeDeleted || strings.HasSuffix(exe, " (deleted)"):
		add("executable was deleted: " + exe)
	case ev.UnusualLocation && unusualExe(exe) == "":
		add("executable in an unusual location: " + exe)
	}
	if why := unusualExe(exe); why != "" && !strings.HasPrefix(exe, "/memfd:") {
		add(why + ": " + exe)
	}
	mismatch := false
	if ev.Filename != "" && a0 != "" && ev.Interpreter == "" && ev.EventSource != "procfs" {
		f := argv.Base(ev.Filename)
		if strings.HasPrefix(ev.Filename, "/proc/") && f == "exe" { // runc, chrome: re-exec of /proc/self/exe
			f = argv.Base(exe)
		}
		if f != a0 && !strings.HasPrefix(a0, f) && !strings.HasPrefix(f, a0) && f != "busybox" && f != "toybox" && !strings.HasPrefix(f, "ld-linux") {
			add("argv[0] " + a0 + " differs from the executed file " + f)
			mismatch = true
		}
	}
	if ev.NameMismatch && !mismatch {
		add("argv[0] " + a0 + " differs from the executable " + argv.Base(exe))
	}
	raw0 := ""
	if len(ev.Args) > 0 {
		raw0 = ev.Args[0]
	}
	switch {
	case kernelThreadLike(a0):
		add("name imitates a kernel thread: " + a0)
	case kernelThreadLike(raw0):
		add("name imitates a kernel thread: " + raw0)
	case kernelThreadLike(ev.Comm):
		add("name imitates a kernel thread: " + ev.Comm)
	case ev.KthreadLike:
		add("name imitates a kernel thread: " + raw0 + " / " + ev.Comm)
	}
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] // cloned by out.add
}

func joinArgs(args []string) string {
	return clip(strings.Join(args[:min(len(args), 16)], " "), 512)
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b [20]byte
	n := len(b)
	neg := i < 0
	if neg {
		i = -i
	}
	for i > 0 {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
	}
	if neg {
		n--
		b[n] = '-'
	}
	return string(b[n:])
}
