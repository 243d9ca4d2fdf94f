// Package classify turns one decoded event into the evidence it contributes to the four activity
// groups. It holds the indicator lists and the passive DNS map (answers seen → pool domains), and
// nothing else: correlation across events and processes is the chain package's job.
//
// Benign records are the hot path (≥ 95 % of the traffic): they cost a few map lookups and byte
// scans and allocate nothing. Regular expressions run only when ExtraPatterns are configured.
package classify // import "github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/classify"

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"

	"github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/evidence"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/indicators"
)

// Evidence kinds this package emits (evidence.Evidence.Kind), with the group and strength:
//
// Miner:
//   - KindPoolURL "pool_url": stratum URL on the command line (strong); a bare host:port after
//     -o/--url (strong with other miner evidence or a known pool host, weak alone).
//   - KindWallet "wallet": validated wallet next to a user/wallet flag or in a pool URL login, or a
//     Monero address with other miner evidence (strong); a bare Monero address argument alone (weak).
//   - KindAlgorithm "algorithm": known algorithm after -a/--algo (strong with a miner flag, URL,
//     wallet or miner name; weak alone).
//   - KindMinerFlag "miner_flag": miner-only flags (strong when ≥ 2 distinct or with a pool endpoint,
//     weak alone).
//   - KindMinerName "miner_name": executable/argv[0]/comm is a known miner name (weak).
//   - KindBase64 "base64": a base64 argument decoding to a stratum URL, wallet or miner flag (strong).
//   - KindEnv "env": an environment value holding a stratum URL or a wallet (strong).
//   - KindEnvName "env_name": a miner environment variable name (weak).
//   - KindPattern "pattern": an ExtraPatterns match in argv or env (strong).
//   - KindMasquerade "masquerade": memfd/deleted executable, executable in /tmp, /var/tmp, /dev/shm
//     or a hidden directory, argv[0] unlike the executed file, kernel-thread-like name, rename to
//     such a name (weak; one kind for all, so masquerade alone never completes the group).
//   - KindRandomX "randomx_fpu": process.fpu_rounding with recurring non-default rounding mixed with
//     the default mode (strong; a single mode kept for every sample is scientific code, not RandomX).
//   - KindStratumLogin "stratum_login": network.payload is a mining protocol message (strong).
//   - KindMinerConfig "miner_config": process.config_file parses as a miner configuration (strong).
//
// Pool:
//   - KindPoolDomain "pool_domain": dns.query/dns.answer for a pool domain or subdomain, or for the
//     host of a stratum URL seen on a command line (strong).
//   - KindPoolAddress "pool_address": network.connect to an address a DNS answer tied to a pool
//     domain (CNAMEs followed), or to an IP literal of a pool URL / miner proxy (strong).
//   - KindStratumPort "stratum_port": network.connect to a common stratum port (weak).
//   - KindStratumPayload "stratum_payload": network.payload is a mining protocol message (strong).
//   - KindProxy "proxy": -x/--proxy of a miner command line (weak; its endpoint is listed).
//   - KindRandomXConn "randomx_connection": a TCP connection of a process with RandomX behaviour,
//     before or after the behaviour was seen (weak; with the strong Miner evidence it completes Pool).
//
// Persistence (strong; Failed when the write failed): "cron", "anacron", "at", "systemd", "rc",
// "preload" (/etc/ld.so.preload), "custom" (configured paths) for writes under those locations (any
// write-like operation except unlink; package managers and systemd itself are skipped), with Command set
// from the captured content (the cron line, ExecStart or script line it will run), KindCrontab "crontab"
// (weak, no Path) for the crontab binary replacing a table ("crontab FILE", "crontab -", "crontab -u u
// FILE", "crontab -e"): the act is the spool write that follows, which carries the true path and result.
//
// Optimization (attempts count, Failed or not): "msr" (strong: /dev/cpu/*/msr open, wrmsr, modprobe
// msr allow_writes=on, /sys/module/msr/parameters/allow_writes; weak: plain modprobe msr), "hugepages",
// "drop_caches", "cpu_governor", "nmi_watchdog" (strong), "config_tuning" (weak: miner config asks for
// 1 GB pages or wrmsr), "kill_miner" (strong: pkill/killall/process.kill of a known miner name),
// "kill" (weak: one SIGKILL/SIGTERM to another process; bursts are the chain's call).
const (
	KindPoolURL        = "pool_url"
	KindWallet         = "wallet"
	KindAlgorithm      = "algorithm"
	KindMinerFlag      = "miner_flag"
	KindMinerName      = "miner_name"
	KindBase64         = "base64"
	KindEnv            = "env"
	KindEnvName        = "env_name"
	KindPattern        = "pattern"
	KindMasquerade     = "masquerade"
	KindRandomX        = "randomx_fpu"
	KindStratumLogin   = "stratum_login"
	KindMinerConfig    = "miner_config"
	KindPoolDomain     = "pool_domain"
	KindPoolAddress    = "pool_address"
	KindStratumPort    = "stratum_port"
	KindStratumPayload = "stratum_payload"
	KindProxy          = "proxy"
	KindRandomXConn    = "randomx_connection"
	KindCrontab        = "crontab"
	KindMSR            = "msr"
	KindHugepages      = "hugepages"
	KindDropCaches     = "drop_caches"
	KindCPUGovernor    = "cpu_governor"
	KindNMIWatchdog    = "nmi_watchdog"
	KindConfigTuning   = "config_tuning"
	KindKillMiner      = "kill_miner"
	KindKill           = "kill"
)

