package classify

import (
	"strings"

	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/argv"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/evidence"
)

// Concealment kinds (evidence.Concealment: shown in a finding, counted in no group, so none of them
// can raise a level or make a finding alone; an admin's profiling preload stays silent):
//   - KindPreload "preload": a write to /etc/ld.so.preload (libprocesshider and its kind hide the
//     miner from ps and top in every process; it starts nothing).
//   - KindLDPreload "ld_preload": an exec whose LD_PRELOAD names a library in a world-writable or
//     hidden directory.
//   - KindKernelModule "kernel_module": insmod of any module, modprobe of a module file (rootkits
//     such as Diamorphine hide processes from the kernel side).
//   - KindLogWipe "log_wipe": rm, shred, truncate, unlink or a link to /dev/null of shell history or
//     of a file under /var/log; journalctl --vacuum-*/--rotate; history -c, unset HISTFILE,
//     HISTFILE=/dev/null, HISTSIZE=0 in a shell script.
//   - KindImmutable "immutable": chattr +i (a cron table or miner the owner can no longer remove).
const (
	KindPreload      = "preload"
	KindLDPreload    = "ld_preload"
	KindKernelModule = "kernel_module"
	KindLogWipe      = "log_wipe"
	KindImmutable    = "immutable"
)

const srcConcealment = "concealment: hides the miner or the traces of the attack"

func concealed(kind, indicator, action string) evidence.Evidence {
	return evidence.Evidence{Group: evidence.Concealment, Strength: evidence.Strong, Kind: kind, Indicator: indicator, Source: srcConcealment, Action: action}
}

// chattr: "chattr +i FILE..." (also "+ai", "+ia").
func (c *Classifier) chattr(args []string, o *out) {
	set := false
	var files []string
	for _, a := range args[min(1, len(args)):] {
		switch {
		case len(a) > 1 && a[0] == '+' && strings.IndexByte(a, 'i') > 0:
			set = true
		case a == "" || a[0] == '-' || a[0] == '+' || a[0] == '=':
		default:
			files = append(files, a)
		}
	}
	if !set || len(files) == 0 {
		return
	}
	for _, f := range files[:min(len(files), 4)] {
		e := concealed(KindImmutable, f, joinArgs(args))
		e.Path = f
		o.add(e)
	}
}

// wipe: rm/shred/truncate/unlink of shell history or /var/log files; ln -s /dev/null over history.
func (c *Classifier) wipe(prog string, args []string, o *out) {
	devnull := false
	for _, a := range args[min(1, len(args)):] {
		if a == "/dev/null" {
			devnull = true
		}
	}
	if prog == "ln" && !devnull {
		return
	}
	for _, a := range args[min(1, len(args)):] {
		if a == "" || a[0] == '-' || a == "/dev/null" {
			continue
		}
		if traceFile(a) {
			e := concealed(KindLogWipe, a, joinArgs(args))
			e.Path = a
			o.add(e)
			return
		}
	}
}

// traceFile reports whether p is a shell history file or a system log.
func traceFile(p string) bool {
	if strings.HasPrefix(p, "/var/log/") || p == "/var/log" {
		return true
	}
	switch argv.Base(p) {
	case ".bash_history", ".zsh_history", ".ash_history", ".sh_history", ".history", ".python_history",
		".mysql_history", ".psql_history", ".lesshst", ".viminfo", "wtmp", "btmp", "lastlog", "utmp":
		return true
	}
	return false
}

// journalctl --vacuum-size/--vacuum-time/--vacuum-files or --rotate deletes the journal.
func (c *Classifier) journalctl(args []string, o *out) {
	for _, a := range args[min(1, len(args)):] {
		if strings.HasPrefix(a, "--vacuum") || a == "--rotate" {
			o.add(concealed(KindLogWipe, "journalctl "+a, joinArgs(args)))
			return
		}
	}
}

// historyOff: "history -c", "unset HISTFILE", "export HISTFILE=/dev/null", "export HISTSIZE=0"
// (shell builtins: seen only inside a "sh -c" script).
func (c *Classifier) historyOff(prog string, args []string, o *out) {
	for _, a := range args[min(1, len(args)):] {
		off := false
		switch prog {
		case "history":
			off = a == "-c"
		case "unset":
			off = a == "HISTFILE"
		case "export":
			off = a == "HISTFILE=/dev/null" || a == "HISTSIZE=0" || a == "HISTFILESIZE=0"
		}
		if off {
			o.add(concealed(KindLogWipe, prog+" "+a, joinArgs(args)))
			return
		}
	}
}

// ldPreload: LD_PRELOAD in the environment of an exec naming a library in a world-writable or
// hidden directory (an admin's profiler lives under /usr/lib or /opt).
func (c *Classifier) ldPreload(ev *evidence.Event, o *out) {
	for _, v := range ev.EnvVars {
		if v.Name != "LD_PRELOAD" {
			continue
		}
		for _, lib := range strings.FieldsFunc(v.Value, func(r rune) bool { return r == ':' || r == ' ' }) {
			if unusualExe(lib) != "" {
				e := concealed(KindLDPreload, lib, "LD_PRELOAD="+lib)
				e.Path = lib
				o.add(e)
				return
			}
		}
	}
}

// kernelModule: insmod of any module, modprobe of a module file path (not the msr module, which
// is Optimization).
func (c *Classifier) kernelModule(prog string, args []string, o *out) {
	for _, a := range args[min(1, len(args)):] {
		if a == "" || a[0] == '-' || strings.Contains(a, "=") || isMSRModule(a) {
			continue
		}
		if prog == "insmod" || strings.Contains(a, ".ko") {
			e := concealed(KindKernelModule, a, joinArgs(args))
			if strings.HasPrefix(a, "/") {
				e.Path = a
			}
			o.add(e)
		}
		return
	}
}

func isMSRModule(a string) bool {
	return a == "msr" || strings.HasSuffix(a, "/msr.ko") || strings.HasSuffix(a, "/msr.ko.zst") || strings.HasSuffix(a, "/msr.ko.xz")
}

// delegate reports whether the acting process is a daemon acting for others: a container runtime
// or a package manager, installed as one (a copy named podman in /tmp is not). Its evidence stays in
// its own context (not inherited by descendants).
func delegate(ev *evidence.Event) bool {
	b := argv.Base(ev.Exe)
	return (containerRuntimes[b] || packageManagers[b]) && systemProgram(ev)
}

// systemDirs are where installed programs live. A rule meant for a specific program (a package
// manager, systemd, a container runtime, a service manager) matches its name only there: the same
// name anywhere else is a copy or a namesake anyone can make.
var systemDirs = []string{"/usr/bin/", "/usr/sbin/", "/bin/", "/sbin/", "/usr/local/bin/", "/usr/local/sbin/",
	"/usr/lib/", "/lib/", "/usr/lib64/", "/lib64/", "/usr/libexec/"}

// systemProgram reports whether the acting executable is an installed program: a regular file (not a
// memfd, not deleted) under a system directory, not in a hidden directory there.
func systemProgram(ev *evidence.Event) bool {
	exe := ev.Exe
	if exe == "" || ev.ExeMemfd || ev.ExeDeleted || strings.Contains(exe, "/.") {
		return false
	}
	for _, d := range systemDirs {
		if rest, ok := strings.CutPrefix(exe, d); ok && rest != "" {
			// The bin directories hold programs directly; the lib directories hold them one or two
			// levels down (/usr/lib/systemd/systemd, /usr/lib/snapd/snapd).
			return !strings.HasSuffix(d, "bin/") || !strings.Contains(rest, "/")
		}
	}
	return false
}
