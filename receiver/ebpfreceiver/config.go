package ebpfreceiver // import "github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver"

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/collector/confmap"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
	"github.com/cryptochain-otel/cryptochain/internal/redact"
)

// Defaults. The watched prefixes are where persistence and miner tuning happen.
const (
	defaultRingBufferSize   = 4 << 20
	defaultLifecycleRing    = 8 << 20
	defaultBatchSize        = 512
	defaultBatchTimeout     = 200 * time.Millisecond
	defaultPollInterval     = 100 * time.Millisecond
	defaultArgvMaxArgs      = 64
	defaultArgvMaxBytes     = 4096
	defaultEnvMaxVars       = 64
	defaultEnvMaxBytes      = 4096
	defaultFileContentBytes = 4096
	maxBatchTimeout         = 10 * time.Second
)

// Env value policies.
const (
	EnvValuesNonSecret = "non_secret" // names always, values only for names that do not look secret
	EnvValuesNone      = "none"       // names only
	EnvValuesAll       = "all"        // every value (never the default)
)

// DefaultWatchedPrefixes are the path prefixes whose write intent is reported by default: every
// persistence location of internal/contract, and the login, tuning and MSR files a miner changes.
var DefaultWatchedPrefixes = mergePrefixes(contract.PersistencePrefixes(), []string{
	"/etc/cron", "/var/spool/anacron/", "/etc/rc", "/etc/init/", "/etc/profile",
	"/root/.config/systemd/", "/root/.bashrc", "/root/.profile", "/root/.ssh/",
	"/proc/sys/vm/", "/sys/kernel/mm/hugepages/", "/sys/kernel/mm/transparent_hugepage/",
	"/sys/devices/system/node/", "/sys/devices/system/cpu/", "/sys/module/msr/",
})

// mergePrefixes returns the union of the lists without the prefixes a shorter one already covers
// (the kernel matches on string prefixes, so "/etc/cron" covers "/etc/cron.d/"), sorted.
func mergePrefixes(lists ...[]string) []string {
	all := slices.Concat(lists...)
	slices.Sort(all)
	all = slices.Compact(all)
	out := all[:0]
	for _, p := range all {
		if len(out) > 0 && strings.HasPrefix(p, out[len(out)-1]) {
			continue // sorted: a covering prefix sorts right before what it covers
		}
		out = append(out, p)
	}
	return out
}

// DefaultAlwaysPrefixes are reported on any open, whatever the flags or the result.
var DefaultAlwaysPrefixes = []string{"/dev/cpu/"}

// DefaultSecretPatterns are env var name patterns (matched upper-case, `*` wildcard) whose values
// are redacted by default; they also name the secret keys of NAME=value assignments and JSON/YAML
// keys in argv, file content and cron lines.
var DefaultSecretPatterns = redact.DefaultSecretNames

