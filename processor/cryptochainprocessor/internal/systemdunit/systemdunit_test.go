package systemdunit

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParse(t *testing.T) {
	u := Parse("[Unit]\nDescription=x\nExecStart=/not/in/service\n\n[Service]\nType=simple\nUser=nobody\nExecStartPre=-/bin/mkdir -p /tmp/x\nExecStart=@/tmp/x/run run --donate-level 1 \\\n  -o pool.example.net:3333\n; comment\n# comment\nExecSearchPath=/usr/bin\nRestart=always\n[Install]\nWantedBy=multi-user.target\n")
	assert.Equal(t, []string{"/bin/mkdir -p /tmp/x", "/tmp/x/run run --donate-level 1 -o pool.example.net:3333"}, u.Exec)
	assert.Equal(t, "nobody", u.User)
	assert.Equal(t, "", u.Trigger)

	tm := Parse("[Timer]\r\nOnCalendar=*:0/5\r\nUnit=upd.service\r\n")
	assert.Equal(t, "upd.service", tm.Trigger)
	assert.Empty(t, tm.Exec)
	assert.Equal(t, []string{"/usr/bin/env x"}, Parse("[Service]\nExecStart=+!:/usr/bin/env x").Exec)
}

func TestParseHostile(t *testing.T) {
	assert.Empty(t, Parse(strings.Repeat("\x00\xff=\n", 100000)).Exec)
	assert.Len(t, Parse("[Service]\n"+strings.Repeat("ExecStart=/x\n", 1000)).Exec, MaxExec)
	u := Parse("[Service]\nExecStart=/x \\\n" + strings.Repeat("\\\n", 100000))
	assert.Len(t, u.Exec, 1)
	assert.Empty(t, Parse("[Service\nExecStart").Exec)
	assert.Empty(t, Parse("").Exec)
}

func FuzzUnit(f *testing.F) {
	f.Add("[Service]\nExecStart=/x\n")
	f.Fuzz(func(t *testing.T, s string) { Parse(s) })
}
