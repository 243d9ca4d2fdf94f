package classify

import (
	"strings"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/argv"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/cronline"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/evidence"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/indicators"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/systemdunit"
)

const srcCrontab = "crontab(1) replacing a table"

// persistenceFile grades a write under a persistence location (cron, at, systemd, rc, shell startup
// files, configured paths), with the command it will run when the content was captured; a write to
// ld.so.preload is concealment. A write inside a chroot is neither.
func (c *Classifier) persistenceFile(ev *evidence.Event, o *out) {
	p := ev.Path
	if ev.Name != contract.EventFileWrite || ev.Op == "unlink" || ev.FileRoot != "" {
		return // a chroot's or an unpacked image's files start nothing on the host
	}
	if systemProgram(ev) && (packageManagers[argv.Base(ev.Exe)] || strings.HasPrefix(argv.Base(ev.Exe), "systemd")) {
		return // package installs and systemd's own runtime units (the installed programs, not a copy named like them)
	}
	rule, ok := c.persistenceRule(p)
	if !ok || crontabStaging(ev) {
		return
	}
	if rule.Kind == contract.MechanismPreload {
		// ld.so.preload starts nothing: it hides the miner in every process (libprocesshider).
		e := concealed(KindPreload, p, opAction(ev))
		e.Path, e.Source = p, rule.Source
		if lib := lastScriptCommand(ev.Content); lib != "" {
			e.Action += " (" + lib + ")"
		}
		o.add(e)
		return
	}
	e := evidence.Evidence{Group: evidence.Persistence, Strength: evidence.Strong, Kind: rule.Kind, Indicator: p, Source: rule.Source, Path: p, Action: opAction(ev)}
	if ev.Content != "" {
		e.Command = c.persistedCommand(rule.Kind, p, ev.Content)
	}
	if e.Command == "" && ev.Op == "symlink" && ev.SourcePath != "" && rule.Kind == "systemd" {
		e.Command = "unit " + argv.Base(ev.SourcePath)
	}
	o.add(e)
}

// crontabStaging reports a write by the crontab binary to its staging file in the spool (Debian
// `tmp.XXXXXX`, cronie `#tmp.HOST.XXXXXX`, BusyBox `<user>.new`): cron never runs that name, the
// rename onto the user's table that follows is the act and names the real path. Counting the staging
// write would report a throw-away path as the persistence to remove.
func crontabStaging(ev *evidence.Event) bool {
	if argv.Base(ev.Exe) != "crontab" || ev.Op == "rename" || ev.Op == "link" {
		return false
	}
	b := argv.Base(ev.Path)
	return strings.HasPrefix(b, "tmp.") || strings.HasPrefix(b, "#tmp") || strings.HasSuffix(b, ".new")
}

// persistenceRule is set.PersistenceRule remembering the last path: writes come in runs for one
// file (open, writes, rename of an editor's save), and the rule scan compares several prefixes. The
// rules do not change after New, so the remembered answer stays right.
func (c *Classifier) persistenceRule(p string) (indicators.PathRule, bool) {
	if c.lastRule.set && p == c.lastRule.path {
		return c.lastRule.rule, c.lastRule.ok
	}
	rule, ok := c.set.PersistenceRule(p)
	if len(p) <= maxRememberedPath { // nothing large is kept
		c.lastRule = lastRule{path: p, rule: rule, ok: ok, set: true}
	}
	return rule, ok
}

// maxRememberedPath bounds the path persistenceRule keeps (PATH_MAX).
const maxRememberedPath = 4096

type lastRule struct {
	path    string
	rule    indicators.PathRule
	ok, set bool
}