// Config is the ebpf receiver configuration.
type Config struct {
	// Kernel event families. A disabled family's programs are not loaded; with all of them off
	// the receiver needs no privileges and only reports the procfs snapshot.
	Exec    bool `mapstructure:"exec"`
	Exit    bool `mapstructure:"exit"`
	Network bool `mapstructure:"network"`
	DNS     bool `mapstructure:"dns"`
	Files   bool `mapstructure:"files"`
	Sysctl  bool `mapstructure:"sysctl"`
	Rename  bool `mapstructure:"rename"`
	// Signals sent to other processes (clearing the field), RandomX-like MXCSR rounding
	// (process.fpu_rounding) and the first bytes of new TCP connections (network.payload).
	Kill    bool `mapstructure:"kill"`
	FPU     bool `mapstructure:"fpu"`
	Payload bool `mapstructure:"payload"`
	// Snapshot reports processes already running at start, once, from procfs.
	Snapshot bool `mapstructure:"snapshot"`

	Argv ArgvConfig `mapstructure:"argv"`
	Env  EnvConfig  `mapstructure:"env"`

	// Redaction selects the rules that take secrets out of argv, environment values, payloads and
	// file content before any record leaves the receiver.
	Redaction RedactionConfig `mapstructure:"redaction"`

	WatchedPaths WatchedPathsConfig `mapstructure:"watched_paths"`

	// ConfigFiles reads the miner config files of suspicious executables.
	ConfigFiles ConfigFilesConfig `mapstructure:"config_files"`

	// FileContentBytes bounds the read-back of a persistence file after a write (0 = off).
	FileContentBytes int `mapstructure:"file_content_bytes"`

	// RingBufferSize is the bulk ring (every event type but exec and exit); LifecycleRingBufferSize
	// the ring of exec and exit records, which no flood of other events can fill.
	RingBufferSize          int           `mapstructure:"ring_buffer_size"`
	LifecycleRingBufferSize int           `mapstructure:"lifecycle_ring_buffer_size"`
	PollInterval            time.Duration `mapstructure:"poll_interval"`
	Batch                   BatchConfig   `mapstructure:"batch"`

	// ProcfsRoot is where the host's /proc is mounted (e.g. /host/proc in a container).
	ProcfsRoot string `mapstructure:"procfs_root"`
	// CgroupfsRoot is the host's cgroup v2 mount ("" = found from <procfs_root>/mounts).
	CgroupfsRoot string `mapstructure:"cgroupfs_root"`
	// HostRoot is where the host's / is mounted; /etc/machine-id is read under it.
	HostRoot string `mapstructure:"host_root"`

	// Workload names the pod and image of containers from the node's files.
	Workload WorkloadConfig `mapstructure:"workload"`

	_ struct{}
}

// WorkloadConfig says where the node's files that name a container's pod and image are: the
// kubelet's pod log directories and the container runtimes' state (no API server is asked).
type WorkloadConfig struct {
	// PodsDir is the kubelet's pod log directory as the collector sees it ("" = no pod names).
	PodsDir string `mapstructure:"pods_dir"`
	// RuntimeState reads the runtimes' container state under host_root for image and container names.
	RuntimeState bool `mapstructure:"runtime_state"`
	// RefreshInterval is the least time between two re-reads after a miss.
	RefreshInterval time.Duration `mapstructure:"refresh_interval"`
	_               struct{}
}

// ArgvConfig bounds the captured argv.
type ArgvConfig struct {
	MaxArgs  int `mapstructure:"max_args"`
	MaxBytes int `mapstructure:"max_bytes"`
	_        struct{}
}

// EnvConfig bounds and redacts the captured environment.
type EnvConfig struct {
	MaxVars  int `mapstructure:"max_vars"`
	MaxBytes int `mapstructure:"max_bytes"`
	// Values is non_secret (default), none or all.
	Values string `mapstructure:"values"`
	// SecretPatterns replace the default secret-name patterns when set.
	SecretPatterns []string `mapstructure:"secret_patterns"`
	// ExtraSecretPatterns are added to the secret-name patterns in use.
	ExtraSecretPatterns []string `mapstructure:"extra_secret_patterns"`
	_                   struct{}
}

// RedactionConfig turns redaction rules off and adds patterns.
type RedactionConfig struct {
	// Disable lists rules to turn off (argv_flags, url_userinfo, url_query, http_headers,
	// secret_assignments, mining_pass, env_names, token_shapes, high_entropy, payload_filter).
	Disable []string `mapstructure:"disable"`
	// ExtraPatterns are regular expressions whose matches (or first capture group) are redacted in
	// argv, environment values, payloads and file content.
	ExtraPatterns []string `mapstructure:"extra_patterns"`
	_             struct{}
}

// WatchedPathsConfig selects the path prefixes whose write intent is reported.
type WatchedPathsConfig struct {
	// Add extends the defaults.
	Add []string `mapstructure:"add"`
	// Replace, when set, replaces the defaults (Add still applies).
	Replace []string `mapstructure:"replace"`
	_       struct{}
}

