package cryptochainprocessor // import "github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor"

import (
	"errors"
	"fmt"
	"regexp"
	"time"

	"go.opentelemetry.io/collector/component"

	"github.com/cryptochain-otel/cryptochain/internal/redact"
)

// Forward modes: which raw records leave the processor next to the findings.
const (
	ForwardIndicators = "indicators" // records that produced evidence, annotated with cryptochain.group
	ForwardAll        = "all"        // every record; evidence records annotated
	ForwardNone       = "none"       // findings only
)

// minStateBytes is the smallest max_state_bytes: room for the bounded tables and some contexts.
const minStateBytes = 1 << 20

// minUpdateInterval is the smallest update_interval: a flood of new pids or paths gives at most one
// update per chain per second.
const minUpdateInterval = time.Second

// Config configures the cryptochain processor.
type Config struct {
	// ContextKeys are the resource attributes whose values identify an execution context.
	// Absent attributes are allowed (they count as empty).
	ContextKeys []string `mapstructure:"context_keys"`
	// Window is how long evidence stays correlatable, measured in record time. Evidence of a process
	// that is still running (no process.exit seen) does not expire.
	Window time.Duration `mapstructure:"window"`
	// MaxContexts bounds the number of contexts holding evidence; the least recently used is evicted.
	MaxContexts int `mapstructure:"max_contexts"`
	// MaxEvidencePerContext bounds the evidence kept per context; further items are dropped and counted.
	MaxEvidencePerContext int `mapstructure:"max_evidence_per_context"`
	// MaxStateBytes bounds the estimated memory of the whole correlation state (contexts, tombstones,
	// lineage cache, re-spawn links); beyond it contexts are evicted, those with only weak evidence
	// and nothing reported first.
	MaxStateBytes int64 `mapstructure:"max_state_bytes"`
	// MaxTombstones bounds the tombstones kept of evicted contexts that reported a chain (finding id,
	// level, key evidence), so that a returning chain keeps its id and escalates; 0 keeps none.
	MaxTombstones int `mapstructure:"max_tombstones"`
	// UpdateInterval is the least time (record time) between a chain's finding and an update of it
	// that only adds response facts (a second persistence file, a re-spawned miner, a new pool or
	// wallet); what comes meanwhile is folded into one update.
	UpdateInterval time.Duration `mapstructure:"update_interval"`
	// Forward is one of "indicators" (default), "all" or "none".
	Forward string `mapstructure:"forward"`
	// Storage is the id of a storage extension (e.g. file_storage) that keeps open chains across restarts.
	Storage *component.ID `mapstructure:"storage"`
	// Indicators extends the embedded indicator lists.
	Indicators IndicatorsConfig `mapstructure:"indicators"`
	// Allowlist narrows detection for authorized miners and known-good tools.
	Allowlist AllowlistConfig `mapstructure:"allowlist"`
	// Redaction selects the rules that take secrets out of findings and forwarded records.
	Redaction RedactionConfig `mapstructure:"redaction"`
	// Campaigns groups hosts that share indicators into campaigns (gateway mode).
	Campaigns CampaignsConfig `mapstructure:"campaigns"`
	// Impact updates findings with the resource use of their running miners.
	Impact ImpactConfig `mapstructure:"impact"`
}

// RedactionConfig turns redaction rules off and adds patterns and secret names.
type RedactionConfig struct {
	// Disable lists rules to turn off (argv_flags, url_userinfo, url_query, http_headers,
	// secret_assignments, mining_pass, env_names, token_shapes, high_entropy, payload_filter).
	Disable []string `mapstructure:"disable"`
	// ExtraPatterns are regular expressions whose matches (or first capture group) are redacted.
	ExtraPatterns []string `mapstructure:"extra_patterns"`
	// ExtraSecretNames are added to the default secret name patterns (`*` and `?` wildcards).
	ExtraSecretNames []string `mapstructure:"extra_secret_names"`
}

// redaction is the redact configuration of the processor.
func (c *Config) redaction() redact.Config {
	return redact.Config{Disable: c.Redaction.Disable, ExtraPatterns: c.Redaction.ExtraPatterns,
		SecretNames: append(append([]string{}, redact.DefaultSecretNames...), c.Redaction.ExtraSecretNames...)}
}