// Config extends and narrows the embedded indicator lists.
type Config struct {
	ExtraPoolDomains  []string // domains (and their subdomains) treated as mining pools
	ExtraMinerNames   []string // executable names treated as weak miner evidence
	ExtraPersistence  []string // path prefixes treated as persistence locations
	ExtraPatterns     []string // regular expressions over argv/env values that are strong miner evidence
	PassiveDNSEntries int      // bound of the passive DNS map (addresses remembered); 0 → 65536

	// FPUMinNonDefault is how many non-default rounding samples a process.fpu_rounding event needs to
	// be RandomX evidence; 0 → 8 (the receiver's own reporting threshold, fpu_min_hits).
	FPUMinNonDefault int64
	// LearnedHosts bounds the host names learnt from stratum URLs on command lines; 0 → 4096.
	LearnedHosts int
}

// Classifier classifies events. It is safe for use by one goroutine at a time.
type Classifier struct {
	set      *indicators.Set
	pattern  *regexp.Regexp   // all ExtraPatterns as one alternation, for one pass
	patterns []*regexp.Regexp // each pattern, to name the one that matched
	fpuMin   int64
	// pdns maps an address to the pool it belongs to: a pool domain from DNS answers, or the URL of an
	// IP-literal pool or proxy from a command line.
	pdns *simplelru.LRU[netip.Addr, poolRef]
	// learned holds host names of stratum URLs seen on command lines, so DNS for them is Pool evidence.
	learned *simplelru.LRU[string, struct{}]
	recent  rings
	// randomx holds processes with RandomX behaviour: their connections are Pool evidence.
	randomx     *simplelru.LRU[procKey, struct{}]
	minerFilter nameFilter
	envFilter   nameFilter
	b64         []byte // scratch for base64 decoding
	b64src      []byte
	cmdBuf      []string // scratch for the commands of "sh -c" scripts
	panics      uint64
	// the last connect address parsed (connectAddr)
	lastAddrText string
	lastAddr     netip.Addr
	lastAddrOK   bool
	lastAddrSet  bool
	lastPool     lastPool // the last name looked up in the pool domain list (listedPool)
	lastRule     lastRule // the last path looked up in the persistence rules (persistenceRule)
}

type procKey struct {
	pid   int64
	start string
}

type poolRef struct {
	name   string // pool domain or URL
	source string
	port   int64 // the pool port when known (URL, config, protocol peer); 0 matches any port
}