// ConfigFilesConfig controls the reading of miner config files (config.json beside the executable,
// ~/.xmrig.json, ~/.config/xmrig.json, the file named by -c/--config) for suspicious executables.
type ConfigFilesConfig struct {
	Enabled bool `mapstructure:"enabled"`
	// MaxBytes bounds each read.
	MaxBytes int `mapstructure:"max_bytes"`
	// Interval is deprecated and ignored (accepted so existing configurations still load): every
	// suspicious exec's config files are read, identical pending reads are merged.
	Interval time.Duration `mapstructure:"per_executable_interval"`
	_        struct{}
}

// BatchConfig controls how records are grouped into plog.Logs.
type BatchConfig struct {
	Size    int           `mapstructure:"size"`
	Timeout time.Duration `mapstructure:"timeout"`
	_       struct{}
}

var _ confmap.Validator = (*Config)(nil)

func createDefaultConfig() *Config {
	return &Config{
		Exec: true, Exit: true, Network: true, DNS: true, Files: true, Sysctl: true, Rename: true,
		Kill: true, FPU: true, Payload: true,
		Snapshot:                true,
		Argv:                    ArgvConfig{MaxArgs: defaultArgvMaxArgs, MaxBytes: defaultArgvMaxBytes},
		Env:                     EnvConfig{MaxVars: defaultEnvMaxVars, MaxBytes: defaultEnvMaxBytes, Values: EnvValuesNonSecret},
		FileContentBytes:        defaultFileContentBytes,
		ConfigFiles:             ConfigFilesConfig{Enabled: true, MaxBytes: 64 << 10},
		RingBufferSize:          defaultRingBufferSize,
		LifecycleRingBufferSize: defaultLifecycleRing,
		PollInterval:            defaultPollInterval,
		Batch:                   BatchConfig{Size: defaultBatchSize, Timeout: defaultBatchTimeout},
		ProcfsRoot:              "/proc",
		HostRoot:                "/",
		Workload:                WorkloadConfig{PodsDir: "/var/log/pods", RuntimeState: true, RefreshInterval: 5 * time.Second},
	}
}

