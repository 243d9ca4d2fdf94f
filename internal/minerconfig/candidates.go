package minerconfig

import (
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
