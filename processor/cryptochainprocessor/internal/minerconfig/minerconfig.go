// Package minerconfig reads XMRig-style miner configuration files (pools, tuning switches), tolerating truncated JSON.
// It must not know evidence, strengths or where the file came from; the classifier decides what a parsed config means.
package minerconfig // import "github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/minerconfig"

import (
	"encoding/json"
	"strings"
)

// Pool is one configured pool.
type Pool struct {
	URL  string
	User string
	Pass string
	TLS  bool
	Coin string
	Algo string
}

// Config is what a miner configuration reveals.
type Config struct {
	Pools       []Pool
	DonateLevel bool // "donate-level" present
	HugePages   bool // cpu.huge-pages true
	OneGBPages  bool // randomx.1gb-pages true
	WRMSR       bool // randomx.wrmsr true or a preset list
	MinerKeys   int  // number of miner-specific keys seen (pools, donate-level, randomx, cpu, …)
	Truncated   bool // parsed by the tolerant scan
}

// MaxPools bounds the pools kept.
const MaxPools = 16

// MaxInput bounds the bytes looked at.
const MaxInput = 256 << 10

type jsonConfig struct {
	Pools []struct {
		URL  string `json:"url"`
		User string `json:"user"`
		Pass string `json:"pass"`
		TLS  any    `json:"tls"`
		Coin any    `json:"coin"`
		Algo any    `json:"algo"`
	} `json:"pools"`
	DonateLevel *json.RawMessage `json:"donate-level"`
	CPU         json.RawMessage  `json:"cpu"`
	RandomX     json.RawMessage  `json:"randomx"`
	Algo        json.RawMessage  `json:"algo"`
	URL         string           `json:"url"`  // single-pool forks (xmr-stak style "pool_address", cpuminer "url")
	User        string           `json:"user"` // cpuminer-multi config files
	PoolList    []struct {
		Address string `json:"pool_address"`
		Wallet  string `json:"wallet_address"`
		TLS     bool   `json:"use_tls"`
	} `json:"pool_list"`
}

// Parse reads a configuration file's text. ok is false when nothing miner-like was found.
func Parse(text string) (Config, bool) {
	if len(text) > MaxInput {
		text = text[:MaxInput]
	}
	var c Config
	var j jsonConfig
	if !strings.Contains(text, "\"") {
		return c, false
	}
	if err := json.Unmarshal([]byte(text), &j); err == nil {
		for _, p := range j.Pools {
			if len(c.Pools) == MaxPools {
				break
			}
			c.Pools = append(c.Pools, Pool{URL: p.URL, User: p.User, Pass: p.Pass, TLS: truthy(p.TLS), Coin: str(p.Coin), Algo: str(p.Algo)})
		}
		if j.URL != "" && (strings.Contains(strings.ToLower(j.URL), "stratum") || j.User != "") {
			c.Pools = append(c.Pools, Pool{URL: j.URL, User: j.User})
		}
		for _, p := range j.PoolList {
			if len(c.Pools) == MaxPools {
				break
			}
			c.Pools = append(c.Pools, Pool{URL: p.Address, User: p.Wallet, TLS: p.TLS})
		}
		if len(j.Pools) > 0 || len(j.PoolList) > 0 {
			c.MinerKeys++
		}
		if j.DonateLevel != nil {
			c.DonateLevel = true
			c.MinerKeys++
		}
		if len(j.CPU) > 0 {
			var cpu map[string]json.RawMessage
			if json.Unmarshal(j.CPU, &cpu) == nil {
				if v, ok := cpu["huge-pages"]; ok {
					c.HugePages = string(v) == "true"
					c.MinerKeys++
				}
			}
		}
		if len(j.RandomX) > 0 {
			var rx map[string]json.RawMessage
			if json.Unmarshal(j.RandomX, &rx) == nil {
				c.MinerKeys++
				if v, ok := rx["1gb-pages"]; ok {
					c.OneGBPages = string(v) == "true"
				}
				if v, ok := rx["wrmsr"]; ok {
					s := string(v)
					c.WRMSR = s != "false" && s != "null" && s != "0"
				}
			}
		}
	} else {
		scan(text, &c)
	}
	return c, len(c.Pools) > 0 || c.MinerKeys >= 2
}

// scan is the tolerant fallback for truncated or commented JSON.
func scan(text string, c *Config) {
	c.Truncated = true
	if !strings.Contains(text, `"pools"`) && !strings.Contains(text, `"pool_list"`) && !strings.Contains(text, "stratum") &&
		!strings.Contains(text, `"donate-level"`) && !strings.Contains(text, `"randomx"`) {
		return
	}
	for _, key := range []string{"url", "pool_address"} {
		off := 0
		for len(c.Pools) < MaxPools {
			v, next, ok := nextString(text, off, key)
			if !ok {
				break
			}
			off = next
			p := Pool{URL: v}
			if u, _, ok := nextString(text, next, "user"); ok {
				p.User = u
			} else if u, _, ok := nextString(text, next, "wallet_address"); ok {
				p.User = u
			}
			c.Pools = append(c.Pools, p)
		}
	}
	if strings.Contains(text, `"donate-level"`) {
		c.DonateLevel = true
		c.MinerKeys++
	}
	if strings.Contains(text, `"randomx"`) {
		c.MinerKeys++
	}
	if strings.Contains(text, `"pools"`) {
		c.MinerKeys++
	}
	c.HugePages = boolKey(text, "huge-pages")
	c.OneGBPages = boolKey(text, "1gb-pages")
	c.WRMSR = boolKey(text, "wrmsr")
}

// nextString finds `"key": "value"` at or after off and returns value and the index after it.
func nextString(text string, off int, key string) (string, int, bool) {
	pat := `"` + key + `"`
	for off < len(text) {
		i := strings.Index(text[off:], pat)
		if i < 0 {
			return "", 0, false
		}
		j := off + i + len(pat)
		off = j
		for j < len(text) && (text[j] == ' ' || text[j] == '\t' || text[j] == '\n' || text[j] == '\r') {
			j++
		}
		if j >= len(text) || text[j] != ':' {
			continue
		}
		j++
		for j < len(text) && (text[j] == ' ' || text[j] == '\t' || text[j] == '\n' || text[j] == '\r') {
			j++
		}
		if j >= len(text) || text[j] != '"' {
			continue
		}
		end := strings.IndexByte(text[j+1:], '"')
		if end < 0 {
			return "", 0, false
		}
		return text[j+1 : j+1+end], j + 2 + end, true
	}
	return "", 0, false
}

func boolKey(text, key string) bool {
	pat := `"` + key + `"`
	i := strings.Index(text, pat)
	if i < 0 {
		return false
	}
	rest := strings.TrimLeft(text[i+len(pat):], " \t\r\n:")
	return strings.HasPrefix(rest, "true") || strings.HasPrefix(rest, "[")
}

func truthy(v any) bool {
	b, ok := v.(bool)
	return ok && b
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
