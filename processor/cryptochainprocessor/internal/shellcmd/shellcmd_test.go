package shellcmd

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestExecutable(t *testing.T) {
	for in, want := range map[string]string{
		"/tmp/.x/run -o stratum+tcp://p:1":            "/tmp/.x/run",
		"nohup /tmp/x >/dev/null 2>&1 &":              "/tmp/x",
		"/bin/sh -c '/var/tmp/kdevtmpfsi'":            "/var/tmp/kdevtmpfsi",
		"cd /tmp; ./x":                                "cd",
		"HOME=/root nice -n 19 /usr/local/bin/upd":    "/usr/local/bin/upd",
		"bash /etc/cron.daily/upd.sh":                 "/etc/cron.daily/upd.sh",
		"":                                            "",
		"env -i PATH=/usr/bin /opt/miner --threads 2": "/opt/miner",
	} {
		assert.Equal(t, want, Executable(in), in)
	}
}

func TestIsWrapper(t *testing.T) {
	for _, w := range []string{"nohup", "env", "FOO=bar"} {
		assert.True(t, IsWrapper(w, w), w)
	}
	for _, w := range []string{"xmrig", "./a=b", "--opt=x", "=x"} {
		assert.False(t, IsWrapper(w, w), w)
	}
}
