package cryptochainprocessor

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// readmeExamples are the README's example records: the heading above each, the golden output it
// is taken from, and which record of it (the last one with that event name and severity text).
var readmeExamples = []struct {
	heading, golden, event, severity string
}{
	{"### Example finding", "critical_escalation", "cryptochain.finding", "CRITICAL"},
	{"### Example impact update", "impact_running_miner", ImpactEventName, "INFO"},
	{"### Example campaign", "campaign_two_hosts_and_indicator_member", CampaignEventName, "WARN"},
}

// TestReadmeExamplesAreGoldenOutput keeps the README's example records equal to the golden
// outputs they claim to be (rendered as plain JSON, attributes in emission order); -update rewrites them.
func TestReadmeExamplesAreGoldenOutput(t *testing.T) {
	raw, err := os.ReadFile("README.md")
	require.NoError(t, err)
	readme := string(raw)
	for _, ex := range readmeExamples {
		b, err := os.ReadFile(filepath.Join("testdata", "golden", ex.golden, "expected_findings.json"))
		require.NoError(t, err)
		ld, err := (&plog.JSONUnmarshaler{}).UnmarshalLogs(b)
		require.NoError(t, err)
		var want string
		eachRecord(ld, func(res pcommon.Resource, lr plog.LogRecord) {
			if lr.EventName() == ex.event && lr.SeverityText() == ex.severity {
				want = plainRecord(res, lr)
			}
		})
		require.NotEmpty(t, want, "%s has no %s %s record", ex.golden, ex.severity, ex.event)
		h := strings.Index(readme, "\n"+ex.heading+"\n")
		require.Positive(t, h, "README has no %q section", ex.heading)
		start := strings.Index(readme[h:], "```json\n")
		require.Positive(t, start, "no json block under %q", ex.heading)
		start += h + len("```json\n")
		end := strings.Index(readme[start:], "```\n")
		require.GreaterOrEqual(t, end, 0, "unterminated json block under %q", ex.heading)
		end += start
		if *update {
			readme = readme[:start] + want + readme[end:]
			continue
		}
		assert.Equal(t, want, readme[start:end], "%s is not the golden output of %s; regenerate: "+
			"go test ./processor/cryptochainprocessor -run TestReadmeExamplesAreGoldenOutput -update", ex.heading, ex.golden)
	}
	if *update {
		require.NoError(t, os.WriteFile("README.md", []byte(readme), 0o644))
	}
}

// plainRecord renders a record as indented plain JSON: resource and attributes as objects in their
// emission order, values untyped.
func plainRecord(res pcommon.Resource, lr plog.LogRecord) string {
	var b bytes.Buffer
	b.WriteString("{\n")
	field := func(k, v string, last bool) {
		b.WriteString("  " + strconv.Quote(k) + ": " + v)
		if !last {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	quote := func(s string) string { return plainJSON(s) }
	if res.Attributes().Len() > 0 {
		field("resource", plainValue(mapValue(res.Attributes()), "  "), false)
	}
	field("timeUnixNano", quote(strconv.FormatUint(uint64(lr.Timestamp()), 10)), false)
	field("eventName", quote(lr.EventName()), false)
	field("severityNumber", strconv.Itoa(int(lr.SeverityNumber())), false)
	field("severityText", quote(lr.SeverityText()), false)
	field("body", quote(lr.Body().AsString()), false)
	field("attributes", plainValue(mapValue(lr.Attributes()), "  "), true)
	b.WriteString("}\n")
	return b.String()
}

func mapValue(m pcommon.Map) pcommon.Value {
	v := pcommon.NewValueMap()
	m.CopyTo(v.Map())
	return v
}

func plainValue(v pcommon.Value, indent string) string {
	in := indent + "  "
	switch v.Type() {
	case pcommon.ValueTypeMap:
		if v.Map().Len() == 0 {
			return "{}"
		}
		var parts []string
		v.Map().Range(func(k string, e pcommon.Value) bool {
			parts = append(parts, in+strconv.Quote(k)+": "+plainValue(e, in))
			return true
		})
		return "{\n" + strings.Join(parts, ",\n") + "\n" + indent + "}"
	case pcommon.ValueTypeSlice:
		if v.Slice().Len() == 0 {
			return "[]"
		}
		var parts []string
		for i := 0; i < v.Slice().Len(); i++ {
			parts = append(parts, in+plainValue(v.Slice().At(i), in))
		}
		return "[\n" + strings.Join(parts, ",\n") + "\n" + indent + "]"
	}
	return plainJSON(v.AsRaw())
}

// plainJSON marshals v without escaping <, > and & (the README is read by people).
func plainJSON(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return strings.TrimSuffix(b.String(), "\n")
}
