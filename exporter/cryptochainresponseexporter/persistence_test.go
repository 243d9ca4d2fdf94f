package cryptochainresponseexporter

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestInPersistenceLocation(t *testing.T) {
	for p, want := range map[string]bool{
		"/etc/cron.d/chainsim-xmr":                        true,
		"/etc/crontab":                                    true,
		"/var/spool/cron/crontabs/root":                   true,
		"/etc/systemd/system/sysupdate.service":           true,
		"/home/alice/.config/systemd/user/miner.service":  true,
		"/etc/ld.so.preload":                              true,
		"/etc/cron.d":                                     false, // the location itself
		"/etc/cron.d/":                                    false,
		"/etc/cron.d/../passwd":                           false,
		"/etc/passwd":                                     false,
		"/etc/crontab.bak":                                false,
		"/home/alice/.bashrc":                             false, // shell startup: persistence, never quarantined
		"/etc/profile.d/update.sh":                        false,
		"/home/a/b/.config/systemd/user/x.service":        false, // "*" is one element
		"/tmp/.chainsim-1-1/xmrig":                        false,
		"etc/cron.d/job":                                  false,
		"":                                                false,
		"/usr/lib/systemd/system/ssh.service":             true,
		"/etc/init.d/sysupdate":                           true,
		"/var/spool/cron/crontabs/../../../../etc/shadow": false,
	} {
		assert.Equal(t, want, inPersistenceLocation(p), p)
	}
}
