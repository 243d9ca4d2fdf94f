package config

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
)

func retrieve(t *testing.T, uri string) *confmap.Conf {
	t.Helper()
	p := NewFactory().Create(confmap.ProviderSettings{})
	t.Cleanup(func() { require.NoError(t, p.Shutdown(context.Background())) })
	r, err := p.Retrieve(context.Background(), uri, nil)
	require.NoError(t, err)
	conf, err := r.AsConf()
	require.NoError(t, err)
	return conf
}

func TestAgentWithoutOTLP(t *testing.T) {
	t.Setenv(OTLPEndpointEnv, "")
	conf := retrieve(t, "embedded:agent")
	assert.Equal(t, []any{"debug", "file"}, conf.Get("service::pipelines::logs/findings::exporters"))
	assert.Nil(t, conf.Get("exporters::otlp_grpc"))
}

func TestAgentWithOTLPEndpoint(t *testing.T) {
	t.Setenv(OTLPEndpointEnv, "http://127.0.0.1:4317")
	conf := retrieve(t, "embedded:agent")
	assert.Equal(t, []any{"debug", "file", "otlp_grpc"}, conf.Get("service::pipelines::logs/findings::exporters"))
	// The endpoint stays a reference: the resolver expands it later.
	assert.Equal(t, "${env:OTEL_EXPORTER_OTLP_ENDPOINT}", conf.Get("exporters::otlp_grpc::endpoint"))
	// The rest of the agent config survives the merge.
	assert.NotNil(t, conf.Get("processors::memory_limiter"))
}

func TestGatewayAndNames(t *testing.T) {
	t.Setenv(OTLPEndpointEnv, "")
	assert.Equal(t, []string{"agent", "gateway", "otlp"}, Names())
	conf := retrieve(t, "embedded:gateway")
	assert.NotNil(t, conf.Get("receivers::otlp"))
	assert.Equal(t, []any{"debug", "file"}, conf.Get("service::pipelines::logs/findings::exporters"))
	// Agents must present a certificate: the receiver names a client CA.
	assert.NotEmpty(t, conf.Get("receivers::otlp::protocols::grpc::tls::client_ca_file"))
}

func TestGatewayExportsToBackend(t *testing.T) {
	t.Setenv(OTLPEndpointEnv, "https://backend.example:4317")
	conf := retrieve(t, "embedded:gateway")
	assert.Equal(t, []any{"debug", "file", "otlp_grpc"}, conf.Get("service::pipelines::logs/findings::exporters"))
	assert.Equal(t, false, conf.Get("exporters::otlp_grpc::tls::insecure"))
}

func TestUnknownNameAndScheme(t *testing.T) {
	p := NewFactory().Create(confmap.ProviderSettings{})
	assert.Equal(t, Scheme, p.Scheme())
	_, err := p.Retrieve(context.Background(), "embedded:nope", nil)
	assert.ErrorContains(t, err, `no embedded config "nope"`)
	_, err = p.Retrieve(context.Background(), "file:agent.yaml", nil)
	assert.Error(t, err)
}
