package cryptochainresponseexporter

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/cryptochain-otel/cryptochain/exporter/cryptochainresponseexporter/internal/metadata"
)

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)

	tests := []struct {
		name    string
		want    *Config
		wantErr string // substring naming the key; empty = valid
	}{
		{name: "", want: createDefaultConfig().(*Config)},
		{name: "active", want: &Config{
			DryRun: false,
			Actions: map[string][]string{
				"medium":   {"block", "terminate"},
				"high":     {"block", "terminate", "quarantine"},
				"critical": {"block", "terminate", "quarantine", "isolate"},
			},
			KillSwitchFile: "/etc/cryptochain/response.disabled",
			Terminate:      TerminateConfig{Descendants: false, Wait: 2 * time.Second},
			Block:          BlockConfig{TTL: 30 * time.Minute, CgroupRoot: "/sys/fs/cgroup", ListFile: "/run/cryptochain/blocks.json"},
			Isolate:        IsolateConfig{Mode: IsolateDenyEgress},
			Quarantine:     QuarantineConfig{Directory: "/var/lib/cryptochain/quarantine"},
			RateLimit:      RateLimitConfig{ActionsPerMinute: 10, Burst: 5},
			Allowlist: AllowlistConfig{
				Executables:     []string{"/opt/research/xmrig"},
				ContainerImages: []string{"registry.example/benchmarks/randomx:1.0"},
				Hosts:           []string{"gpu-farm-1"},
				Addresses:       []string{"10.0.0.0/8", "2001:db8::1"},
			},
			Audit:     AuditConfig{Path: "/var/log/cryptochain/response-audit.jsonl"},
			QueueSize: 16,
		}},
		{name: "unknown_severity", wantErr: "actions.low"},
		{name: "unknown_action", wantErr: "actions.medium[1]"},
		{name: "bad_ttl", wantErr: "block.ttl"},
		{name: "relative_cgroup_root", wantErr: "block.cgroup_root"},
		{name: "bad_mode", wantErr: "isolate.mode"},
		{name: "bad_address", wantErr: "allowlist.addresses[1]"},
		{name: "relative_executable", wantErr: "allowlist.executables[0]"},
		{name: "no_audit", wantErr: "audit.path"},
		{name: "no_quarantine_dir", wantErr: "quarantine.directory"},
		{name: "bad_rate", wantErr: "rate_limit.actions_per_minute"},
		{name: "bad_wait", wantErr: "terminate.wait"},
		{name: "bad_queue", wantErr: "queue_size"},
		{name: "unknown_key", wantErr: "dryrun"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := createDefaultConfig()
			sub, err := cm.Sub(component.NewIDWithName(metadata.Type, tt.name).String())
			require.NoError(t, err)
			err = sub.Unmarshal(cfg)
			if err == nil {
				err = confmap.Validate(cfg)
			}
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, cfg)
		})
	}
}

func TestDefaultIsDryRun(t *testing.T) {
	assert.True(t, createDefaultConfig().(*Config).DryRun, "dry run must be the default")
}
