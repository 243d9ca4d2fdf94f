// Package systemdunit extracts what a systemd unit will run (Exec*= lines, the unit a timer or path triggers).
// It must not know what makes a command suspicious.
package systemdunit // import "github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/systemdunit"

import "strings"

// Unit is the part of a unit file persistence evidence needs.
type Unit struct {
	Exec    []string // ExecStart=, ExecStartPre=, ExecStartPost=, ExecReload=, ExecStop= commands, prefixes stripped
	Trigger string   // Unit= of a [Timer] or [Path] section
	User    string   // User= of [Service]
}

// Bounds for hostile input.
const (
	MaxLines = 2048
	MaxExec  = 16
)

// Parse reads unit text. It never fails: a unit without Exec lines simply yields none.
func Parse(text string) Unit {
	var u Unit
	section := ""
	n := 0
	for len(text) > 0 && n < MaxLines {
		line := text
		if nl := strings.IndexByte(text, '\n'); nl >= 0 {
			line, text = text[:nl], text[nl+1:]
		} else {
			text = ""
		}
		n++
		line = strings.TrimSpace(strings.TrimRight(line, "\r"))
		// Continuation lines ("\" at the end) are joined for Exec lines only.
		for strings.HasSuffix(line, "\\") && len(text) > 0 && n < MaxLines {
			next := text
			if nl := strings.IndexByte(text, '\n'); nl >= 0 {
				next, text = text[:nl], text[nl+1:]
			} else {
				text = ""
			}
			n++
			line = strings.TrimSpace(strings.TrimSuffix(line, "\\")) + " " + strings.TrimSpace(next)
		}
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if line[0] == '[' {
			section = strings.TrimSuffix(strings.TrimPrefix(line, "["), "]")
			continue
		}
		eq := strings.IndexByte(line, '=')
		if eq <= 0 {
			continue
		}
		key, val := strings.TrimSpace(line[:eq]), strings.TrimSpace(line[eq+1:])
		switch {
		case section == "Service" && strings.HasPrefix(key, "Exec") && key != "ExecSearchPath":
			if c := stripPrefixes(val); c != "" && len(u.Exec) < MaxExec {
				u.Exec = append(u.Exec, c)
			}
		case section == "Service" && key == "User":
			u.User = val
		case (section == "Timer" || section == "Path") && key == "Unit":
			u.Trigger = val
		}
	}
	return u
}

// stripPrefixes removes the special executable prefixes "@-:+!" systemd allows before the path.
func stripPrefixes(s string) string {
	for len(s) > 0 && strings.IndexByte("@-:+!|", s[0]) >= 0 {
		s = s[1:]
	}
	return strings.TrimSpace(s)
}
