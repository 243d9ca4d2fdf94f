package cryptochainprocessor // import "github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor"

import (
	"regexp"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
)

// allowlist exempts authorized miners and known-good tools: their records produce no evidence.
type allowlist struct {
	exes   map[string]struct{}
	images map[string]struct{}
	attrs  []attrMatcher
}

type attrMatcher struct {
	key, value string
	re         *regexp.Regexp
}

func newAllowlist(cfg AllowlistConfig) (*allowlist, error) {
	a := &allowlist{exes: make(map[string]struct{}), images: make(map[string]struct{})}
	for _, e := range cfg.Executables {
		a.exes[e] = struct{}{}
	}
	for _, i := range cfg.ContainerImages {
		a.images[i] = struct{}{}
	}
	for _, m := range cfg.ResourceAttributes {
		am := attrMatcher{key: m.Key, value: m.Value}
		if m.Regex != "" {
			re, err := regexp.Compile(m.Regex)
			if err != nil {
				return nil, err
			}
			am.re = re
		}
		a.attrs = append(a.attrs, am)
	}
	return a, nil
}

// resource reports whether a whole context (its resource) is allowlisted.
func (a *allowlist) resource(res pcommon.Resource) bool {
	if len(a.images) == 0 && len(a.attrs) == 0 {
		return false
	}
	attrs := res.Attributes()
	if len(a.images) > 0 {
		if v, ok := attrs.Get(contract.ResourceContainerImageName); ok {
			if _, hit := a.images[v.AsString()]; hit {
				return true
			}
		}
	}
	for i := range a.attrs {
		m := &a.attrs[i]
		v, ok := attrs.Get(m.key)
		if !ok {
			continue
		}
		s := v.AsString()
		if (m.re != nil && m.re.MatchString(s)) || (m.re == nil && s == m.value) {
			return true
		}
	}
	return false
}

// executable reports whether records of this executable are allowlisted.
func (a *allowlist) executable(path string) bool {
	if len(a.exes) == 0 || path == "" {
		return false
	}
	_, ok := a.exes[path]
	return ok
}
