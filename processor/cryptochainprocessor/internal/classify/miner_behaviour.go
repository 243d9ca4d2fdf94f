package classify

import (
	"strconv"
	"strings"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
	"github.com/cryptochain-otel/cryptochain/internal/minerconfig"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/argv"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/evidence"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/stratum"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/wallet"
)

const (
	srcMasquerade  = "masquerade heuristics (memfd/deleted/tmp/hidden executables, renamed processes)"
	srcRandomX     = "RandomX VM behaviour: recurring non-default MXCSR rounding modes"
	srcMinerConfig = "XMRig-style miner configuration file (pools, donate-level, randomx)"
)

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
	if ev.Filename != "" && a0 != "" && ev.Interpreter == "" && ev.EventSource != contract.EventSourceProcfs {
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

// rename: a comm change to a kernel-thread-like or miner name is weak Miner evidence. Other renames
// (thread names of ordinary runtimes) are too common to mean anything.
func (c *Classifier) rename(ev *evidence.Event, o *out) {
	if kernelThreadLike(ev.Comm) || ev.KthreadLike {
		o.add(evidence.Evidence{Group: evidence.Miner, Strength: evidence.Weak, Kind: KindMasquerade, Indicator: "renamed " + ev.CommOld + " to kernel-thread-like " + ev.Comm, Source: srcMasquerade})
	}
	for _, n := range [...]string{ev.CommOld, ev.Comm} {
		if name, src := c.minerName(n); name != "" {
			o.add(evidence.Evidence{Group: evidence.Miner, Strength: evidence.Weak, Kind: KindMinerName, Indicator: name, Source: src})
			if n == ev.CommOld && ev.Comm != ev.CommOld {
				o.add(evidence.Evidence{Group: evidence.Miner, Strength: evidence.Weak, Kind: KindMasquerade, Indicator: "miner renamed itself to " + ev.Comm, Source: srcMasquerade})
			}
			break
		}
	}
}

// fpu: RandomX switches rounding modes all the time, so about a quarter of its samples still show the
// default mode; code that sets a mode once shows only non-default samples (or almost none), so a mix is
// required when samples are reported. The receiver reports once a 2 s window holds 8 non-default
// samples and at least one default sample, then stays quiet for 30 s; the check here also covers
// other senders of these records.
func (c *Classifier) fpu(ev *evidence.Event, o *out) {
	nd, n := ev.FPUNonDefault, ev.FPUSamples
	if nd < c.fpuMin || n < 0 {
		return
	}
	if n > 0 && (nd >= n || nd < n/8) {
		return // stuck in one mode, or rare
	}
	o.add(evidence.Evidence{Group: evidence.Miner, Strength: evidence.Strong, Kind: KindRandomX,
		Indicator: "mxcsr=0x" + strconv.FormatInt(ev.FPUMXCSR, 16) + " nondefault=" + strconv.FormatInt(nd, 10) + "/" + strconv.FormatInt(n, 10), Source: srcRandomX})
	c.randomx.Add(procKey{ev.PID, strings.Clone(ev.Start)}, struct{}{})
	// The pool connection was made before the behaviour showed: report it now.
	c.recent.connsOf(ev.PID, ev.Start, func(e connEntry) {
		ep := endpoint(e.addr.String(), e.port)
		o.add(evidence.Evidence{Group: evidence.Pool, Strength: evidence.Weak, Kind: KindRandomXConn, Indicator: ep, Source: srcRandomX, Endpoint: ep})
	})
}

// configFile: a miner configuration is strong Miner evidence; its pools are learnt so DNS and
// connects to them become Pool evidence; 1 GB pages / wrmsr are weak Optimization hints.
func (c *Classifier) configFile(ev *evidence.Event, o *out) {
	cfg, ok := minerconfig.Parse(ev.Content)
	if !ok {
		return
	}
	added := false
	for _, p := range cfg.Pools {
		e := evidence.Evidence{Group: evidence.Miner, Strength: evidence.Strong, Kind: KindMinerConfig, Indicator: ev.Path + ": " + clip(p.URL, 256), Source: srcMinerConfig, Path: ev.Path}
		if ep, ok := stratum.ParseURL(p.URL); ok {
			e.Endpoint = ep.HostPort()
			c.learn(ep, p.URL)
		} else if ep, ok := stratum.ParseHostPort(strings.TrimPrefix(strings.TrimPrefix(p.URL, "tcp://"), "ssl://"), true); ok {
			e.Endpoint = ep.HostPort()
			c.learn(ep, p.URL)
		}
		if w, k := wallet.Login(p.User); k != wallet.None {
			e.Wallet = w
		} else if w, _ := wallet.Find(p.User); w != "" {
			e.Wallet = w
		}
		if e.Endpoint == "" && e.Wallet == "" {
			continue // a "url" that is not a pool endpoint, without a wallet
		}
		o.add(e)
		added = true
	}
	if !added && cfg.MinerKeys < 2 {
		return
	}
	if !added {
		o.add(evidence.Evidence{Group: evidence.Miner, Strength: evidence.Strong, Kind: KindMinerConfig, Indicator: ev.Path, Source: srcMinerConfig, Path: ev.Path})
	}
	c.knownConnections(ev, o)
	if cfg.OneGBPages || cfg.WRMSR {
		what := "randomx.1gb-pages"
		if cfg.WRMSR {
			what = "randomx.wrmsr"
		}
		o.add(evidence.Evidence{Group: evidence.Optimization, Strength: evidence.Weak, Kind: KindConfigTuning, Indicator: ev.Path + ": " + what, Source: srcMinerConfig, Path: ev.Path})
	}
}
