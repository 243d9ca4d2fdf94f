// Package classify grades one decoded record into evidence for the four groups (indicator lists, passive DNS).
// It must not know other records' correlation (internal/chain), the Collector or pdata.
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

	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/evidence"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/indicators"
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

// Panics reports how many records hit a classifier bug (recovered; they yielded no evidence).
func (c *Classifier) Panics() uint64 { return c.panics }
