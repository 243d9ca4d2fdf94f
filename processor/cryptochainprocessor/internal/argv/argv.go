// Package argv splits and parses command lines as getopt does ("-o x", "-ox", "--url=x", "--"), without allocating.
// It must not know any program: the caller says which option names take a value.
package argv // import "github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/argv"

import "strings"

// Opt is one parsed element of argv.
type Opt struct {
	// Name is the option name without dashes ("o", "url"); empty for a positional argument.
	Name string
	// Long is true for "--name" options (and single-dash long options the caller declared).
	Long bool
	// Value is the option's value or the positional argument itself.
	Value string
	// HasValue is true when the option carried a value (attached or taken from the next argument).
	HasValue bool
	// Index is the argv index the option (or positional) started at.
	Index int
}

// TakesValue says whether the option name (short: one letter, long: without "--") consumes a value.
type TakesValue func(name string, long bool) bool

// Parse walks args[1:] (args[0] is the program) and calls fn for each option and positional argument,
// stopping early when fn returns false.
func Parse(args []string, takes TakesValue, fn func(Opt) bool) {
	endOfOpts := false
	for i := 1; i < len(args); i++ {
		a := args[i]
		if endOfOpts || len(a) < 2 || a[0] != '-' {
			if !fn(Opt{Value: a, Index: i}) {
				return
			}
			continue
		}
		if a == "--" {
			endOfOpts = true
			continue
		}
		if a[1] == '-' { // --name, --name=value, --name value
			name := a[2:]
			for j := 0; j < len(name); j++ {
				if name[j] == '=' {
					if !fn(Opt{Name: name[:j], Long: true, Value: name[j+1:], HasValue: true, Index: i}) {
						return
					}
					goto next
				}
			}
			if takes != nil && takes(name, true) && i+1 < len(args) {
				if !fn(Opt{Name: name, Long: true, Value: args[i+1], HasValue: true, Index: i}) {
					return
				}
				i++
				continue
			}
			if !fn(Opt{Name: name, Long: true, Index: i}) {
				return
			}
			continue
		}
		// Single dash: "-name" declared long (cpuminer/ethminer style "-pool"), else short letters.
		if len(a) > 2 && takes != nil {
			name, val, hasEq := a[1:], "", false
			for j := 0; j < len(name); j++ {
				if name[j] == '=' {
					name, val, hasEq = name[:j], name[j+1:], true
					break
				}
			}
			if len(name) > 1 && takes(name, true) {
				switch {
				case hasEq:
					if !fn(Opt{Name: name, Long: true, Value: val, HasValue: true, Index: i}) {
						return
					}
				case i+1 < len(args):
					if !fn(Opt{Name: name, Long: true, Value: args[i+1], HasValue: true, Index: i}) {
						return
					}
					i++
				default:
					if !fn(Opt{Name: name, Long: true, Index: i}) {
						return
					}
				}
				continue
			}
		}
		for j := 1; j < len(a); j++ {
			name := a[j : j+1]
			if j+1 < len(a) && a[j+1] == '=' { // "-o=x"
				if !fn(Opt{Name: name, Value: a[j+2:], HasValue: true, Index: i}) {
					return
				}
				break
			}
			if takes != nil && takes(name, false) {
				switch {
				case j+1 < len(a): // "-ox"
					if !fn(Opt{Name: name, Value: a[j+1:], HasValue: true, Index: i}) {
						return
					}
				case i+1 < len(args): // "-o x", "-ko x"
					if !fn(Opt{Name: name, Value: args[i+1], HasValue: true, Index: i}) {
						return
					}
					i++
				default:
					if !fn(Opt{Name: name, Index: i}) {
						return
					}
				}
				break
			}
			if !fn(Opt{Name: name, Index: i}) {
				return
			}
		}
	next:
	}
}

// Base returns the last path element of p ("/usr/bin/xmrig" → "xmrig"), without allocating.
func Base(p string) string {
	for len(p) > 1 && p[len(p)-1] == '/' {
		p = p[:len(p)-1]
	}
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' {
			return p[i+1:]
		}
	}
	return p
}

// Fields splits a shell-ish command line on blanks, honouring simple single and double quotes, for
// sources that give only a command line (cron lines, ExecStart, other agents). It is not a shell.
func Fields(s string, max int) []string {
	var out []string
	i := 0
	for i < len(s) && len(out) < max {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
			i++
		}
		if i >= len(s) {
			break
		}
		var b []byte
		quoted := false
		for i < len(s) && s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r' {
			c := s[i]
			if c == '\'' || c == '"' {
				quoted = true
				end := i + 1
				for end < len(s) && s[end] != c {
					end++
				}
				b = append(b, s[i+1:min(end, len(s))]...)
				i = end + 1
				continue
			}
			b = append(b, c)
			i++
		}
		if len(b) > 0 || quoted {
			out = append(out, string(b))
		}
	}
	return out
}

// Commands splits a shell script (the argument of "sh -c", a cron command) into simple commands on
// ";", "&&", "||", "|", "&" and newlines, each split into fields. Bounded by max commands.
func Commands(s string, max int) [][]string {
	var out [][]string
	start := 0
	var quote byte
	for i := 0; i <= len(s) && len(out) < max; i++ {
		if i < len(s) {
			c := s[i]
			if quote != 0 {
				if c == quote {
					quote = 0
				}
				continue
			}
			if c == '\'' || c == '"' {
				quote = c
				continue
			}
			if c != ';' && c != '&' && c != '|' && c != '\n' && c != '(' && c != ')' && c != '`' {
				continue
			}
		}
		if f := Fields(s[start:min(i, len(s))], 256); len(f) > 0 {
			out = append(out, f)
		}
		start = i + 1
	}
	return out
}

// Character classes for EachCommand.
const (
	chWord uint8 = iota
	chBlank
	chSep
	chQuote
)

var chClass = func() (t [256]uint8) {
	for _, c := range " \t\r" {
		t[c] = chBlank
	}
	for _, c := range ";&|\n()`" {
		t[c] = chSep
	}
	t['\''], t['"'] = chQuote, chQuote
	return t
}()

// EachCommand is Commands without allocation: it calls fn with the fields of each simple command of
// a shell script (at most max commands, 256 fields each). Fields are substrings of s; a field that is
// one quoted chunk ('a b', "a b") loses its quotes, other quoting is kept verbatim. buf is reused for
// the fields and returned for the next call; fn must not keep the slice.
func EachCommand(s string, max int, buf []string, fn func([]string)) []string {
	fields := buf[:0]
	n := 0
	i := 0
	for i < len(s) && n < max {
		switch chClass[s[i]] {
		case chBlank:
			i++
			continue
		case chSep:
			if len(fields) > 0 {
				fn(fields)
				n++
				fields = fields[:0]
			}
			i++
			continue
		}
		// A field: words and quoted chunks up to a blank or separator outside quotes.
		start := i
		for i < len(s) {
			c := chClass[s[i]]
			if c == chWord {
				i++
				continue
			}
			if c != chQuote {
				break
			}
			q := s[i]
			end := strings.IndexByte(s[i+1:], q)
			if end < 0 {
				i = len(s)
				break
			}
			i += end + 2
		}
		f := s[start:i]
		if len(f) >= 2 && (f[0] == '\'' || f[0] == '"') && f[len(f)-1] == f[0] && strings.IndexByte(f[1:len(f)-1], f[0]) < 0 {
			f = f[1 : len(f)-1]
		}
		if len(fields) < 256 {
			fields = append(fields, f)
		}
	}
	if len(fields) > 0 && n < max {
		fn(fields)
	}
	return fields[:0]
}
