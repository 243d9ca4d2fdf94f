package ebpfreceiver

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/metadata"
)

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)

	load := func(name string) *Config {
		cfg := NewFactory().CreateDefaultConfig().(*Config)
		sub, err := cm.Sub(component.NewIDWithName(metadata.Type, name).String())
		require.NoError(t, err)
		require.NoError(t, sub.Unmarshal(cfg))
		return cfg
	}

	def := load("")
	require.NoError(t, confmap.Validate(def))
	assert.Equal(t, createDefaultConfig(), def)
	assert.True(t, def.kernelEnabled())
	assert.LessOrEqual(t, def.Batch.Timeout, 200*time.Millisecond)
	assert.Equal(t, EnvValuesNonSecret, def.Env.Values)

	custom := load("custom")
	require.NoError(t, confmap.Validate(custom))
	assert.False(t, custom.Network)
	assert.Equal(t, 32, custom.Argv.MaxArgs)
	assert.Equal(t, EnvValuesNone, custom.Env.Values)
	assert.Contains(t, custom.secretPatterns(), "*WALLET_PIN*")
	assert.Contains(t, custom.secretPatterns(), "*TOKEN*")
	assert.Equal(t, []string{"high_entropy"}, custom.Redaction.Disable)
	assert.Len(t, custom.Redaction.ExtraPatterns, 2)
	assert.Contains(t, custom.watchedPrefixes(), "/opt/app/cron/")
	assert.Contains(t, custom.watchedPrefixes(), "/etc/cron")
	assert.Equal(t, 8<<20, custom.RingBufferSize)
	assert.Equal(t, 16<<20, custom.LifecycleRingBufferSize)
	assert.Equal(t, 50*time.Millisecond, custom.Batch.Timeout)
	assert.Equal(t, "/host/proc", custom.ProcfsRoot)
	assert.False(t, custom.ConfigFiles.Enabled)
	assert.Equal(t, 10*time.Minute, custom.ConfigFiles.Interval)
	assert.Equal(t, WorkloadConfig{PodsDir: "/host/var/log/pods", RuntimeState: false, RefreshInterval: 30 * time.Second}, custom.Workload)

	snap := load("snapshot_only")
	require.NoError(t, confmap.Validate(snap))
	assert.False(t, snap.kernelEnabled())
	assert.True(t, snap.Snapshot)

	err = confmap.Validate(load("invalid"))
	require.Error(t, err)
	for _, key := range []string{"ring_buffer_size", "lifecycle_ring_buffer_size", "batch.timeout", "env.values", "watched_paths.add", "redaction.disable[1]"} {
		assert.ErrorContains(t, err, key)
	}
}

func TestValidateNamesKeys(t *testing.T) {
	tests := []struct {
		key    string
		mutate func(*Config)
	}{
		{"poll_interval", func(c *Config) { c.PollInterval = 0 }},
		{"batch.size", func(c *Config) { c.Batch.Size = 0 }},
		{"argv.max_args", func(c *Config) { c.Argv.MaxArgs = 0 }},
		{"argv.max_bytes", func(c *Config) { c.Argv.MaxBytes = 1 << 20 }},
		{"env.max_vars", func(c *Config) { c.Env.MaxVars = -1 }},
		{"env.max_bytes", func(c *Config) { c.Env.MaxBytes = 1 << 20 }},
		{"env.secret_patterns", func(c *Config) { c.Env.SecretPatterns = []string{"[bad"} }},
		{"redaction.disable[0]", func(c *Config) { c.Redaction.Disable = []string{"argv"} }},
		{"redaction.extra_patterns[1]", func(c *Config) { c.Redaction.ExtraPatterns = []string{"ok", "(bad"} }},
		{"watched_paths.replace", func(c *Config) { c.WatchedPaths.Replace = []string{"etc"} }},
		{"file_content_bytes", func(c *Config) { c.FileContentBytes = -1 }},
		{"procfs_root", func(c *Config) { c.ProcfsRoot = "proc" }},
		{"config_files.max_bytes", func(c *Config) { c.ConfigFiles.MaxBytes = 1 }},
		{"config_files.per_executable_interval", func(c *Config) { c.ConfigFiles.Interval = -1 }},
		{"cgroupfs_root", func(c *Config) { c.CgroupfsRoot = "cg" }},
		{"host_root", func(c *Config) { c.HostRoot = "" }},
		{"workload.pods_dir", func(c *Config) { c.Workload.PodsDir = "var/log/pods" }},
		{"workload.refresh_interval", func(c *Config) { c.Workload.RefreshInterval = 0 }},
		{"workload.refresh_interval", func(c *Config) { c.Workload.RefreshInterval = time.Hour }},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			cfg := createDefaultConfig()
			tt.mutate(cfg)
			assert.ErrorContains(t, cfg.Validate(), tt.key+":")
		})
	}
	cfg := createDefaultConfig()
	cfg.WatchedPaths.Replace = []string{"/only/"}
	assert.Equal(t, []string{"/only/"}, cfg.watchedPrefixes())
}

// The default watched prefixes let the kernel see a write to every persistence location of the
// contract's table, and the merge leaves no prefix that another one already covers.
func TestDefaultWatchedPrefixesCoverPersistenceTable(t *testing.T) {
	for _, p := range contract.PersistencePrefixes() {
		covered := false
		for _, w := range DefaultWatchedPrefixes {
			covered = covered || strings.HasPrefix(p, w)
		}
		assert.True(t, covered, "persistence location %s is not watched", p)
	}
	for i, w := range DefaultWatchedPrefixes {
		for j, v := range DefaultWatchedPrefixes {
			assert.False(t, i != j && strings.HasPrefix(w, v), "%s is covered by %s", w, v)
		}
	}
}