// ImpactConfig configures impact updates of findings from cryptochain.process.usage records.
type ImpactConfig struct {
	// Interval is the least time between two impact updates of one finding; 0 turns them off.
	Interval time.Duration `mapstructure:"interval"`
	// PricePerCoreHour prices one CPU core for one hour, for the estimated cost.
	PricePerCoreHour float64 `mapstructure:"price_per_core_hour"`
	// Currency names the currency of the price (e.g. an ISO 4217 code).
	Currency string `mapstructure:"currency"`
}

// CampaignsConfig configures fleet hunting: campaigns of hosts that share a wallet, a pool host or
// a miner executable hash.
type CampaignsConfig struct {
	// Enabled turns campaigns on; meant for a gateway that sees many hosts.
	Enabled bool `mapstructure:"enabled"`
	// MinHosts is how many member hosts a campaign needs before its record is emitted.
	MinHosts int `mapstructure:"min_hosts"`
	// MaxCampaigns bounds the campaigns kept; the least recently seen is evicted.
	MaxCampaigns int `mapstructure:"max_campaigns"`
	// MaxHosts bounds the member hosts kept per campaign; further hosts are counted.
	MaxHosts int `mapstructure:"max_hosts"`
	// MaxContainers bounds the containers kept per campaign; further containers are counted.
	MaxContainers int `mapstructure:"max_containers"`
	// MaxIndicators bounds the shared indicators kept per campaign.
	MaxIndicators int `mapstructure:"max_indicators"`
}

// IndicatorsConfig holds extra indicators on top of the embedded lists.
type IndicatorsConfig struct {
	// PoolDomains are domains (and their subdomains) treated as mining pools.
	PoolDomains []string `mapstructure:"pool_domains"`
	// MinerNames are executable names treated as weak Miner evidence.
	MinerNames []string `mapstructure:"miner_names"`
	// PersistencePaths are path prefixes treated as persistence locations.
	PersistencePaths []string `mapstructure:"persistence_paths"`
	// Patterns are regular expressions over argv and environment values that are strong Miner evidence.
	Patterns []string `mapstructure:"patterns"`
}

// AllowlistConfig exempts authorized miners and known-good tools from detection.
type AllowlistConfig struct {
	// Executables are exact executable paths whose records never produce evidence.
	Executables []string `mapstructure:"executables"`
	// ContainerImages are `container.image.name` values whose contexts never produce evidence.
	ContainerImages []string `mapstructure:"container_images"`
	// ResourceAttributes match any resource attribute by exact value or regular expression.
	ResourceAttributes []AttributeMatch `mapstructure:"resource_attributes"`
}

// AttributeMatch matches one resource attribute, by Value or by Regex (exactly one of them).
type AttributeMatch struct {
	Key   string `mapstructure:"key"`
	Value string `mapstructure:"value"`
	Regex string `mapstructure:"regex"`
}

