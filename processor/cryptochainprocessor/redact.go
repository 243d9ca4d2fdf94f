package cryptochainprocessor // import "github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor"

import (
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
	"github.com/cryptochain-otel/cryptochain/internal/redact"
)

// redactRecord takes secrets out of a record the processor emits — a finding, or a forwarded raw
// record from an agent whose receiver did not redact — after it was classified: one pass over the
// string body and every string attribute, nested maps and slices included.
func redactRecord(r *redact.Redactor, lr plog.LogRecord) {
	if b := lr.Body(); b.Type() == pcommon.ValueTypeStr {
		setIfChanged(b, r.Text(b.Str()))
	}
	redactMap(r, lr.Attributes())
}

func redactMap(r *redact.Redactor, m pcommon.Map) {
	drop := false
	m.Range(func(k string, v pcommon.Value) bool {
		switch v.Type() {
		case pcommon.ValueTypeStr:
			s := v.Str()
			switch {
			case k == contract.AttrNetworkPayload:
				p, ok := r.Payload(s)
				if !ok {
					drop = true
				}
				setIfChanged(v, p)
			case strings.HasPrefix(k, contract.AttrEnvPrefix):
				setIfChanged(v, r.Env(k[len(contract.AttrEnvPrefix):], s))
			case strings.HasSuffix(k, ".time") || strings.HasSuffix(k, "_seen"):
			default:
				setIfChanged(v, r.Text(s))
			}
		case pcommon.ValueTypeSlice:
			redactSlice(r, k, v.Slice())
		case pcommon.ValueTypeMap:
			redactMap(r, v.Map())
		}
		return true
	})
	if drop {
		m.Remove(contract.AttrNetworkPayload)
	}
}

func redactSlice(r *redact.Redactor, k string, s pcommon.Slice) {
	if k == contract.AttrProcessCommandArgs {
		args := make([]string, 0, s.Len())
		for i := 0; i < s.Len(); i++ {
			args = append(args, s.At(i).AsString())
		}
		if r.Args(args) {
			for i := range args {
				setIfChanged(s.At(i), args[i])
			}
		}
		return
	}
	for i := 0; i < s.Len(); i++ {
		switch v := s.At(i); v.Type() {
		case pcommon.ValueTypeStr:
			setIfChanged(v, r.Text(v.Str()))
		case pcommon.ValueTypeMap:
			redactMap(r, v.Map())
		case pcommon.ValueTypeSlice:
			redactSlice(r, "", v.Slice())
		}
	}
}

func setIfChanged(v pcommon.Value, s string) {
	if v.Type() != pcommon.ValueTypeStr || v.Str() != s {
		v.SetStr(s)
	}
}
