package main

import (
	"fmt"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// renderTriage prints what an analyst starts from: how the chain started and what to do first.
func renderTriage(sb *strings.Builder, a pcommon.Map) {
	if ep, ok := a.Get("cryptochain.finding.entry_point"); ok && ep.Type() == pcommon.ValueTypeMap {
		if s, ok := ep.Map().Get("summary"); ok {
			fmt.Fprintf(sb, "  %-40s %s\n", "cryptochain.finding.entry_point", s.AsString())
		}
	}
	for _, k := range []string{"cryptochain.finding.remediation", "security_rule.reference"} {
		if v, ok := a.Get(k); ok {
			fmt.Fprintf(sb, "  %-40s %s\n", k, v.AsString())
		}
	}
}
