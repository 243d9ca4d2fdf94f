package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// options are the XMRig settings fakeminer understands.
type options struct {
	URL, User, Pass, Algo, RigID, Config string
	TLS                                  bool
}

// parseFlags accepts XMRig's long and short flags (`--url X`, `--url=X`,
// `-o X`); flags it does not know are accepted and ignored, like a miner
// build with extra options would.
func parseFlags(args []string) (*options, error) {
	o := &options{Pass: "x", Algo: "rx/0"}
	str := map[string]*string{
		"-o": &o.URL, "--url": &o.URL, "-u": &o.User, "--user": &o.User,
		"-p": &o.Pass, "--pass": &o.Pass, "-a": &o.Algo, "--algo": &o.Algo,
		"--rig-id": &o.RigID, "-c": &o.Config, "--config": &o.Config,
	}
	// XMRig flags that take a value and are ignored here.
	ignoredValue := map[string]bool{"--donate-level": true, "-t": true, "--threads": true, "-x": true, "--proxy": true, "--cpu-priority": true, "--coin": true, "--max-cpu-usage": true}
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, val, hasVal := strings.Cut(a, "=")
		if p, ok := str[name]; ok {
			if !hasVal {
				if i+1 >= len(args) {
					return nil, fmt.Errorf("flag %s needs a value", name)
				}
				i++
				val = args[i]
			}
			*p = val
			continue
		}
		if ignoredValue[name] && !hasVal {
			i++
			continue
		}
		if name == "--tls" {
			o.TLS = true
		}
	}
	return o, nil
}

// xmrigConfig is the part of an XMRig config.json that fakeminer uses.
type xmrigConfig struct {
	Pools []struct {
		URL   string `json:"url"`
		User  string `json:"user"`
		Pass  string `json:"pass"`
		RigID string `json:"rig-id"`
		TLS   bool   `json:"tls"`
	} `json:"pools"`
}

// loadConfigFile fills what the flags left empty from the config file XMRig
// would load: -c/--config, else config.json beside the executable, else
// ~/.xmrig.json, else ~/.config/xmrig.json.
func loadConfigFile(o *options) error {
	var candidates []string
	if o.Config != "" {
		candidates = []string{o.Config}
	} else {
		if exe, err := os.Executable(); err == nil {
			candidates = append(candidates, filepath.Join(filepath.Dir(exe), "config.json"))
		}
		if home, err := os.UserHomeDir(); err == nil {
			candidates = append(candidates, filepath.Join(home, ".xmrig.json"), filepath.Join(home, ".config", "xmrig.json"))
		}
	}
	for _, path := range candidates {
		b, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) && o.Config == "" {
			continue
		}
		if err != nil {
			return err
		}
		var c xmrigConfig
		if err := json.Unmarshal(b, &c); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if len(c.Pools) > 0 {
			p := c.Pools[0]
			if o.URL == "" {
				o.URL, o.TLS = p.URL, p.TLS
			}
			if o.User == "" {
				o.User = p.User
			}
			if p.Pass != "" && o.Pass == "x" {
				o.Pass = p.Pass
			}
			if o.RigID == "" {
				o.RigID = p.RigID
			}
		}
		return nil
	}
	return nil
}
