// Package cronline parses cron tables (user, system, /etc/cron.d, anacrontab) into when, as whom, what command.
// It must not know what makes a command suspicious; schedules are validated with robfig/cron's standard parser.
package cronline // import "github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/cronline"

import (
	"strings"

	"github.com/robfig/cron/v3"
)

// Format says which table layout the text follows.
type Format uint8

// Table formats.
const (
	User    Format = iota // "m h dom mon dow command" (crontab -e, /var/spool/cron/…)
	System                // "m h dom mon dow user command" (/etc/crontab, /etc/cron.d/*)
	Anacron               // "period delay job-id command" (/etc/anacrontab)
)

// Entry is one scheduled job.
type Entry struct {
	Schedule string // "*/5 * * * *", "@reboot", or the anacron period
	User     string // system tables only
	Command  string
	Line     int // 1-based line number
}

// Bounds for hostile input.
const (
	MaxLines   = 1024
	MaxEntries = 64
	MaxLineLen = 8 << 10
)

var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// FormatFor guesses the layout from the file path.
func FormatFor(path string) Format {
	switch {
	case path == "/etc/crontab", strings.HasPrefix(path, "/etc/cron.d/"):
		return System
	case strings.HasSuffix(path, "anacrontab"):
		return Anacron
	}
	return User
}

// Parse returns the jobs of a cron table. Comments, blank lines, environment assignments and lines
// whose schedule does not parse are skipped; at most MaxEntries are returned.
func Parse(text string, f Format) []Entry {
	var out []Entry
	lineNo := 0
	for len(text) > 0 && lineNo < MaxLines && len(out) < MaxEntries {
		line := text
		if nl := strings.IndexByte(text, '\n'); nl >= 0 {
			line, text = text[:nl], text[nl+1:]
		} else {
			text = ""
		}
		lineNo++
		if len(line) > MaxLineLen {
			continue
		}
		if e, ok := ParseLine(line, f); ok {
			e.Line = lineNo
			out = append(out, e)
		}
	}
	return out
}

// ParseLine parses one table line.
func ParseLine(line string, f Format) (Entry, bool) {
	line = strings.TrimSpace(strings.TrimRight(line, "\r"))
	if line == "" || line[0] == '#' || isAssignment(line) {
		return Entry{}, false
	}
	fields := splitN(line, 7)
	var e Entry
	switch {
	case f == Anacron:
		if len(fields) < 4 {
			return Entry{}, false
		}
		e.Schedule = fields[0]
		if !anacronPeriod(fields[0]) || !digits(fields[1]) {
			return Entry{}, false
		}
		e.Command = joinFrom(line, 3)
	case strings.HasPrefix(fields[0], "@"):
		if _, err := parser.Parse(fields[0]); err != nil && fields[0] != "@reboot" {
			return Entry{}, false
		}
		e.Schedule = fields[0]
		skip := 1
		if f == System {
			if len(fields) < 3 {
				return Entry{}, false
			}
			e.User = fields[1]
			skip = 2
		}
		e.Command = joinFrom(line, skip)
	default:
		if len(fields) < 6 {
			return Entry{}, false
		}
		sched := strings.Join(fields[:5], " ")
		if _, err := parser.Parse(sched); err != nil {
			return Entry{}, false
		}
		e.Schedule = sched
		skip := 5
		if f == System {
			if len(fields) < 7 {
				return Entry{}, false
			}
			e.User = fields[5]
			skip = 6
		}
		e.Command = joinFrom(line, skip)
	}
	if e.Command == "" {
		return Entry{}, false
	}
	return e, true
}

func isAssignment(line string) bool {
	eq := strings.IndexByte(line, '=')
	if eq <= 0 {
		return false
	}
	for i := 0; i < eq; i++ {
		c := line[i]
		if !(c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == ' ') {
			return false
		}
	}
	return true
}

// splitN splits at most n blank-separated fields.
func splitN(s string, n int) []string {
	var out []string
	for len(out) < n {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			break
		}
		end := strings.IndexAny(s, " \t")
		if end < 0 {
			out = append(out, s)
			break
		}
		out = append(out, s[:end])
		s = s[end:]
	}
	return out
}

// joinFrom returns the text after the first k blank-separated fields (the command, verbatim).
func joinFrom(s string, k int) string {
	for i := 0; i < k; i++ {
		s = strings.TrimLeft(s, " \t")
		end := strings.IndexAny(s, " \t")
		if end < 0 {
			return ""
		}
		s = s[end:]
	}
	return strings.TrimSpace(s)
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func anacronPeriod(s string) bool {
	return digits(s) || s == "@daily" || s == "@weekly" || s == "@monthly" || s == "@yearly" || s == "@annually"
}
