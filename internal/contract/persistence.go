package contract

import (
	"bufio"
	_ "embed"
	"fmt"
	"slices"
	"strings"
	"sync"
)

//go:embed data/persistence_locations.tsv
var persistenceTSV string

// Persistence mechanisms (the mechanism column of data/persistence_locations.tsv). The processor
// reports the mechanism as the kind of its Persistence evidence.
const (
	MechanismCron    = "cron"
	MechanismAnacron = "anacron"
	MechanismAt      = "at"
	MechanismSystemd = "systemd" // system and user units
	MechanismRC      = "rc"      // rc.local, SysV, OpenRC and upstart scripts
	MechanismShell   = "shell"   // login and interactive shell startup files, XDG autostart
	MechanismPreload = "preload" // /etc/ld.so.preload: the processor grades it as concealment
)

// PersistenceLocation is one row of the persistence-location table.
type PersistenceLocation struct {
	Pattern   string // absolute path; trailing "/" matches below it; "*" matches one path element
	Mechanism string // one of the Mechanism constants
	Source    string // where the location is documented
}

var persistenceTable = sync.OnceValue(func() []PersistenceLocation {
	t, err := parsePersistence(persistenceTSV)
	if err != nil {
		panic("contract: data/persistence_locations.tsv: " + err.Error())
	}
	return t
})

func parsePersistence(data string) ([]PersistenceLocation, error) {
	known := []string{MechanismCron, MechanismAnacron, MechanismAt, MechanismSystemd, MechanismRC, MechanismShell, MechanismPreload}
	var out []PersistenceLocation
	seen := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		switch {
		case len(f) != 3 || f[2] == "":
			return nil, fmt.Errorf("line %d: want pattern, mechanism and a non-empty source separated by tabs", n)
		case !strings.HasPrefix(f[0], "/") || strings.Contains(f[0], "//"):
			return nil, fmt.Errorf("line %d: pattern %q is not a clean absolute path", n, f[0])
		case !slices.Contains(known, f[1]):
			return nil, fmt.Errorf("line %d: unknown mechanism %q", n, f[1])
		case seen[f[0]]:
			return nil, fmt.Errorf("line %d: pattern %q listed twice", n, f[0])
		}
		seen[f[0]] = true
		out = append(out, PersistenceLocation{Pattern: f[0], Mechanism: f[1], Source: f[2]})
	}
	return out, sc.Err()
}

// PersistenceLocations returns the table in file order. The processor builds its persistence rules
// from it (before the locations its configuration adds).
func PersistenceLocations() []PersistenceLocation {
	return slices.Clone(persistenceTable())
}

// PersistenceLocationOf returns the most specific (longest pattern) location path is in. The
// receiver reads back the content of a file written there.
func PersistenceLocationOf(path string) (PersistenceLocation, bool) {
	best, found := PersistenceLocation{}, false
	for _, l := range persistenceTable() {
		if len(l.Pattern) > len(best.Pattern) && MatchPattern(l.Pattern, path) {
			best, found = l, true
		}
	}
	return best, found
}

// PersistencePrefixes returns the path prefixes the kernel must watch so that a write to any
// location of the table is seen: every pattern without "*", minus those a shorter directory pattern
// already covers, sorted. An exact-path pattern ("/etc/crontab") becomes a prefix and so also
// catches its siblings ("/etc/crontab.bak"); the rules above then tell them apart. Patterns with "*"
// cannot be expressed in the kernel's prefix trie and are left out (watch them with
// watched_paths.add).
func PersistencePrefixes() []string {
	var dirs, all []string
	for _, l := range persistenceTable() {
		if strings.Contains(l.Pattern, "*") {
			continue
		}
		all = append(all, l.Pattern)
		if strings.HasSuffix(l.Pattern, "/") {
			dirs = append(dirs, l.Pattern)
		}
	}
	out := all[:0]
	for _, p := range all {
		covered := false
		for _, d := range dirs {
			if len(d) < len(p) && strings.HasPrefix(p, d) {
				covered = true
				break
			}
		}
		if !covered {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

// MatchPattern matches a persistence pattern against a path: the exact path, or anything below a
// pattern ending in "/", with each "*" matching exactly one non-empty path element.
func MatchPattern(pattern, path string) bool {
	for {
		star := strings.IndexByte(pattern, '*')
		if star < 0 {
			if strings.HasSuffix(pattern, "/") {
				return len(path) > len(pattern) && strings.HasPrefix(path, pattern)
			}
			return path == pattern
		}
		if !strings.HasPrefix(path, pattern[:star]) {
			return false
		}
		path = path[star:]
		slash := strings.IndexByte(path, '/')
		if slash <= 0 {
			return false
		}
		path = path[slash:]
		pattern = pattern[star+1:]
	}
}
