package config

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/confmap"
)

// The standard OTLP exporter variables the embedded provider honours
// (OpenTelemetry specification, "OTLP Exporter Configuration").
const (
	otlpProtocolEnv    = "OTEL_EXPORTER_OTLP_PROTOCOL"
	otlpHeadersEnv     = "OTEL_EXPORTER_OTLP_HEADERS"
	otlpInsecureEnv    = "OTEL_EXPORTER_OTLP_INSECURE"
	otlpCAEnv          = "OTEL_EXPORTER_OTLP_CERTIFICATE"
	otlpClientCertEnv  = "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE"
	otlpClientKeyEnv   = "OTEL_EXPORTER_OTLP_CLIENT_KEY"
	otlpCompressionEnv = "OTEL_EXPORTER_OTLP_COMPRESSION"
)

// findingsPipeline is the pipeline of agent.yaml and gateway.yaml that the OTLP exporter joins.
const findingsPipeline = "service::pipelines::logs/findings::exporters"

// addOTLPExport adds the OTLP exporter of otlp.yaml to conf's findings pipeline, shaped by the
// OTEL_EXPORTER_OTLP_* variables: gRPC or HTTP, TLS unless the endpoint says http:// (or INSECURE
// is true for an endpoint without a scheme), headers such as API keys, CA and client certificates.
func addOTLPExport(conf *confmap.Conf, getenv func(string) string) error {
	frag, err := Bytes("otlp")
	if err != nil {
		return err
	}
	fc, err := yamlConf(frag)
	if err != nil {
		return err
	}
	base, ok := fc.Get("exporters::otlp_grpc").(map[string]any)
	if !ok {
		return fmt.Errorf("otlp.yaml has no exporters::otlp_grpc")
	}
	name, exp, err := otlpExporter(base, getenv)
	if err != nil {
		return err
	}
	exporters, _ := conf.Get(findingsPipeline).([]any)
	exporters = append(slices.Clone(exporters), name)
	return conf.Merge(confmap.NewFromStringMap(map[string]any{
		"exporters::" + name: exp,
		findingsPipeline:     exporters,
	}))
}

// otlpExporter returns the exporter's component name and settings: base (queue, retries, the
// endpoint reference) plus what the variables ask for.
func otlpExporter(base map[string]any, getenv func(string) string) (string, map[string]any, error) {
	exp := map[string]any{}
	for k, v := range base {
		exp[k] = v
	}
	endpoint := getenv(OTLPEndpointEnv)
	scheme, _, hasScheme := strings.Cut(endpoint, "://")
	if hasScheme && scheme != "http" && scheme != "https" {
		return "", nil, fmt.Errorf("%s: scheme %q: want http://, https:// or host:port", OTLPEndpointEnv, scheme)
	}

	tls := map[string]any{}
	switch {
	case scheme == "http" && hasScheme:
		tls["insecure"] = true
	case scheme == "https" && hasScheme:
		tls["insecure"] = false
	default:
		insecure := false
		if v := getenv(otlpInsecureEnv); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return "", nil, fmt.Errorf("%s=%q: want true or false", otlpInsecureEnv, v)
			}
			insecure = b
		}
		tls["insecure"] = insecure
		if insecure {
			scheme = "http"
		} else {
			scheme = "https"
		}
	}
	for env, key := range map[string]string{otlpCAEnv: "ca_file", otlpClientCertEnv: "cert_file", otlpClientKeyEnv: "key_file"} {
		if v := getenv(env); v != "" {
			tls[key] = v
		}
	}
	if (getenv(otlpClientCertEnv) == "") != (getenv(otlpClientKeyEnv) == "") {
		return "", nil, fmt.Errorf("%s and %s must be set together", otlpClientCertEnv, otlpClientKeyEnv)
	}
	exp["tls"] = tls

	headers, err := parseHeaders(getenv(otlpHeadersEnv))
	if err != nil {
		return "", nil, err
	}
	if len(headers) > 0 {
		exp["headers"] = headers
	}
	switch c := getenv(otlpCompressionEnv); c {
	case "":
	case "gzip", "none":
		exp["compression"] = c
	default:
		return "", nil, fmt.Errorf("%s=%q: want gzip or none", otlpCompressionEnv, c)
	}

	switch p := getenv(otlpProtocolEnv); p {
	case "", "grpc":
		return "otlp_grpc", exp, nil
	case "http/protobuf", "http/json":
		// The HTTP exporter takes a base URL and appends /v1/logs; it needs the scheme spelled out.
		if !hasScheme {
			exp["endpoint"] = scheme + "://" + endpoint
		}
		if p == "http/json" {
			exp["encoding"] = "json"
		}
		return "otlp_http", exp, nil
	default:
		return "", nil, fmt.Errorf("%s=%q: want grpc, http/protobuf or http/json", otlpProtocolEnv, p)
	}
}

// parseHeaders reads OTEL_EXPORTER_OTLP_HEADERS: comma-separated key=value pairs, values
// URL-encoded. Errors never repeat a value: headers usually carry API keys.
func parseHeaders(s string) (map[string]any, error) {
	out := map[string]any{}
	for i, pair := range strings.Split(s, ",") {
		if strings.TrimSpace(pair) == "" {
			continue
		}
		k, v, ok := strings.Cut(pair, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("%s: entry %d is not key=value", otlpHeadersEnv, i+1)
		}
		val, err := url.PathUnescape(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("%s: the value of %q is not URL-encoded correctly", otlpHeadersEnv, k)
		}
		out[k] = val
	}
	return out, nil
}