// Validate names the offending key in every error.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.RingBufferSize < 4096 || c.RingBufferSize&(c.RingBufferSize-1) != 0 || c.RingBufferSize > 1<<30 {
		bad("ring_buffer_size: must be a power of two between 4096 and 1073741824 bytes, got %d", c.RingBufferSize)
	}
	if c.LifecycleRingBufferSize < 4096 || c.LifecycleRingBufferSize&(c.LifecycleRingBufferSize-1) != 0 || c.LifecycleRingBufferSize > 1<<30 {
		bad("lifecycle_ring_buffer_size: must be a power of two between 4096 and 1073741824 bytes, got %d", c.LifecycleRingBufferSize)
	}
	if c.PollInterval <= 0 || c.PollInterval > 10*time.Second {
		bad("poll_interval: must be in (0, 10s], got %s", c.PollInterval)
	}
	if c.Batch.Size < 1 || c.Batch.Size > 65536 {
		bad("batch.size: must be in [1, 65536], got %d", c.Batch.Size)
	}
	if c.Batch.Timeout <= 0 || c.Batch.Timeout > maxBatchTimeout {
		bad("batch.timeout: must be in (0, %s], got %s", maxBatchTimeout, c.Batch.Timeout)
	}
	if c.Argv.MaxArgs < 1 || c.Argv.MaxArgs > 1024 {
		bad("argv.max_args: must be in [1, 1024], got %d", c.Argv.MaxArgs)
	}
	if c.Argv.MaxBytes < 64 || c.Argv.MaxBytes > 8192 {
		bad("argv.max_bytes: must be in [64, 8192], got %d", c.Argv.MaxBytes)
	}
	if c.Env.MaxVars < 0 || c.Env.MaxVars > 1024 {
		bad("env.max_vars: must be in [0, 1024], got %d", c.Env.MaxVars)
	}
	if c.Env.MaxBytes < 0 || c.Env.MaxBytes > 8192 {
		bad("env.max_bytes: must be in [0, 8192], got %d", c.Env.MaxBytes)
	}
	switch c.Env.Values {
	case EnvValuesNonSecret, EnvValuesNone, EnvValuesAll:
	default:
		bad("env.values: must be %q, %q or %q, got %q", EnvValuesNonSecret, EnvValuesNone, EnvValuesAll, c.Env.Values)
	}
	for key, pats := range map[string][]string{"env.secret_patterns": c.Env.SecretPatterns, "env.extra_secret_patterns": c.Env.ExtraSecretPatterns} {
		for _, p := range pats {
			if _, err := path.Match(p, ""); err != nil || p == "" {
				bad("%s: invalid pattern %q", key, p)
			}
		}
	}
	if err := (redact.Config{Disable: c.Redaction.Disable, ExtraPatterns: c.Redaction.ExtraPatterns}).Validate(); err != nil {
		bad("redaction.%v", err)
	}
	for key, prefixes := range map[string][]string{"watched_paths.add": c.WatchedPaths.Add, "watched_paths.replace": c.WatchedPaths.Replace} {
		for _, p := range prefixes {
			if !strings.HasPrefix(p, "/") || len(p) > 255 {
				bad("%s: %q must be an absolute path prefix of at most 255 bytes", key, p)
			}
		}
	}
	if n := len(c.watchedPrefixes()); n > 64 {
		bad("watched_paths: at most 64 prefixes in total, got %d", n)
	}
	if c.FileContentBytes < 0 || c.FileContentBytes > 65536 {
		bad("file_content_bytes: must be in [0, 65536], got %d", c.FileContentBytes)
	}
	if c.ConfigFiles.MaxBytes < 256 || c.ConfigFiles.MaxBytes > 1<<20 {
		bad("config_files.max_bytes: must be in [256, 1048576], got %d", c.ConfigFiles.MaxBytes)
	}
	if c.ConfigFiles.Interval < 0 {
		bad("config_files.per_executable_interval: must not be negative, got %s", c.ConfigFiles.Interval)
	}
	if !strings.HasPrefix(c.ProcfsRoot, "/") {
		bad("procfs_root: must be an absolute path, got %q", c.ProcfsRoot)
	}
	if c.CgroupfsRoot != "" && !strings.HasPrefix(c.CgroupfsRoot, "/") {
		bad("cgroupfs_root: must be an absolute path or empty, got %q", c.CgroupfsRoot)
	}
	if !strings.HasPrefix(c.HostRoot, "/") {
		bad("host_root: must be an absolute path, got %q", c.HostRoot)
	}
	if c.Workload.PodsDir != "" && !strings.HasPrefix(c.Workload.PodsDir, "/") {
		bad("workload.pods_dir: must be an absolute path or empty, got %q", c.Workload.PodsDir)
	}
	if c.Workload.RefreshInterval < 100*time.Millisecond || c.Workload.RefreshInterval > 10*time.Minute {
		bad("workload.refresh_interval: must be in [100ms, 10m], got %s", c.Workload.RefreshInterval)
	}
	return errors.Join(errs...)
}

// kernelEnabled reports whether any kernel event family is on (and so privileges are needed).
func (c *Config) kernelEnabled() bool {
	return c.Exec || c.Exit || c.Network || c.DNS || c.Files || c.Sysctl || c.Rename || c.Kill || c.FPU || c.Payload
}

func (c *Config) watchedPrefixes() []string {
	base := DefaultWatchedPrefixes
	if len(c.WatchedPaths.Replace) > 0 {
		base = c.WatchedPaths.Replace
	}
	out := make([]string, 0, len(base)+len(c.WatchedPaths.Add))
	seen := map[string]bool{}
	for _, p := range append(append([]string{}, base...), c.WatchedPaths.Add...) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// redaction is the redact configuration of the receiver.
func (c *Config) redaction() redact.Config {
	return redact.Config{Disable: c.Redaction.Disable, ExtraPatterns: c.Redaction.ExtraPatterns,
		SecretNames: c.secretPatterns(), EnvValues: c.Env.Values}
}

func (c *Config) secretPatterns() []string {
	base := DefaultSecretPatterns
	if len(c.Env.SecretPatterns) > 0 {
		base = c.Env.SecretPatterns
	}
	return append(append([]string{}, base...), c.Env.ExtraSecretPatterns...)
}
