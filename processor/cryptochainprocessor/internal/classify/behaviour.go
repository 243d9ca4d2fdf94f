package classify

import (
	"strconv"
	"strings"

	"github.com/cryptochain-otel/cryptochain/internal/minerconfig"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/argv"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/evidence"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/stratum"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/wallet"
)

const (
	srcRandomX     = "RandomX VM behaviour: recurring non-default MXCSR rounding modes (issue 5)"
	srcMinerConfig = "XMRig-style miner configuration file (pools, donate-level, randomx)"
	srcKill        = "competing-miner removal (issue 5: kills of other processes)"
)

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
// required when samples are reported. The receiver reports when the 8th non-default sample of a 2 s
// window arrives and then stays quiet for 30 s; a RandomX process whose first 8 samples were all
// non-default (≈ 13 %) is therefore recognised at its next report.
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

// kill: killing a known miner is strong Optimization evidence (clearing the field); any other
// SIGKILL/SIGTERM of another process is weak, for the chain to count bursts.
func (c *Classifier) kill(ev *evidence.Event, o *out) {
	if ev.KillSignal == 0 {
		return // existence probe
	}
	if name, src := c.minerName(argv.Base(ev.KillTargetName)); name != "" {
		o.add(evidence.Evidence{Group: evidence.Optimization, Strength: evidence.Strong, Kind: KindKillMiner, Indicator: name, Source: src, Action: "kill -" + strconv.FormatInt(ev.KillSignal, 10) + " " + strconv.FormatInt(ev.KillTargetPID, 10) + " (" + name + ")"})
		return
	}
	if (ev.KillSignal == 9 || ev.KillSignal == 15) && !serviceManagers[argv.Base(ev.Exe)] {
		o.add(evidence.Evidence{Group: evidence.Optimization, Strength: evidence.Weak, Kind: KindKill, Indicator: "signal " + strconv.FormatInt(ev.KillSignal, 10), Source: srcKill, Action: "kill -" + strconv.FormatInt(ev.KillSignal, 10) + " " + strconv.FormatInt(ev.KillTargetPID, 10) + " (" + ev.KillTargetName + ")"})
	}
}

// serviceManagers stop processes for a living; their kills say nothing about clearing the field.
var serviceManagers = map[string]bool{
	"systemd": true, "init": true, "tini": true, "dumb-init": true, "runc": true, "crun": true, "conmon": true,
	"containerd": true, "containerd-shim": true, "containerd-shim-runc-v2": true, "dockerd": true, "kubelet": true,
	"supervisord": true, "s6-supervise": true, "runsv": true, "podman": true, "systemd-logind": true,
}

// killByName: pkill/killall naming a known miner (or a pattern containing one).
func (c *Classifier) killByName(args []string, o *out) {
	argv.Parse(args, func(name string, long bool) bool {
		return !long && (name == "s" || name == "u" || name == "U" || name == "g" || name == "t" || name == "P")
	}, func(op argv.Opt) bool {
		if op.Name != "" {
			return true
		}
		if name, src := c.minerName(argv.Base(op.Value)); name != "" {
			o.add(evidence.Evidence{Group: evidence.Optimization, Strength: evidence.Strong, Kind: KindKillMiner, Indicator: name, Source: src, Action: joinArgs(args)})
			return false
		}
		lv := strings.ToLower(op.Value)
		for n, src := range c.set.MinerNames {
			if len(n) >= 5 && strings.Contains(lv, n) {
				o.add(evidence.Evidence{Group: evidence.Optimization, Strength: evidence.Strong, Kind: KindKillMiner, Indicator: n, Source: src, Action: joinArgs(args)})
				return false
			}
		}
		return true
	})
}
