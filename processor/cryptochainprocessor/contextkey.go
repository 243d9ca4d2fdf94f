package cryptochainprocessor // import "github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor"

import "go.opentelemetry.io/collector/pdata/pcommon"

// contextKey builds the context key from the context_keys values of res into p.keyBuf. Absent keys
// count as empty. It allocates only for non-string values.
func (p *cryptochainProcessor) contextKey(res pcommon.Resource) []byte {
	p.keyBuf = appendContextKey(p.keyBuf[:0], p.cfg.ContextKeys, res)
	return p.keyBuf
}

// appendContextKey appends the context key of res (the values of keys, NUL-separated) to b.
func appendContextKey(b []byte, keys []string, res pcommon.Resource) []byte {
	attrs := res.Attributes()
	for i, k := range keys {
		if i > 0 {
			b = append(b, 0)
		}
		v, ok := attrs.Get(k)
		if !ok {
			continue
		}
		if v.Type() == pcommon.ValueTypeStr {
			b = append(b, v.Str()...)
		} else {
			b = append(b, v.AsString()...)
		}
	}
	return b
}
