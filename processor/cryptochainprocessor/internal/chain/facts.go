package chain

import (
	"hash/maphash"
	"net"
	"net/netip"
	"path"
	"slices"

	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/evidence"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/shellcmd"
)

// A response acts on the facts a finding lists under cryptochain.response.*: the miner pids, the pool
// endpoints (names, and the addresses DNS evidence resolved), the wallets, the persistence paths and
// the miner executables' hashes. A chain keeps a hash of each fact its last finding showed; when the
// chain holds a fact that finding did not show (a second cron table, a re-spawned miner, a new pool),
// it is reported again at the same severity, at most once per Config.UpdateInterval.

// FactKind is one response list of a finding.
type FactKind uint8

// The response lists, named after their cryptochain.response.* attribute.
const (
	FactPersistencePath FactKind = iota
	FactMinerPID
	FactPoolEndpoint
	FactWallet
	FactMinerSHA256
	NumFactKinds
)

var factNames = [...]string{"persistence_paths", "miner_pids", "pool_endpoints", "wallets", "miner_sha256"}

// String returns the suffix of the fact's cryptochain.response.* attribute.
func (k FactKind) String() string {
	if int(k) < len(factNames) {
		return factNames[k]
	}
	return "unknown"
}

// Fact is one value of a response list: Value for strings, PID for FactMinerPID.
type Fact struct {
	Kind  FactKind
	Value string
	PID   int64
}

func (f *Fact) hash() uint64 {
	var h maphash.Hash
	h.SetSeed(seed)
	h.WriteByte(byte(f.Kind))
	if f.Kind == FactMinerPID {
		var b [8]byte
		for i := range b {
			b[i] = byte(f.PID >> (8 * i))
		}
		h.Write(b[:])
	} else {
		h.WriteString(f.Value)
	}
	return h.Sum64()
}

// maxFacts bounds the facts remembered per chain: more than its evidence budget can name.
const maxFacts = 512

// responseFacts appends to buf the response facts of the items sel of items (the finding's evidence),
// each once, in the order the finding lists them. It follows what the finding renders: every pid
// with Miner evidence; the endpoints of Miner and Pool items and the address a Pool item connected
// to or resolved; every wallet; the paths of persistence that was written; the executable hash of
// each miner process with strong Miner evidence that is not a shell.
func responseFacts(c *Context, items []Item, sel []int, buf []Fact) []Fact {
	add := func(f Fact) {
		if (f.Kind == FactMinerPID && f.PID == 0) || (f.Kind != FactMinerPID && f.Value == "") || len(buf) >= maxFacts {
			return
		}
		for i := range buf {
			if buf[i] == f {
				return
			}
		}
		buf = append(buf, f)
	}
	for _, i := range sel {
		it := &items[i]
		switch it.Group {
		case evidence.Miner:
			add(Fact{Kind: FactMinerPID, PID: it.PID})
			add(Fact{Kind: FactPoolEndpoint, Value: it.Endpoint})
		case evidence.Pool:
			add(Fact{Kind: FactPoolEndpoint, Value: it.Endpoint})
			add(Fact{Kind: FactPoolEndpoint, Value: addressEndpoint(it)})
		case evidence.Persistence:
			if !it.Failed {
				add(Fact{Kind: FactPersistencePath, Value: it.Path})
			}
		}
		add(Fact{Kind: FactWallet, Value: it.Wallet})
	}
	for _, i := range sel {
		it := &items[i]
		if it.Group != evidence.Miner || it.Strength != evidence.Strong || it.PID == 0 {
			continue
		}
		for j := range c.Procs {
			if p := &c.Procs[j]; p.PID == it.PID && (it.Start == "" || p.Start == "" || it.Start == p.Start) && !shellExe(p.Exe) {
				add(Fact{Kind: FactMinerSHA256, Value: p.ExeHash})
			}
		}
	}
	return buf
}

// addressEndpoint returns "ip:port" when the indicator of a Pool item is the address connected to
// (its endpoint may name the pool instead).
func addressEndpoint(it *Item) string {
	a, err := netip.ParseAddr(it.Indicator)
	if err != nil {
		return ""
	}
	if _, port, err := net.SplitHostPort(it.Endpoint); err == nil && port != "" {
		return net.JoinHostPort(a.String(), port)
	}
	return a.String()
}

func shellExe(exe string) bool {
	return slices.Contains(shellcmd.Shells(), path.Base(exe))
}

// factHashes returns the sorted hashes of facts, reusing dst.
func factHashes(facts []Fact, dst []uint64) []uint64 {
	dst = dst[:0]
	for i := range facts {
		dst = append(dst, facts[i].hash())
	}
	slices.Sort(dst)
	return slices.Compact(dst)
}

// newFacts returns the facts not among the sorted hashes known.
func newFacts(facts []Fact, known []uint64) []Fact {
	var out []Fact
	for i := range facts {
		if _, ok := slices.BinarySearch(known, facts[i].hash()); !ok {
			out = append(out, facts[i])
		}
	}
	return out
}
