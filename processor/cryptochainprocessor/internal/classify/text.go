package classify

import (
	"strings"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/evidence"
)

// clip bounds an indicator taken from a large argument.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] // cloned by out.add
}

// joinArgs renders a bounded command line for an Action.
func joinArgs(args []string) string {
	return clip(strings.Join(args[:min(len(args), 16)], " "), 512)
}

// opAction says what a file record did: "create /etc/cron.d/x", "rename a -> b".
func opAction(ev *evidence.Event) string {
	op := ev.Op
	if op == "" {
		if ev.Name == contract.EventFileOpen {
			op = "open"
		} else {
			op = "write"
		}
	}
	if ev.SourcePath != "" {
		return op + " " + ev.SourcePath + " -> " + ev.Path
	}
	return op + " " + ev.Path
}