// crontab classifies the crontab binary: replacing a table is persistence, listing is not.
// Every form is weak and names no path: the act is the spool write crontab makes a few ms later
// (/var/spool/cron/crontabs/<user>, /var/spool/cron/<user>, /etc/crontabs/<user>), which the
// receiver reports as a file.write with the true path and result; a failed one does not count.
// "crontab -e" may also be abandoned.
func (c *Classifier) crontab(args []string, o *out) {
	file, user, list, edit, remove, any := "", "", false, false, false, false
	argv.Parse(args, func(name string, long bool) bool { return !long && name == "u" }, func(op argv.Opt) bool {
		switch {
		case op.Name == "u":
			user = op.Value
		case op.Name == "" && file == "":
			file, any = op.Value, true
		case op.Name == "l":
			list = true
		case op.Name == "e":
			edit = true
		case op.Name == "r":
			remove = true
		case op.Name == "" && op.Value == "-":
			file = "-"
		}
		return true
	})
	if len(args) > 1 && args[len(args)-1] == "-" {
		file, any = "-", true
	}
	switch {
	case list || remove:
		return
	case any:
		table := "the invoking user's table"
		if user != "" {
			table = user + "'s table"
		}
		src := srcCrontab + " from stdin"
		if file != "-" {
			src = srcCrontab + " from " + file
		}
		o.add(evidence.Evidence{Group: evidence.Persistence, Strength: evidence.Weak, Kind: KindCrontab, Indicator: "crontab " + file, Source: src, Action: "crontab " + file + " (replaces " + table + ")"})
	case edit:
		o.add(evidence.Evidence{Group: evidence.Persistence, Strength: evidence.Weak, Kind: KindCrontab, Indicator: "crontab -e", Source: srcCrontab, Action: joinArgs(args)})
	}
}

// persistedCommand extracts the command a persistence file will run: the most suspicious cron entry
// or Exec line (one that yields miner evidence itself), else the last one.
func (c *Classifier) persistedCommand(kind, path, content string) string {
	var cmds []string
	switch kind {
	case "cron", "anacron":
		if strings.HasPrefix(path, "/etc/cron.") && !strings.HasPrefix(path, "/etc/cron.d/") {
			return lastScriptCommand(content) // run-parts script
		}
		for _, e := range cronline.Parse(content, cronline.FormatFor(path)) {
			cmds = append(cmds, e.Command)
		}
	case "systemd":
		u := systemdunit.Parse(content)
		cmds = u.Exec
		if len(cmds) == 0 && u.Trigger != "" {
			return "unit " + u.Trigger
		}
	case "custom":
		for _, e := range cronline.Parse(content, cronline.User) {
			cmds = append(cmds, e.Command)
		}
		if len(cmds) == 0 {
			if u := systemdunit.Parse(content); len(u.Exec) > 0 {
				cmds = u.Exec
			}
		}
		if len(cmds) == 0 {
			return lastScriptCommand(content)
		}
	default: // rc, at, shell startup files: shell scripts
		return lastScriptCommand(content)
	}
	if len(cmds) == 0 {
		return ""
	}
	for _, cmd := range cmds {
		if c.suspicious(cmd) {
			return clip(cmd, 1024)
		}
	}
	return clip(cmds[len(cmds)-1], 1024)
}

// suspicious reports whether a command line yields Miner evidence or runs from an unusual place.
func (c *Classifier) suspicious(cmd string) bool {
	var o out
	c.shellScript([]string{"sh", "-c", cmd}, &o)
	if len(o.items) > 0 {
		return true
	}
	f := argv.Fields(cmd, 1)
	return len(f) > 0 && unusualExe(f[0]) != ""
}

// lastScriptCommand returns the last meaningful line of a shell script (rc.local appends before
// "exit 0"; at jobs end with the command before atd's heredoc delimiter), skipping comments, blank
// lines, "exit" and block ends.
func lastScriptCommand(s string) string {
	last := ""
	n := 0
	for len(s) > 0 && n < 4096 {
		line := s
		if nl := strings.IndexByte(s, '\n'); nl >= 0 {
			line, s = s[:nl], s[nl+1:]
		} else {
			s = ""
		}
		n++
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || strings.HasPrefix(line, "exit") || line == "}" || line == "fi" || line == "esac" ||
			strings.HasPrefix(line, "marcinDELIMITER") || line == ";;" {
			continue
		}
		last = line
	}
	return clip(last, 1024)
}
