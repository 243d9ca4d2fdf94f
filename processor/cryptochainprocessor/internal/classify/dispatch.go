package classify

import (
	"strings"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/argv"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/evidence"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/shellcmd"
)

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
	if len(o.items) > 0 && delegate(ev) {
		for i := range o.items {
			o.items[i].Delegated = true
		}
	}
	return o.items
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
	c.ldPreload(ev, o)
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
		c.wrmsr(args, o)
		return
	case roleCPUPower:
		c.cpupower(args, o)
		return
	case roleKill:
		c.killByName(args, o)
		return
	case roleChattr:
		c.chattr(args, o)
		return
	case roleWipe:
		c.wipe(prog, args, o)
		return
	case roleJournal:
		c.journalctl(args, o)
		return
	case roleHistory:
		c.historyOff(prog, args, o)
		return
	case roleText:
		// Data, not configuration; only base64 blobs (echo <b64> | base64 -d | sh) are looked into.
		for _, a := range args[min(1, len(args)):] {
			c.base64Token(a, o)
		}
		return
	}
	c.minerArgs(args, minerName, role == roleMonero, o)
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

// file routes file.write (any write intent) and file.open (read-only opens of watched devices):
// tuning paths are Optimization, persistence locations Persistence.
func (c *Classifier) file(ev *evidence.Event, o *out) {
	if ev.Path == "" {
		return
	}
	if c.tuningFile(ev, o) {
		return
	}
	c.persistenceFile(ev, o)
}
