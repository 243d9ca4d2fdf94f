// Package minerconf names the configuration files XMRig and its forks load and vets their content,
// so a miner whose pool and wallet are only in a file is still seen. It must not read files itself.
package minerconf // import "github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/minerconf"

import (
	"encoding/json"
	"path"
	"strings"
)

// Candidates returns the absolute paths (in the process's own mount namespace) a miner started
// from exe in cwd, with home directory home and arguments args, would load: the file named by
// -c/--config, config.json beside the executable, ~/.xmrig.json and ~/.config/xmrig.json.
func Candidates(exe, cwd, home string, args []string) []string {
	var out []string
	add := func(p string) {
		if p == "" {
			return
		}
		if !path.IsAbs(p) {
			if cwd == "" {
				return
			}
			p = path.Join(cwd, p)
		}
		p = path.Clean(p)
		for _, q := range out {
			if q == p {
				return
			}
		}
		out = append(out, p)
	}
	add(ConfigFlag(args))
	if path.IsAbs(exe) && !strings.HasPrefix(exe, "/memfd:") && exe != "/" {
		add(path.Join(path.Dir(exe), "config.json"))
	} else if cwd != "" {
		add(path.Join(cwd, "config.json"))
	}
	if home != "" {
		add(path.Join(home, ".xmrig.json"))
		add(path.Join(home, ".config", "xmrig.json"))
	}
	return out
}

// ConfigFlag returns the file named by -c FILE, -cFILE, --config FILE or --config=FILE.
func ConfigFlag(args []string) string {
	for i := 1; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-c" || a == "--config":
			if i+1 < len(args) {
				return args[i+1]
			}
		case strings.HasPrefix(a, "--config="):
			return strings.TrimPrefix(a, "--config=")
		case strings.HasPrefix(a, "-c") && len(a) > 2 && !strings.HasPrefix(a, "--"):
			return a[2:]
		}
	}
	return ""
}

// Redacted replaces secret values in a reported config.
const Redacted = "[REDACTED]"

// minerKeys are top-level keys of XMRig-style configs.
var minerKeys = []string{"pools", "donate-level", "donate-over-proxy", "randomx", "cpu", "opencl", "cuda"}

// Sanitize parses a config file and returns it re-encoded with secret values redacted, when it
// looks like a miner configuration (a JSON object with XMRig keys, or a top-level url and user).
// Anything else (a package.json, garbage, a truncated file) is not reported.
func Sanitize(b []byte) ([]byte, bool) {
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, false
	}
	miner := false
	for _, k := range minerKeys {
		if _, ok := doc[k]; ok {
			miner = true
			break
		}
	}
	if _, ok := doc["url"]; ok {
		if _, ok := doc["user"]; ok {
			miner = true
		}
	}
	if !miner {
		return nil, false
	}
	redact(doc)
	out, err := json.Marshal(doc)
	if err != nil {
		return nil, false
	}
	return out, true
}

// redact replaces the values of password- and token-like keys; wallets (user) stay, they are
// the evidence.
func redact(v any) {
	switch t := v.(type) {
	case map[string]any:
		for k, val := range t {
			lk := strings.ToLower(k)
			if strings.Contains(lk, "pass") || strings.Contains(lk, "token") || strings.Contains(lk, "secret") ||
				lk == "api-key" || lk == "apikey" {
				if _, isStr := val.(string); isStr {
					t[k] = Redacted
					continue
				}
			}
			redact(val)
		}
	case []any:
		for _, e := range t {
			redact(e)
		}
	}
}