// New builds a classifier from the embedded lists plus cfg. It fails on a bad pattern, naming it.
func New(cfg Config) (*Classifier, error) {
	set, err := indicators.Load()
	if err != nil {
		return nil, err
	}
	if err := set.AddPoolDomains("indicators.pool_domains", cfg.ExtraPoolDomains); err != nil {
		return nil, err
	}
	if err := set.AddMinerNames("indicators.miner_names", cfg.ExtraMinerNames); err != nil {
		return nil, err
	}
	if err := set.AddPersistence("indicators.persistence_paths", cfg.ExtraPersistence); err != nil {
		return nil, err
	}
	c := &Classifier{set: set, fpuMin: cfg.FPUMinNonDefault, b64: make([]byte, maxB64Decoded), b64src: make([]byte, maxB64)}
	c.minerFilter = newNameFilter(set.MinerNames)
	c.envFilter = newNameFilter(set.EnvNames)
	if c.fpuMin <= 0 {
		c.fpuMin = 8
	}
	if len(cfg.ExtraPatterns) > 0 {
		alts := make([]string, 0, len(cfg.ExtraPatterns))
		for i, p := range cfg.ExtraPatterns {
			re, err := regexp.Compile(p)
			if err != nil {
				return nil, fmt.Errorf("indicators.patterns[%d] %q: %w", i, p, err)
			}
			if re.MatchString("") {
				return nil, fmt.Errorf("indicators.patterns[%d] %q: matches the empty string", i, p)
			}
			c.patterns = append(c.patterns, re)
			alts = append(alts, "(?:"+p+")")
		}
		c.pattern = regexp.MustCompile(strings.Join(alts, "|"))
	}
	n := cfg.PassiveDNSEntries
	if n < 0 {
		return nil, fmt.Errorf("passive_dns_entries: must not be negative, got %d", n)
	}
	if n == 0 {
		n = 65536
	}
	if c.pdns, err = simplelru.NewLRU[netip.Addr, poolRef](n, nil); err != nil {
		return nil, err
	}
	h := cfg.LearnedHosts
	if h <= 0 {
		h = 4096
	}
	if c.learned, err = simplelru.NewLRU[string, struct{}](h, nil); err != nil {
		return nil, err
	}
	if c.randomx, err = simplelru.NewLRU[procKey, struct{}](1024, nil); err != nil {
		return nil, err
	}
	return c, nil
}

// maxEvidence bounds the evidence one event yields.
const maxEvidence = 16

// out collects evidence for one event; it stays nil (no allocation) when nothing matches.
type out struct {
	items  []evidence.Evidence
	failed bool
}

func (o *out) add(e evidence.Evidence) {
	if len(o.items) >= maxEvidence {
		return
	}
	for i := range o.items { // one item per (group, kind, indicator)
		if o.items[i].Group == e.Group && o.items[i].Kind == e.Kind && o.items[i].Indicator == e.Indicator {
			return
		}
	}
	if o.failed {
		e.Failed = true
	}
	// Evidence outlives the event; substrings of large arguments must not pin them.
	e.Indicator = strings.Clone(e.Indicator)
	e.Endpoint = strings.Clone(e.Endpoint)
	e.Wallet = strings.Clone(e.Wallet)
	e.Path = strings.Clone(e.Path)
	e.Action = strings.Clone(e.Action)
	e.Command = strings.Clone(e.Command)
	if o.items == nil {
		o.items = make([]evidence.Evidence, 0, 4)
	}
	o.items = append(o.items, e)
}

// Classify returns the evidence ev contributes, possibly none. It also feeds the passive DNS map
// from dns.answer events, so a later connect to an answered address is recognised. The returned
// slice is new on each call (nil when there is no evidence).
func (c *Classifier) Classify(ev *evidence.Event) (items []evidence.Evidence) {
	if ev == nil {
		return nil
	}
	// A classifier bug must not take the collector down on crafted input: the record yields no
	// evidence and the panic is counted (Panics), and the fuzz tests fail on any.
	defer func() {
		if r := recover(); r != nil {
			c.panics++
			items = nil
		}
	}()
	o := out{failed: ev.Failed}
	switch ev.Name {
	case contract.EventExec, contract.EventExecFailed:
		c.exec(ev, &o)
	case contract.EventConnect:
		c.connect(ev, &o)
	case contract.EventDNSQuery:
		c.dnsQuery(ev, &o)
	case contract.EventDNSAnswer:
		c.dnsAnswer(ev, &o)
	case contract.EventFileWrite, contract.EventFileOpen:
		c.file(ev, &o)
	case contract.EventSysctlWrite:
		c.sysctlWrite(ev, &o)
	case contract.EventRename:
		c.rename(ev, &o)
	case contract.EventFPURounding:
		c.fpu(ev, &o)
	case contract.EventPayload:
		c.payload(ev, &o)
	case contract.EventConfigFile:
		c.configFile(ev, &o)
	case contract.EventKill:
		c.kill(ev, &o)
	}
	return o.items
}

// Panics reports how many records hit a classifier bug (recovered; they yielded no evidence).
func (c *Classifier) Panics() uint64 { return c.panics }

// PassiveDNSLen reports how many addresses the passive DNS map holds (for telemetry and tests).
func (c *Classifier) PassiveDNSLen() int { return c.pdns.Len() }
