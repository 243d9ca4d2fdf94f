package cryptochainprocessor

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// emittedKeys collects, from every golden output, the attribute keys of each event the processor
// emits and, per map-valued attribute, the keys its maps carry.
func emittedKeys(t *testing.T) (attrs map[string]map[string]bool, nested map[string]map[string]bool) {
	t.Helper()
	attrs, nested = map[string]map[string]bool{}, map[string]map[string]bool{}
	files, err := filepath.Glob(filepath.Join("testdata", "golden", "*", "expected_findings.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		ld, err := (&plog.JSONUnmarshaler{}).UnmarshalLogs(raw)
		require.NoError(t, err)
		eachRecord(ld, func(_ pcommon.Resource, lr plog.LogRecord) {
			ev := lr.EventName()
			if attrs[ev] == nil {
				attrs[ev] = map[string]bool{}
			}
			lr.Attributes().Range(func(k string, v pcommon.Value) bool {
				attrs[ev][k] = true
				collectNested(nested, k, v)
				return true
			})
		})
	}
	return attrs, nested
}

func collectNested(nested map[string]map[string]bool, parent string, v pcommon.Value) {
	add := func(m pcommon.Map) {
		if nested[parent] == nil {
			nested[parent] = map[string]bool{}
		}
		m.Range(func(k string, _ pcommon.Value) bool { nested[parent][k] = true; return true })
	}
	switch v.Type() {
	case pcommon.ValueTypeMap:
		add(v.Map())
	case pcommon.ValueTypeSlice:
		for i := 0; i < v.Slice().Len(); i++ {
			if e := v.Slice().At(i); e.Type() == pcommon.ValueTypeMap {
				add(e.Map())
			}
		}
	}
}

var backticked = regexp.MustCompile("`([^`]+)`")

// documentedNames returns the names a line of docs/events.md documents: every `name` in backticks,
// with a shorthand `.suffix` expanded against the name before it (`a.b.id` / `.name` is a.b.name).
func documentedNames(line string) []string {
	var out []string
	prev := ""
	for _, m := range backticked.FindAllStringSubmatch(line, -1) {
		name := m[1]
		if strings.HasPrefix(name, ".") && prev != "" {
			segs := strings.Count(name, ".")
			parts := strings.Split(prev, ".")
			if segs < len(parts) {
				name = strings.Join(parts[:len(parts)-segs], ".") + name
			}
		} else {
			prev = name
		}
		out = append(out, name)
	}
	return out
}

// TestEventsDocumentEveryEmittedAttribute fails when a finding, impact update or campaign record in
// the golden outputs carries an attribute (or a key inside a map attribute) that the processor's
// sections of docs/events.md do not name.
func TestEventsDocumentEveryEmittedAttribute(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "events.md"))
	require.NoError(t, err)
	doc := string(raw)
	i := strings.Index(doc, "\n## Findings")
	require.Positive(t, i, "docs/events.md has a Findings section")
	documented := map[string]bool{}
	rowOf := map[string][]string{} // an attribute → the names its table row mentions
	for _, line := range strings.Split(doc[i:], "\n") {
		names := documentedNames(line)
		for _, n := range names {
			documented[n] = true
			if strings.HasPrefix(line, "| `") {
				rowOf[n] = append(rowOf[n], names...)
			}
		}
	}
	attrs, nested := emittedKeys(t)
	for _, ev := range []string{"cryptochain.finding", ImpactEventName, CampaignEventName} {
		require.NotEmpty(t, attrs[ev], "the golden outputs hold no %s record", ev)
		assert.True(t, documented[ev], "docs/events.md does not name the event %s", ev)
	}
	var events []string
	for ev := range attrs {
		events = append(events, ev)
	}
	sort.Strings(events)
	for _, ev := range events {
		for k := range attrs[ev] {
			assert.True(t, documented[k], "%s attribute %s is emitted but not documented in docs/events.md", ev, k)
		}
	}
	for parent, keys := range nested {
		for k := range keys {
			assert.True(t, slices.Contains(rowOf[parent], k),
				"%s carries maps with key %s, which its row in docs/events.md does not name", parent, k)
		}
	}
}

func TestDocumentedNames(t *testing.T) {
	assert.Equal(t, []string{"a.b.id", "a.b.name", "a.b.reason", "x"},
		documentedNames("| `a.b.id` / `.name` / `.reason` and `x` |"))
	assert.Equal(t, []string{"c.evidence.miner", "c.evidence.pool"}, documentedNames("`c.evidence.miner` / `.pool`"))
}
