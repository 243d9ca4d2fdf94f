package cryptochainprocessor

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/metadata"
)

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	storageID := component.MustNewIDWithName("file_storage", "chains")

	tests := []struct {
		name    string
		want    *Config
		wantErr string // substring naming the key; empty = valid
	}{
		{name: "", want: createDefaultConfig().(*Config)},
		{name: "custom", want: &Config{
			ContextKeys:           []string{"host.id", "k8s.pod.uid", "cryptochain.context.id"},
			Window:                30 * time.Minute,
			MaxContexts:           500,
			MaxEvidencePerContext: 32,
			MaxStateBytes:         32 << 20,
			MaxTombstones:         100,
			UpdateInterval:        10 * time.Second,
			Forward:               ForwardAll,
			Storage:               &storageID,
			Indicators: IndicatorsConfig{
				PoolDomains:      []string{"pool.internal-mining.example"},
				MinerNames:       []string{"cryptonoter"},
				PersistencePaths: []string{"/opt/agent/autostart/"},
				Patterns:         []string{`--mining-threads=\d+`},
			},
			Allowlist: AllowlistConfig{
				Executables:     []string{"/opt/research/xmrig"},
				ContainerImages: []string{"registry.example/benchmarks/randomx:1.0"},
				ResourceAttributes: []AttributeMatch{
					{Key: "k8s.namespace.name", Value: "sanctioned-mining"},
					{Key: "host.name", Regex: "^gpu-farm-[0-9]+$"},
				},
			},
			Redaction: RedactionConfig{
				Disable:          []string{"payload_filter"},
				ExtraPatterns:    []string{"corp-[0-9a-f]{16}"},
				ExtraSecretNames: []string{"*WALLET_PIN*"},
			},
			Campaigns: CampaignsConfig{Enabled: true, MinHosts: 3, MaxCampaigns: 50, MaxHosts: 100, MaxContainers: 10, MaxIndicators: 8},
			Impact:    ImpactConfig{Interval: 5 * time.Minute, PricePerCoreHour: 0.12, Currency: "EUR"},
		}},
		{name: "empty_context_keys", wantErr: "context_keys"},
		{name: "zero_window", wantErr: "window"},
		{name: "bad_forward", wantErr: "forward"},
		{name: "bad_pattern", wantErr: "indicators.patterns[0]"},
		{name: "bad_allowlist_regex", wantErr: "allowlist.resource_attributes[0].regex"},
		{name: "allowlist_value_and_regex", wantErr: "allowlist.resource_attributes[0]"},
		{name: "bad_redaction_rule", wantErr: "redaction.disable[0]"},
		{name: "bad_redaction_pattern", wantErr: "redaction.extra_patterns[0]"},
		{name: "bad_secret_name", wantErr: "redaction.extra_secret_names[0]"},
		{name: "small_state_bytes", wantErr: "max_state_bytes"},
		{name: "negative_tombstones", wantErr: "max_tombstones"},
		{name: "fast_updates", wantErr: "update_interval"},
		{name: "updates_beyond_window", wantErr: "update_interval"},
		{name: "unknown_key", wantErr: "windows"},
		{name: "bad_campaigns", wantErr: "campaigns.max_campaigns"},
		{name: "bad_impact_price", wantErr: "impact.price_per_core_hour"},
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
