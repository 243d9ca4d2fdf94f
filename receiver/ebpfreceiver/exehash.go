package ebpfreceiver // import "github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver"

import (
	"bytes"

	"github.com/cryptochain-otel/cryptochain/internal/minerconfig"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/event"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/masquerade"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/untrusted"
)

// maxScanArgs bounds the argv words looked at to decide whether an executable is hashed.
const maxScanArgs = 64

// exeHash returns the SHA-256 of the executable of an exec the processor may call a miner's, or
// the reason it is absent; ("", "") for execs not hashed. Hashing every exec would cost an open and
// fstat of /proc/<pid>/exe (about 15 µs) per exec and a full read of every new binary of the host;
// hashing only what the miner pre-filter flags keeps that cost to the execs a finding can name.
// The digest is computed at once, on the exec record, because the process may be gone later (and a
// memfd or deleted file with it); the cache and byte budget of exehash bound what a flood costs.
func (p *pipeline) exeHash(ev *event.Event) (sum, skip string) {
	x := ev.Exec
	if !hashWanted(ev) {
		return "", ""
	}
	return p.hashes.Process(ev.Proc.PID, x.ExePath)
}

// hashWanted is the miner pre-filter: weak miner evidence of the exec's own (unusual location,
// memfd, deleted, masquerade), a config flag, or miner words on the command line.
func hashWanted(ev *event.Event) bool {
	x := ev.Exec
	exe := x.ExePath
	if exe == "" {
		exe = x.Filename
	}
	argv := x.Args[:min(len(x.Args), maxScanArgs)]
	argv0 := ""
	if len(argv) > 0 {
		argv0 = untrusted.String(argv[0], 4096)
	}
	if masquerade.UnusualLocation(exe, x.ExeMemfd, x.ExeDeleted) ||
		masquerade.NameMismatch(argv0, x.Filename, exe, x.Interpreter != "" && x.Interpreter != x.Filename) ||
		masquerade.KthreadLike(argv0) || masquerade.KthreadLike(ev.Proc.Comm) {
		return true
	}
	config := false
	for _, a := range argv {
		if bytes.Contains(a, []byte("stratum")) || bytes.HasPrefix(a, []byte("--donate-level")) || bytes.HasPrefix(a, []byte("--randomx")) {
			return true
		}
		config = config || bytes.HasPrefix(a, []byte("-c")) || bytes.HasPrefix(a, []byte("--config"))
	}
	if !config { // the common case: no argv copy
		return false
	}
	args := make([]string, 0, len(argv))
	for _, a := range argv {
		args = append(args, untrusted.String(a, 4096))
	}
	return minerconfig.ConfigFlag(args) != ""
}
