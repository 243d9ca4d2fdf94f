package config

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOTLPExporterFromEnvironment(t *testing.T) {
	base := map[string]any{"endpoint": "${env:OTEL_EXPORTER_OTLP_ENDPOINT}", "sending_queue": map[string]any{"enabled": true}}
	cases := []struct {
		name     string
		env      map[string]string
		exporter string
		want     map[string]any // keys checked in the exporter settings
	}{
		{name: "https is TLS", env: map[string]string{OTLPEndpointEnv: "https://b:4317"}, exporter: "otlp_grpc",
			want: map[string]any{"tls": map[string]any{"insecure": false}}},
		{name: "http is plaintext", env: map[string]string{OTLPEndpointEnv: "http://b:4317"}, exporter: "otlp_grpc",
			want: map[string]any{"tls": map[string]any{"insecure": true}}},
		{name: "bare host:port is TLS by default", env: map[string]string{OTLPEndpointEnv: "b:4317"}, exporter: "otlp_grpc",
			want: map[string]any{"tls": map[string]any{"insecure": false}}},
		{name: "bare host:port with INSECURE", env: map[string]string{OTLPEndpointEnv: "b:4317", otlpInsecureEnv: "true"}, exporter: "otlp_grpc",
			want: map[string]any{"tls": map[string]any{"insecure": true}}},
		{name: "INSECURE does not weaken https", env: map[string]string{OTLPEndpointEnv: "https://b:4317", otlpInsecureEnv: "true"}, exporter: "otlp_grpc",
			want: map[string]any{"tls": map[string]any{"insecure": false}}},
		{name: "certificates and headers", env: map[string]string{
			OTLPEndpointEnv: "https://b:4317", otlpCAEnv: "/ca.crt", otlpClientCertEnv: "/c.crt", otlpClientKeyEnv: "/c.key",
			otlpHeadersEnv: "api-key=s%3Dcret, x-team = sec ", otlpCompressionEnv: "gzip"}, exporter: "otlp_grpc",
			want: map[string]any{
				"tls":         map[string]any{"insecure": false, "ca_file": "/ca.crt", "cert_file": "/c.crt", "key_file": "/c.key"},
				"headers":     map[string]any{"api-key": "s=cret", "x-team": "sec"},
				"compression": "gzip",
			}},
		{name: "http/protobuf keeps the URL", env: map[string]string{OTLPEndpointEnv: "https://b:4318", otlpProtocolEnv: "http/protobuf"}, exporter: "otlp_http",
			want: map[string]any{"endpoint": "${env:OTEL_EXPORTER_OTLP_ENDPOINT}"}},
		{name: "http/protobuf spells out the scheme", env: map[string]string{OTLPEndpointEnv: "b:4318", otlpProtocolEnv: "http/protobuf"}, exporter: "otlp_http",
			want: map[string]any{"endpoint": "https://b:4318"}},
		{name: "http/json", env: map[string]string{OTLPEndpointEnv: "b:4318", otlpProtocolEnv: "http/json", otlpInsecureEnv: "true"}, exporter: "otlp_http",
			want: map[string]any{"endpoint": "http://b:4318", "encoding": "json"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			name, exp, err := otlpExporter(base, func(k string) string { return tc.env[k] })
			require.NoError(t, err)
			assert.Equal(t, tc.exporter, name)
			for k, v := range tc.want {
				assert.Equal(t, v, exp[k], k)
			}
			assert.Equal(t, base["sending_queue"], exp["sending_queue"], "the queue of otlp.yaml is kept")
		})
	}
}

func TestOTLPEnvironmentErrorsNameTheVariable(t *testing.T) {
	cases := map[string]struct {
		env  map[string]string
		want string
	}{
		"protocol":        {env: map[string]string{otlpProtocolEnv: "thrift"}, want: otlpProtocolEnv},
		"insecure":        {env: map[string]string{otlpInsecureEnv: "maybe"}, want: otlpInsecureEnv},
		"compression":     {env: map[string]string{otlpCompressionEnv: "brotli"}, want: otlpCompressionEnv},
		"scheme":          {env: map[string]string{OTLPEndpointEnv: "ftp://b"}, want: OTLPEndpointEnv},
		"client key pair": {env: map[string]string{otlpClientCertEnv: "/c.crt"}, want: otlpClientKeyEnv},
		"headers":         {env: map[string]string{otlpHeadersEnv: "novalue"}, want: otlpHeadersEnv},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			env := map[string]string{OTLPEndpointEnv: "b:4317"}
			for k, v := range tc.env {
				env[k] = v
			}
			_, _, err := otlpExporter(map[string]any{}, func(k string) string { return env[k] })
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

func TestHeaderErrorsHideValues(t *testing.T) {
	_, err := parseHeaders("api-key=%zzsecret")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "secret")
}

func TestAgentWithHTTPProtocol(t *testing.T) {
	t.Setenv(OTLPEndpointEnv, "http://127.0.0.1:4318")
	t.Setenv(otlpProtocolEnv, "http/protobuf")
	t.Setenv(otlpHeadersEnv, "authorization=Bearer%20abc")
	conf := retrieve(t, "embedded:agent")
	assert.Equal(t, []any{"debug", "file", "otlp_http"}, conf.Get("service::pipelines::logs/findings::exporters"))
	assert.Equal(t, "Bearer abc", conf.Get("exporters::otlp_http::headers::authorization"))
	assert.Nil(t, conf.Get("exporters::otlp_grpc"))
}
