package cryptochainresponseexporter // import "github.com/cryptochain-otel/cryptochain/exporter/cryptochainresponseexporter"

import (
	"path"
	"strings"
)

// persistenceLocations are the only places quarantine may take a file from: cron tables, at
// spools, systemd units, rc scripts and ld.so.preload. A prefix ending in "/" matches below it,
// otherwise the exact path; "*" matches one path element. It mirrors the processor's persistence
// table (processor/cryptochainprocessor/internal/indicators/data/persistence_paths.tsv) and is the
// one place to point at the shared contract table.
func persistenceLocations() []string {
	return []string{
		"/etc/crontab", "/etc/cron.d/", "/etc/cron.hourly/", "/etc/cron.daily/", "/etc/cron.weekly/",
		"/etc/cron.monthly/", "/etc/cron.yearly/", "/var/spool/cron/", "/etc/crontabs/", "/etc/anacrontab",
		"/var/spool/at/", "/var/spool/atjobs/",
		"/etc/systemd/system/", "/usr/lib/systemd/system/", "/lib/systemd/system/", "/usr/local/lib/systemd/system/",
		"/run/systemd/system/", "/etc/systemd/user/", "/usr/lib/systemd/user/",
		"/home/*/.config/systemd/user/", "/root/.config/systemd/user/", "/home/*/.local/share/systemd/user/",
		"/etc/rc.local", "/etc/rc.d/rc.local", "/etc/init.d/", "/etc/rc.d/init.d/", "/etc/local.d/",
		"/etc/ld.so.preload",
	}
}

// inPersistenceLocation reports whether p (absolute, clean) is a file in one of the locations;
// a location directory itself never is.
func inPersistenceLocation(p string) bool {
	if p == "" || path.Clean(p) != p || !path.IsAbs(p) {
		return false
	}
	for _, loc := range persistenceLocations() {
		if dir, ok := strings.CutSuffix(loc, "/"); ok {
			if under(p, dir) {
				return true
			}
		} else if match(loc, p) {
			return true
		}
	}
	return false
}

// under reports whether p lies strictly below the directory pattern dir.
func under(p, dir string) bool {
	de := strings.Split(dir, "/")
	pe := strings.Split(p, "/")
	if len(pe) <= len(de) {
		return false
	}
	return match(dir, strings.Join(pe[:len(de)], "/"))
}

// match compares element by element; "*" matches one element.
func match(pattern, p string) bool {
	ok, err := path.Match(pattern, p)
	return err == nil && ok
}
