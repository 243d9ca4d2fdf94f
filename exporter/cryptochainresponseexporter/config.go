package cryptochainresponseexporter // import "github.com/cryptochain-otel/cryptochain/exporter/cryptochainresponseexporter"

import (
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Actions.
const (
	ActionTerminate  = "terminate"
	ActionBlock      = "block"
	ActionIsolate    = "isolate"
	ActionQuarantine = "quarantine"
)

// Severities a policy can name (the finding's `cryptochain.finding.severity`).
var severities = []string{"medium", "high", "critical"}

var allActions = []string{ActionTerminate, ActionBlock, ActionIsolate, ActionQuarantine}

// Isolation modes.
const (
	IsolateFreeze     = "freeze"
	IsolateDenyEgress = "deny_egress"
)

// Config is the configuration of the cryptochain_response exporter.
type Config struct {
	// DryRun computes, audits and counts every action but changes nothing. On by default.
	DryRun bool `mapstructure:"dry_run"`
	// Actions lists, per finding severity, the actions taken on that finding.
	Actions map[string][]string `mapstructure:"actions"`
	// KillSwitchFile: while this file exists no action is taken (each is audited as skipped).
	KillSwitchFile string `mapstructure:"kill_switch_file"`

	Terminate  TerminateConfig  `mapstructure:"terminate"`
	Block      BlockConfig      `mapstructure:"block"`
	Isolate    IsolateConfig    `mapstructure:"isolate"`
	Quarantine QuarantineConfig `mapstructure:"quarantine"`
	RateLimit  RateLimitConfig  `mapstructure:"rate_limit"`
	Allowlist  AllowlistConfig  `mapstructure:"allowlist"`
	Audit      AuditConfig      `mapstructure:"audit"`

	// QueueSize bounds the findings waiting for the response worker; beyond it findings are dropped
	// (counted and logged) so that the pipeline never waits for an action.
	QueueSize int `mapstructure:"queue_size"`
}

// TerminateConfig configures the terminate action.
type TerminateConfig struct {
	// Descendants also stops the miner's descendants (each checked like the miner).
	Descendants bool `mapstructure:"descendants"`
	// Wait is how long to wait for a killed process to exit before the action counts as failed.
	Wait time.Duration `mapstructure:"wait"`
}

// BlockConfig configures the block action.
type BlockConfig struct {
	// TTL is how long a deny entry refuses connections.
	TTL time.Duration `mapstructure:"ttl"`
	// CgroupRoot is the cgroup v2 mount the programs attach to (and container cgroups live under);
	// empty finds it (/sys/fs/cgroup on a unified host, /sys/fs/cgroup/unified on a hybrid one).
	CgroupRoot string `mapstructure:"cgroup_root"`
	// ListFile receives the deny entries that still refuse (JSON), rewritten on every change; empty: none.
	ListFile string `mapstructure:"list_file"`
}

// IsolateConfig configures the isolate action.
type IsolateConfig struct {
	// Mode is `freeze` (freeze the container's cgroup) or `deny_egress` (refuse every new connection
	// and datagram of the container's cgroup for block.ttl).
	Mode string `mapstructure:"mode"`
}

// QuarantineConfig configures the quarantine action.
type QuarantineConfig struct {
	// Directory holds the quarantined files and their manifests.
	Directory string `mapstructure:"directory"`
}

// RateLimitConfig bounds how many actions (not dry-run intents) run.
type RateLimitConfig struct {
	// ActionsPerMinute is the sustained rate; Burst the most at once.
	ActionsPerMinute int `mapstructure:"actions_per_minute"`
	Burst            int `mapstructure:"burst"`
}

// AllowlistConfig names what is never acted on.
type AllowlistConfig struct {
	// Executables: processes running one of these paths are never terminated.
	Executables []string `mapstructure:"executables"`
	// ContainerImages: findings from a container with one of these `container.image.name` values are not acted on.
	ContainerImages []string `mapstructure:"container_images"`
	// Hosts: findings from these `host.name` or `host.id` values are not acted on.
	Hosts []string `mapstructure:"hosts"`
	// Addresses: addresses or CIDR prefixes that are never blocked.
	Addresses []string `mapstructure:"addresses"`
}

// AuditConfig configures the audit trail.
type AuditConfig struct {
	// Path is the file audit records are appended to, one OTLP JSON logs request per line.
	Path string `mapstructure:"path"`
}

// Validate checks the configuration and names the key at fault.
func (c *Config) Validate() error {
	var errs []error
	for sev, acts := range c.Actions {
		if !slices.Contains(severities, sev) {
			errs = append(errs, fmt.Errorf("actions.%s: unknown severity (want one of %s)", sev, strings.Join(severities, ", ")))
		}
		for i, a := range acts {
			if !slices.Contains(allActions, a) {
				errs = append(errs, fmt.Errorf("actions.%s[%d]: unknown action %q (want one of %s)", sev, i, a, strings.Join(allActions, ", ")))
			}
		}
	}
	if c.Terminate.Wait <= 0 {
		errs = append(errs, errors.New("terminate.wait: must be positive"))
	}
	if c.Block.TTL <= 0 {
		errs = append(errs, errors.New("block.ttl: must be positive"))
	}
	if c.Block.CgroupRoot != "" && !filepath.IsAbs(c.Block.CgroupRoot) {
		errs = append(errs, fmt.Errorf("block.cgroup_root: %q is not an absolute path", c.Block.CgroupRoot))
	}
	if c.Isolate.Mode != IsolateFreeze && c.Isolate.Mode != IsolateDenyEgress {
		errs = append(errs, fmt.Errorf("isolate.mode: %q is neither %s nor %s", c.Isolate.Mode, IsolateFreeze, IsolateDenyEgress))
	}
	if c.Quarantine.Directory == "" {
		errs = append(errs, errors.New("quarantine.directory: must be set"))
	}
	if c.Audit.Path == "" {
		errs = append(errs, errors.New("audit.path: must be set"))
	}
	if c.RateLimit.ActionsPerMinute <= 0 {
		errs = append(errs, errors.New("rate_limit.actions_per_minute: must be positive"))
	}
	if c.RateLimit.Burst <= 0 {
		errs = append(errs, errors.New("rate_limit.burst: must be positive"))
	}
	if c.QueueSize <= 0 {
		errs = append(errs, errors.New("queue_size: must be positive"))
	}
	for i, a := range c.Allowlist.Addresses {
		if _, err := parsePrefix(a); err != nil {
			errs = append(errs, fmt.Errorf("allowlist.addresses[%d]: %w", i, err))
		}
	}
	for i, e := range c.Allowlist.Executables {
		if !filepath.IsAbs(e) {
			errs = append(errs, fmt.Errorf("allowlist.executables[%d]: %q is not an absolute path", i, e))
		}
	}
	return errors.Join(errs...)
}

// parsePrefix accepts an address or a CIDR prefix.
func parsePrefix(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is neither an address nor a CIDR prefix", s)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}
