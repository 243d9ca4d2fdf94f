package contract_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
)

func TestPersistenceTableParses(t *testing.T) {
	locs := contract.PersistenceLocations()
	require.NotEmpty(t, locs)
	mechs := map[string]bool{}
	for _, l := range locs {
		mechs[l.Mechanism] = true
		assert.NotEmpty(t, l.Source, l.Pattern)
	}
	for _, m := range []string{contract.MechanismCron, contract.MechanismAnacron, contract.MechanismAt,
		contract.MechanismSystemd, contract.MechanismRC, contract.MechanismShell, contract.MechanismPreload} {
		assert.True(t, mechs[m], "no location for mechanism %s", m)
	}
	locs[0].Pattern = "changed"
	assert.NotEqual(t, "changed", contract.PersistenceLocations()[0].Pattern, "callers get a copy")
}

func TestPersistenceLocationOf(t *testing.T) {
	for _, tc := range []struct {
		path, pattern, mechanism string
	}{
		{"/etc/crontab", "/etc/crontab", contract.MechanismCron},
		{"/var/spool/cron/crontabs/root", "/var/spool/cron/crontabs/", contract.MechanismCron},
		{"/var/spool/cron/root", "/var/spool/cron/", contract.MechanismCron},
		{"/var/spool/cron/atjobs/a0001", "/var/spool/cron/atjobs/", contract.MechanismAt},
		{"/etc/systemd/system/x.service", "/etc/systemd/system/", contract.MechanismSystemd},
		{"/home/bob/.config/systemd/user/x.service", "/home/*/.config/systemd/user/", contract.MechanismSystemd},
		{"/root/.config/systemd/user/x.service", "/root/.config/systemd/user/", contract.MechanismSystemd},
		{"/etc/rc.d/init.d/x", "/etc/rc.d/init.d/", contract.MechanismRC},
		{"/etc/ld.so.preload", "/etc/ld.so.preload", contract.MechanismPreload},
		{"/etc/profile.d/x.sh", "/etc/profile.d/", contract.MechanismShell},
		{"/home/bob/.bashrc", "/home/*/.bashrc", contract.MechanismShell},
		{"/etc/crontab.bak", "", ""},
		{"/etc/systemd/system.conf", "", ""},
		{"/home/bob/notes.txt", "", ""},
	} {
		l, ok := contract.PersistenceLocationOf(tc.path)
		assert.Equal(t, tc.pattern != "", ok, tc.path)
		assert.Equal(t, tc.pattern, l.Pattern, tc.path)
		assert.Equal(t, tc.mechanism, l.Mechanism, tc.path)
	}
}

func TestMatchPattern(t *testing.T) {
	for _, tc := range []struct {
		pat, path string
		want      bool
	}{
		{"/etc/crontab", "/etc/crontab", true},
		{"/etc/crontab", "/etc/crontab.bak", false},
		{"/etc/cron.d/", "/etc/cron.d/x", true},
		{"/etc/cron.d/", "/etc/cron.d/", false},
		{"/etc/cron.d/", "/etc/cron.daily/x", false},
		{"/home/*/.config/systemd/user/", "/home/bob/.config/systemd/user/x.service", true},
		{"/home/*/.config/systemd/user/", "/home/.config/systemd/user/x.service", false},
		{"/home/*/.config/systemd/user/", "/home/bob/x/.config/systemd/user/x.service", false},
	} {
		assert.Equal(t, tc.want, contract.MatchPattern(tc.pat, tc.path), "%s %s", tc.pat, tc.path)
	}
}

// Every location without "*" must be reachable through one kernel prefix, and nothing more.
func TestPersistencePrefixesCoverTable(t *testing.T) {
	prefixes := contract.PersistencePrefixes()
	for _, l := range contract.PersistenceLocations() {
		if strings.Contains(l.Pattern, "*") {
			assert.False(t, coveredBy(l.Pattern, prefixes), "%s: a wildcard must not widen a prefix", l.Pattern)
			continue
		}
		assert.True(t, coveredBy(l.Pattern, prefixes), "%s not covered by %v", l.Pattern, prefixes)
	}
	for _, p := range prefixes {
		_, ok := contract.PersistenceLocationOf(strings.TrimSuffix(p, "/") + "/x")
		l, exact := contract.PersistenceLocationOf(p)
		assert.True(t, ok || (exact && l.Pattern == p), "prefix %s is not a table location", p)
	}
}

func coveredBy(p string, prefixes []string) bool {
	for _, q := range prefixes {
		if strings.HasPrefix(p, q) {
			return true
		}
	}
	return false
}
