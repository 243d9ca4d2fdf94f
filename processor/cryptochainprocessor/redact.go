package cryptochainprocessor // import "github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor"

import (
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
	"github.com/cryptochain-otel/cryptochain/internal/redact"
)

// redactFinding takes secrets out of a finding: one pass over the string body and every string
// attribute, nested maps and slices (the evidence entries) included.
func redactFinding(r *redact.Redactor, lr plog.LogRecord) {
	if b := lr.Body(); b.Type() == pcommon.ValueTypeStr {
		setIfChanged(b, r.Text(b.Str()))
	}
	redactMap(r, lr.Attributes())
}

// redactForwarded takes secrets out of a raw record passed on (from an agent whose receiver did not
// redact), after it was classified. Only the attributes of the contract that carry host strings
// able to hold a secret are looked at (docs/events.md), and the body: forwarding stays cheap.
func redactForwarded(r *redact.Redactor, lr plog.LogRecord) {
	if b := lr.Body(); b.Type() == pcommon.ValueTypeStr && b.Str() != "" {
		setIfChanged(b, r.Text(b.Str()))
	}
	a := lr.Attributes()
	// argv first: a command line that is just the (unchanged) argv joined needs no second look
	argvClean := false
	if v, ok := a.Get(contract.AttrProcessCommandArgs); ok && v.Type() == pcommon.ValueTypeSlice {
		argvClean = !redactArgs(r, v.Slice())
	}
	drop := false
	a.Range(func(k string, v pcommon.Value) bool {
		switch {
		case v.Type() != pcommon.ValueTypeStr:
		case argvClean && (k == contract.AttrProcessCommandLine || k == contract.AttrProcessCommand) && isArgv(v.Str(), a):
		case k == contract.AttrNetworkPayload:
			p, ok := r.Payload(v.Str())
			drop = !ok
			setIfChanged(v, p)
		case strings.HasPrefix(k, contract.AttrEnvPrefix):
			setIfChanged(v, r.Env(k[len(contract.AttrEnvPrefix):], v.Str()))
		case k == contract.AttrProcessCommandLine || k == contract.AttrProcessCommand || k == contract.AttrFileContent:
			setIfChanged(v, r.Text(v.Str()))
		}
		return true
	})
	if drop {
		a.Remove(contract.AttrNetworkPayload)
	}
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

// redactArgs redacts an argv slice in place and reports whether anything changed.
func redactArgs(r *redact.Redactor, s pcommon.Slice) bool {
	var buf [16]string
	args := buf[:0]
	for i := 0; i < s.Len(); i++ {
		args = append(args, s.At(i).AsString())
	}
	if !r.Args(args) {
		return false
	}
	for i := range args {
		setIfChanged(s.At(i), args[i])
	}
	return true
}

// isArgv reports whether line is the record's argv joined by single spaces, or its argv[0].
func isArgv(line string, a pcommon.Map) bool {
	v, _ := a.Get(contract.AttrProcessCommandArgs)
	s := v.Slice()
	for i := 0; i < s.Len(); i++ {
		arg := s.At(i).Str()
		if i > 0 {
			if line == "" {
				return true // argv[0] alone (process.command)
			}
			if line[0] != ' ' {
				return false
			}
			line = line[1:]
		}
		if !strings.HasPrefix(line, arg) {
			return false
		}
		line = line[len(arg):]
	}
	return line == ""
}

func redactSlice(r *redact.Redactor, k string, s pcommon.Slice) {
	if k == contract.AttrProcessCommandArgs {
		redactArgs(r, s)
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
