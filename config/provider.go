// Package config holds the configurations shipped with otelcol-cryptochain and
// a confmap provider that serves them from inside the binary, so that
// `otelcol-cryptochain --config embedded:agent` runs with nothing else on disk.
package config // import "github.com/cryptochain-otel/cryptochain/config"

import (
	"context"
	"embed"
	"fmt"
	"os"
	"sort"
	"strings"

	"go.opentelemetry.io/collector/confmap"
)

// Scheme is the URI scheme of the embedded-config provider.
const Scheme = "embedded"

// OTLPEndpointEnv, when set, makes `embedded:agent` also export findings over OTLP.
const OTLPEndpointEnv = "OTEL_EXPORTER_OTLP_ENDPOINT"

//go:embed agent.yaml gateway.yaml otlp.yaml
var files embed.FS

// Names lists the configurations that can be asked for as `embedded:<name>`.
func Names() []string {
	entries, _ := files.ReadDir(".")
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	sort.Strings(names)
	return names
}

// Bytes returns the YAML of one embedded configuration.
func Bytes(name string) ([]byte, error) {
	b, err := files.ReadFile(name + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("no embedded config %q (have %s)", name, strings.Join(Names(), ", "))
	}
	return b, nil
}

// NewFactory returns the factory of the `embedded` confmap provider.
func NewFactory() confmap.ProviderFactory {
	return confmap.NewProviderFactory(func(confmap.ProviderSettings) confmap.Provider { return provider{} })
}

type provider struct{}

// Retrieve serves `embedded:<name>`. For `embedded:agent` and `embedded:gateway` it adds an OTLP
// exporter when OTEL_EXPORTER_OTLP_ENDPOINT is set, so one set of standard variables switches the
// export on for every way of starting the collector (make run, systemd, a container, the Helm chart).
func (provider) Retrieve(_ context.Context, uri string, _ confmap.WatcherFunc) (*confmap.Retrieved, error) {
	name, ok := strings.CutPrefix(uri, Scheme+":")
	if !ok {
		return nil, fmt.Errorf("%q uri is not supported by %q provider", uri, Scheme)
	}
	raw, err := Bytes(name)
	if err != nil {
		return nil, err
	}
	if (name != "agent" && name != "gateway") || os.Getenv(OTLPEndpointEnv) == "" {
		return confmap.NewRetrievedFromYAML(raw)
	}
	conf, err := yamlConf(raw)
	if err != nil {
		return nil, err
	}
	if err := addOTLPExport(conf, os.Getenv); err != nil {
		return nil, err
	}
	return confmap.NewRetrieved(conf.ToStringMap())
}

func yamlConf(raw []byte) (*confmap.Conf, error) {
	r, err := confmap.NewRetrievedFromYAML(raw)
	if err != nil {
		return nil, err
	}
	return r.AsConf()
}

func (provider) Scheme() string { return Scheme }

func (provider) Shutdown(context.Context) error { return nil }
