package cryptochainresponseexporter // import "github.com/cryptochain-otel/cryptochain/exporter/cryptochainresponseexporter"

import (
	"path"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
)

// inPersistenceLocation reports whether p (absolute, clean) is a file in one of the persistence
// locations of internal/contract (cron tables, at spools, systemd units, rc scripts, the preload
// list): the only places quarantine may take a file from. A location directory itself never is.
func inPersistenceLocation(p string) bool {
	if p == "" || path.Clean(p) != p || !path.IsAbs(p) {
		return false
	}
	_, ok := contract.PersistenceLocationOf(p)
	return ok
}
