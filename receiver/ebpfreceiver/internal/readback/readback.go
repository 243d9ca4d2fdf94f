// Package readback reads host files after an event: a persistence file once its writer is done and
// the miner config files of a suspicious exec. It must not know log records or how processes are resolved.
package readback // import "github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/readback"

import (
	"bytes"
	"path/filepath"
	"strconv"
)

// rootOf is the root directory of pid as the host sees it: reading through it uses the process's
// own mount namespace (a container's /etc/cron.d is not the host's).
func rootOf(procfsRoot string, pid uint32) string {
	return filepath.Join(procfsRoot, strconv.FormatUint(uint64(pid), 10), "root")
}

// readHead reads at most n bytes of a regular file, nil when it cannot. Every read here goes through
// readRegularHead: bounded, never through a fifo or a final symlink.
func readHead(name string, n int) []byte {
	b, err := readRegularHead(name, n)
	if err != nil {
		return nil
	}
	return bytes.Clone(b)
}
