package cryptochainresponseexporter // import "github.com/cryptochain-otel/cryptochain/exporter/cryptochainresponseexporter"

import (
	"path"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
)

// inPersistenceLocation reports whether p (absolute, clean) is a file in one of the persistence
// locations of internal/contract (cron tables, at spools, systemd units, rc scripts, the preload
// list): the only places quarantine may take a file from. A location directory itself never is,
// nor a shell startup file (a user's .bashrc or /etc/profile holds the attacker's line among the
// owner's own: taking the whole file away is not a response).
func inPersistenceLocation(p string) bool {
	if p == "" || path.Clean(p) != p || !path.IsAbs(p) {
		return false
	}
	l, ok := contract.PersistenceLocationOf(p)
	return ok && l.Mechanism != contract.MechanismShell
}