// Validate checks the configuration; every error names the key at fault.
func (c *Config) Validate() error {
	var errs []error
	if len(c.ContextKeys) == 0 {
		errs = append(errs, errors.New("context_keys: must list at least one resource attribute"))
	}
	for i, k := range c.ContextKeys {
		if k == "" {
			errs = append(errs, fmt.Errorf("context_keys[%d]: must not be empty", i))
		}
	}
	if c.Window <= 0 {
		errs = append(errs, fmt.Errorf("window: must be positive, got %s", c.Window))
	}
	if c.MaxContexts <= 0 {
		errs = append(errs, fmt.Errorf("max_contexts: must be positive, got %d", c.MaxContexts))
	}
	if c.MaxEvidencePerContext <= 0 {
		errs = append(errs, fmt.Errorf("max_evidence_per_context: must be positive, got %d", c.MaxEvidencePerContext))
	}
	if c.MaxStateBytes < minStateBytes {
		errs = append(errs, fmt.Errorf("max_state_bytes: must be at least %d (1 MiB), got %d", minStateBytes, c.MaxStateBytes))
	}
	if c.UpdateInterval < minUpdateInterval || (c.Window > 0 && c.UpdateInterval > c.Window) {
		errs = append(errs, fmt.Errorf("update_interval: must be at least %s and at most window (%s), got %s", minUpdateInterval, c.Window, c.UpdateInterval))
	}
	if c.MaxTombstones < 0 {
		errs = append(errs, fmt.Errorf("max_tombstones: must not be negative, got %d", c.MaxTombstones))
	}
	switch c.Forward {
	case ForwardIndicators, ForwardAll, ForwardNone:
	default:
		errs = append(errs, fmt.Errorf("forward: must be %q, %q or %q, got %q", ForwardIndicators, ForwardAll, ForwardNone, c.Forward))
	}
	for i, p := range c.Indicators.Patterns {
		if _, err := regexp.Compile(p); err != nil {
			errs = append(errs, fmt.Errorf("indicators.patterns[%d]: %w", i, err))
		}
	}
	for _, l := range []struct {
		key  string
		list []string
	}{
		{"indicators.pool_domains", c.Indicators.PoolDomains},
		{"indicators.miner_names", c.Indicators.MinerNames},
		{"indicators.persistence_paths", c.Indicators.PersistencePaths},
		{"allowlist.executables", c.Allowlist.Executables},
		{"allowlist.container_images", c.Allowlist.ContainerImages},
	} {
		for i, v := range l.list {
			if v == "" {
				errs = append(errs, fmt.Errorf("%s[%d]: must not be empty", l.key, i))
			}
		}
	}
	if err := (redact.Config{Disable: c.Redaction.Disable, ExtraPatterns: c.Redaction.ExtraPatterns}).Validate(); err != nil {
		errs = append(errs, fmt.Errorf("redaction.%w", err))
	}
	for i, n := range c.Redaction.ExtraSecretNames {
		if !redact.ValidName(n) {
			errs = append(errs, fmt.Errorf("redaction.extra_secret_names[%d]: invalid pattern %q", i, n))
		}
	}
	for i, m := range c.Allowlist.ResourceAttributes {
		key := fmt.Sprintf("allowlist.resource_attributes[%d]", i)
		if m.Key == "" {
			errs = append(errs, fmt.Errorf("%s.key: must not be empty", key))
		}
		if (m.Value == "") == (m.Regex == "") {
			errs = append(errs, fmt.Errorf("%s: set exactly one of value or regex", key))
		}
		if m.Regex != "" {
			if _, err := regexp.Compile(m.Regex); err != nil {
				errs = append(errs, fmt.Errorf("%s.regex: %w", key, err))
			}
		}
	}
	if c.Impact.Interval < 0 {
		errs = append(errs, fmt.Errorf("impact.interval: must not be negative, got %s", c.Impact.Interval))
	}
	if c.Impact.PricePerCoreHour < 0 || c.Impact.PricePerCoreHour != c.Impact.PricePerCoreHour {
		errs = append(errs, fmt.Errorf("impact.price_per_core_hour: must be a non-negative number, got %v", c.Impact.PricePerCoreHour))
	}
	if c.Impact.Currency == "" {
		errs = append(errs, errors.New("impact.currency: must not be empty"))
	}
	if c.Campaigns.Enabled {
		for _, b := range []struct {
			key string
			v   int
		}{
			{"campaigns.min_hosts", c.Campaigns.MinHosts},
			{"campaigns.max_campaigns", c.Campaigns.MaxCampaigns},
			{"campaigns.max_hosts", c.Campaigns.MaxHosts},
			{"campaigns.max_containers", c.Campaigns.MaxContainers},
			{"campaigns.max_indicators", c.Campaigns.MaxIndicators},
		} {
			if b.v <= 0 {
				errs = append(errs, fmt.Errorf("%s: must be positive, got %d", b.key, b.v))
			}
		}
		if c.Campaigns.MinHosts > c.Campaigns.MaxHosts && c.Campaigns.MaxHosts > 0 {
			errs = append(errs, fmt.Errorf("campaigns.min_hosts: must not exceed campaigns.max_hosts (%d), got %d", c.Campaigns.MaxHosts, c.Campaigns.MinHosts))
		}
	}
	return errors.Join(errs...)
}
