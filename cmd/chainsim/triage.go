package main

import (
	"fmt"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
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

// impactConfig makes the demo's collector sample the miner each second and update its finding's
// impact as often (the defaults are a minute: longer than the demo's chain runs).
var impactConfig = []string{
	"--config", "yaml:receivers::ebpf::usage::interval: 1s",
	"--config", "yaml:processors::cryptochain::impact::interval: 1s",
}

// renderImpact prints an impact update: what the running miner has cost so far.
func renderImpact(lr plog.LogRecord) string {
	a := lr.Attributes()
	get := func(k string) string {
		if v, ok := a.Get(k); ok {
			return v.AsString()
		}
		return ""
	}
	return fmt.Sprintf("IMPACT of %s: cpu %s s, rss %s bytes, estimated cost %s %s\n", get("cryptochain.finding.id"),
		get("cryptochain.impact.cpu_seconds"), get("cryptochain.impact.memory_rss_bytes"),
		get("cryptochain.impact.estimated_cost"), get("cryptochain.impact.currency"))
}
