// Package shellcmd knows how a shell command line starts its program: shells, wrappers (nohup, env, …), executable.
// It must not know indicators, evidence or chains.
package shellcmd // import "github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/shellcmd"

import (
	"strings"

	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/argv"
)

// shells whose "-c" argument is a script of commands.
var shells = map[string]bool{
	"sh": true, "bash": true, "dash": true, "zsh": true, "ash": true, "ksh": true, "mksh": true, "busybox": true,
}

// Shells returns the shell base names.
func Shells() []string {
	out := make([]string, 0, len(shells))
	for k := range shells {
		out = append(out, k)
	}
	return out
}

// IsWrapper reports command prefixes that run the next word: env assignments, nohup, sudo, ….
// base is the word's base name.
func IsWrapper(base, word string) bool {
	switch base {
	case "nohup", "sudo", "setsid", "nice", "ionice", "exec", "env", "time", "command", "doas", "chrt", "taskset", "stdbuf":
		return true
	}
	eq := strings.IndexByte(word, '=')
	return eq > 0 && !strings.ContainsAny(word[:eq], "/-.")
}

// Executable returns the executable a command will run ("nohup /tmp/x -o … &" → "/tmp/x";
// "/bin/sh -c '/tmp/x'" → "/tmp/x"), skipping wrappers and environment assignments, so a later exec
// can be matched to a command written into a persistence location. "" when there is none.
func Executable(cmd string) string {
	for depth := 0; depth < 3; depth++ {
		cmds := argv.Commands(cmd, 8)
		if len(cmds) == 0 {
			return ""
		}
		f := skipWrappers(cmds[0])
		if len(f) == 0 {
			return ""
		}
		if shells[argv.Base(f[0])] {
			for i := 1; i+1 < len(f); i++ {
				if strings.HasPrefix(f[i], "-") && strings.IndexByte(f[i], 'c') > 0 {
					cmd = f[i+1]
					goto again
				}
			}
			if len(f) > 1 && !strings.HasPrefix(f[1], "-") {
				return f[1] // sh /path/script
			}
		}
		return f[0]
	again:
	}
	return ""
}

// skipWrappers drops leading env assignments and wrapper commands with their options
// ("nice -n 19", "sudo -u bob", "taskset 0x1", "env -i").
func skipWrappers(f []string) []string {
	i, after := 0, false
	for i < len(f) {
		w := f[i]
		switch {
		case IsWrapper(argv.Base(w), w):
			after = true
		case after && strings.HasPrefix(w, "-"):
			if len(w) == 2 && strings.IndexByte("nucgpCt", w[1]) >= 0 && i+1 < len(f) {
				i++
			}
		case after && numberish(w):
		default:
			return f[i:]
		}
		i++
	}
	return nil
}

// numberish matches wrapper arguments such as a nice level, a cpu list or an affinity mask.
func numberish(w string) bool {
	if w == "" {
		return false
	}
	for j := 0; j < len(w); j++ {
		c := w[j]
		if !(c >= '0' && c <= '9' || c == 'x' || c >= 'a' && c <= 'f' || c == ',' || c == '-') {
			return false
		}
	}
	return w[0] >= '0' && w[0] <= '9'
}
