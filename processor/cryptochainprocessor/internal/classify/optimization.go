package classify

import (
	"strconv"
	"strings"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/argv"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/evidence"
)

const (
	srcTuning = "miner host tuning (XMRig docs: MSR mod, huge pages, 1GB pages)"
	srcKill   = "competing-miner removal (kills of other processes)"
)

// tuningFile grades a file access to a tuning path (MSR device, sysctl, huge pages, CPU frequency)
// and reports whether the path was one.
func (c *Classifier) tuningFile(ev *evidence.Event, o *out) bool {
	kind, strong, ind := tuningPath(ev.Path, ev.Name == contract.EventFileWrite)
	if kind == "" {
		return false
	}
	s := evidence.Weak
	if strong {
		s = evidence.Strong
	}
	o.add(evidence.Evidence{Group: evidence.Optimization, Strength: s, Kind: kind, Indicator: ind, Source: srcTuning, Path: ev.Path, Action: opAction(ev)})
	return true
}

// wrmsr: writing a model-specific register (the RandomX MSR mod) is strong.
func (c *Classifier) wrmsr(args []string, o *out) {
	o.add(evidence.Evidence{Group: evidence.Optimization, Strength: evidence.Strong, Kind: KindMSR, Indicator: "wrmsr", Source: srcTuning, Action: joinArgs(args)})
}

// tuningPath classifies an Optimization path. Reads count only for the MSR device.
func tuningPath(p string, write bool) (kind string, strong bool, ind string) {
	switch {
	case strings.HasPrefix(p, "/dev/cpu/") && strings.HasSuffix(p, "/msr"):
		return KindMSR, true, p
	case !write:
		return "", false, ""
	case p == "/sys/module/msr/parameters/allow_writes":
		return KindMSR, true, p
	case strings.HasPrefix(p, "/proc/sys/"):
		var buf [128]byte
		name := sysctlName(p[len("/proc/sys/"):], buf[:])
		k, s := sysctlKind(name, "")
		return k, s, name
	case strings.HasPrefix(p, "/sys/kernel/mm/hugepages/"), strings.HasPrefix(p, "/sys/devices/system/node/") && strings.Contains(p, "/hugepages/"):
		if strings.HasSuffix(p, "nr_hugepages") || strings.HasSuffix(p, "nr_overcommit_hugepages") {
			return KindHugepages, true, p
		}
	case strings.HasPrefix(p, "/sys/devices/system/cpu/"):
		if strings.HasSuffix(p, "/scaling_governor") || strings.HasSuffix(p, "/boost") || strings.HasSuffix(p, "/no_turbo") ||
			strings.HasSuffix(p, "/energy_performance_preference") || strings.HasSuffix(p, "/scaling_min_freq") {
			return KindCPUGovernor, true, p
		}
	}
	return "", false, ""
}

// sysctlName converts "vm/nr_hugepages" to "vm.nr_hugepages" in buf (names are short).
func sysctlName(s string, buf []byte) string {
	if len(s) > len(buf) {
		return s
	}
	n := copy(buf, s)
	for i := 0; i < n; i++ {
		if buf[i] == '/' {
			buf[i] = '.'
		}
	}
	return string(buf[:n]) // only reached for writes under /proc/sys, which are rare
}

// sysctlKind classifies a sysctl write; value "" means unknown (a file write without the value).
func sysctlKind(name, value string) (string, bool) {
	switch name {
	case "vm.nr_hugepages", "vm.nr_hugepages_mempolicy", "vm.nr_overcommit_hugepages":
		if value == "0" {
			return "", false // releasing huge pages
		}
		return KindHugepages, true
	case "vm.drop_caches":
		return KindDropCaches, true
	case "kernel.nmi_watchdog":
		switch value {
		case "0":
			return KindNMIWatchdog, true
		case "":
			return KindNMIWatchdog, false
		}
	}
	return "", false
}

func (c *Classifier) sysctlWrite(ev *evidence.Event, o *out) {
	name := ev.SysctlName
	var buf [128]byte
	if name == "" && strings.HasPrefix(ev.Path, "/proc/sys/") {
		name = sysctlName(ev.Path[len("/proc/sys/"):], buf[:])
	} else if strings.IndexByte(name, '/') >= 0 {
		name = sysctlName(name, buf[:])
	}
	kind, strong := sysctlKind(name, strings.TrimSpace(ev.SysctlValue))
	if kind == "" {
		return
	}
	s := evidence.Weak
	if strong {
		s = evidence.Strong
	}
	failed := ev.ErrorType != ""
	o.add(evidence.Evidence{Group: evidence.Optimization, Strength: s, Kind: kind, Indicator: name + "=" + ev.SysctlValue, Source: srcTuning, Path: ev.Path, Action: "sysctl " + name + "=" + ev.SysctlValue, Failed: failed})
}

// sysctlExec: "sysctl -w vm.nr_hugepages=1280", "sysctl kernel.nmi_watchdog=0".
func (c *Classifier) sysctlExec(args []string, o *out) {
	for _, a := range args[min(1, len(args)):] {
		eq := strings.IndexByte(a, '=')
		if eq <= 0 || a[0] == '-' {
			continue
		}
		var buf [128]byte
		name := sysctlName(strings.TrimSpace(a[:eq]), buf[:])
		val := strings.TrimSpace(a[eq+1:])
		if kind, strong := sysctlKind(name, val); kind != "" {
			s := evidence.Weak
			if strong {
				s = evidence.Strong
			}
			o.add(evidence.Evidence{Group: evidence.Optimization, Strength: s, Kind: kind, Indicator: name + "=" + val, Source: srcTuning, Action: "sysctl " + name + "=" + val})
		}
	}
}

// modprobe: "modprobe msr allow_writes=on" (strong), "modprobe msr" (weak: also needed to read MSRs).
func (c *Classifier) modprobe(args []string, o *out) {
	msr, allow := false, false
	for _, a := range args[min(1, len(args)):] {
		switch {
		case a == "msr" || strings.HasSuffix(a, "/msr.ko") || strings.HasSuffix(a, "/msr.ko.zst") || strings.HasSuffix(a, "/msr.ko.xz"):
			msr = true
		case strings.HasPrefix(a, "allow_writes="):
			v := a[len("allow_writes="):]
			allow = v == "on" || v == "1" || v == "y" || v == "Y"
		}
	}
	if !msr {
		if len(args) > 0 {
			c.kernelModule(argv.Base(args[0]), args, o)
		}
		return
	}
	s := evidence.Weak
	if allow {
		s = evidence.Strong
	}
	o.add(evidence.Evidence{Group: evidence.Optimization, Strength: s, Kind: KindMSR, Indicator: joinArgs(args), Source: srcTuning, Action: joinArgs(args)})
}

// cpupower: "cpupower frequency-set -g performance".
func (c *Classifier) cpupower(args []string, o *out) {
	set := false
	for _, a := range args {
		if a == "frequency-set" || a == "set" {
			set = true
		}
		if set && (a == "-g" || a == "--governor" || strings.HasPrefix(a, "--governor=") || a == "--turbo-boost" || a == "-t") {
			o.add(evidence.Evidence{Group: evidence.Optimization, Strength: evidence.Strong, Kind: KindCPUGovernor, Indicator: joinArgs(args), Source: srcTuning, Action: joinArgs(args)})
			return
		}
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
	if (ev.KillSignal == 9 || ev.KillSignal == 15) && !(serviceManagers[argv.Base(ev.Exe)] && systemProgram(ev)) {
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
