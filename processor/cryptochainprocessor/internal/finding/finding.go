// Package finding renders a chain escalation as the `cryptochain.finding` log record (processor README, docs/events.md).
// It must not decide levels or keep state; environment values reach a finding only when they were the indicator.
package finding // import "github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/finding"

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/chain"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/evidence"
)

// Fixed values of every finding.
const (
	EventName     = "cryptochain.finding"
	RuleName      = "Cryptomining attack chain detected"
	TacticID      = "TA0040"
	TacticName    = "Impact"
	TechniqueID   = "T1496"
	TechniqueName = "Resource Hijacking"
)

// Attribute keys of a finding.
const (
	AttrRuleName         = "security_rule.name"
	AttrID               = contract.AttrFindingID
	AttrCase             = "cryptochain.finding.case"
	AttrSeverity         = contract.AttrFindingSeverity
	AttrGroups           = "cryptochain.finding.groups"
	AttrContextID        = contract.AttrFindingContextID
	AttrFirstSeen        = "cryptochain.finding.first_seen"
	AttrLastSeen         = contract.AttrFindingLastSeen
	AttrLinkedContexts   = "cryptochain.finding.linked_contexts"
	AttrEvidencePrefix   = contract.AttrFindingEvidencePrefix
	AttrTacticID         = "cryptochain.mitre.tactic.id"
	AttrTacticName       = "cryptochain.mitre.tactic.name"
	AttrTechniqueID      = "cryptochain.mitre.technique.id"
	AttrTechniqueName    = "cryptochain.mitre.technique.name"
	AttrMinerPIDs        = contract.AttrResponseMinerPIDs
	AttrPoolEndpoints    = contract.AttrResponsePoolEndpoints
	AttrWallets          = "cryptochain.response.wallets"
	AttrPersistencePaths = contract.AttrResponsePersistencePaths
	AttrMinerCPUTime     = "cryptochain.miner.cpu_time"
	// AttrEvidenceDropped is the number of evidence items the context could not keep (its budgets
	// were full): present when not zero, so an analyst knows the list is not all there was.
	AttrEvidenceDropped = "cryptochain.finding.evidence_dropped"
	// AttrConcealment lists the concealment kinds seen (ld.so.preload, log wiping, ...): they are in
	// no group and never raise the severity.
	AttrConcealment  = "cryptochain.finding.concealment"
	AttrMinerSHA256  = contract.AttrResponseMinerSHA256
	AttrTechniqueIDs = "cryptochain.mitre.technique.ids"
)

// maxCmdLine bounds the command line copied into one evidence entry.
const maxCmdLine = 1024

// Severity maps a level to the record's SeverityNumber: Medium in WARN, High and Critical ≥ ERROR.
func Severity(l chain.Level) (plog.SeverityNumber, string) {
	switch l {
	case chain.Medium:
		return plog.SeverityNumberWarn2, "MEDIUM"
	case chain.High:
		return plog.SeverityNumberError, "HIGH"
	case chain.Critical:
		return plog.SeverityNumberError2, "CRITICAL"
	}
	return plog.SeverityNumberUnspecified, ""
}

// Append renders f as one record in a new ResourceLogs of dst, whose Resource is the context's.
func Append(dst plog.ResourceLogsSlice, f *chain.Finding, scope string, observed time.Time) plog.LogRecord {
	rl := dst.AppendEmpty()
	_ = chain.DecodeResource(f.Context.Resource, rl.Resource())
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName(scope)
	lr := sl.LogRecords().AppendEmpty()

	first, last := span(f.Items)
	lr.SetTimestamp(pcommon.Timestamp(last))
	lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(observed))
	lr.SetEventName(EventName)
	num, text := Severity(f.Level)
	lr.SetSeverityNumber(num)
	lr.SetSeverityText(text)

	r := summarize(f)
	entry := deriveEntryPoint(f, rl.Resource().Attributes())
	lr.Body().SetStr(body(f, &r))

	a := lr.Attributes()
	a.PutStr(AttrRuleName, RuleName)
	putRule(a, f.Level)
	a.PutStr(AttrID, f.ID)
	a.PutStr(AttrCase, f.Level.Case())
	a.PutStr(AttrSeverity, f.Level.String())
	groups := a.PutEmptySlice(AttrGroups)
	for _, g := range f.Groups {
		groups.AppendEmpty().SetStr(g.String())
	}
	a.PutStr(AttrContextID, chain.DisplayID(f.Context))
	a.PutStr(AttrTacticID, TacticID)
	a.PutStr(AttrTacticName, TacticName)
	a.PutStr(AttrTechniqueID, TechniqueID)
	a.PutStr(AttrTechniqueName, TechniqueName)
	a.PutStr(AttrFirstSeen, isoTime(first))
	a.PutStr(AttrLastSeen, isoTime(last))
	for _, g := range f.Groups {
		s := a.PutEmptySlice(AttrEvidencePrefix + g.String())
		for i := range f.Items {
			if f.Items[i].Group == g {
				m := s.AppendEmpty().SetEmptyMap()
				putEvidence(m, &f.Items[i])
				putAnalyst(m, f, &f.Items[i])
			}
		}
	}
	if r.concealed != nil {
		s := a.PutEmptySlice(AttrEvidencePrefix + evidence.Concealment.String())
		for i := range f.Items {
			if f.Items[i].Group == evidence.Concealment {
				putEvidence(s.AppendEmpty().SetEmptyMap(), &f.Items[i])
			}
		}
		putStrs(a, AttrConcealment, r.concealed)
	}
	if n := f.Context.Dropped; n > 0 {
		a.PutInt(AttrEvidenceDropped, n)
	}
	pids := a.PutEmptySlice(AttrMinerPIDs)
	for _, pid := range r.minerPIDs {
		pids.AppendEmpty().SetInt(pid)
	}
	putStrs(a, AttrPoolEndpoints, r.endpoints)
	putStrs(a, AttrWallets, r.wallets)
	putStrs(a, AttrPersistencePaths, r.paths)
	if len(r.linked) > 0 {
		putStrs(a, AttrLinkedContexts, r.linked)
	}
	if r.hasCPU {
		a.PutDouble(AttrMinerCPUTime, r.cpu)
	}
	putAnalystSummary(a, f, r.minerPIDs)
	entry.put(a)
	return lr
}

// response holds the facts an analyst acts on.
type response struct {
	minerPIDs []int64
	minerExe  string
	endpoints []string
	wallets   []string
	paths     []string
	linked    []string
	concealed []string // concealment kinds
	hidden    string   // the first concealment, for the body
	cpu       float64
	hasCPU    bool
}

func summarize(f *chain.Finding) response {
	var r response
	// The miner named first (in the body, and first among the pids to stop) is the process with strong
	// miner evidence, not a launcher that only carries a weak hint such as a masquerade flag.
	for _, strength := range [...]evidence.Strength{evidence.Strong, evidence.Weak} {
		for i := range f.Items {
			it := &f.Items[i]
			if it.Group != evidence.Miner || it.Strength != strength || it.PID == 0 || containsInt(r.minerPIDs, it.PID) {
				continue
			}
			r.minerPIDs = append(r.minerPIDs, it.PID)
			if r.minerExe == "" {
				r.minerExe = it.Exe
			}
		}
	}
	for i := range f.Items {
		it := &f.Items[i]
		switch it.Group {
		case evidence.Miner:
			r.endpoints = addStr(r.endpoints, it.Endpoint)
		case evidence.Pool:
			r.endpoints = addStr(r.endpoints, it.Endpoint)
			r.endpoints = addStr(r.endpoints, addressEndpoint(it))
		case evidence.Persistence:
			if !it.Failed {
				r.paths = addStr(r.paths, it.Path)
			}
		case evidence.Concealment:
			r.concealed = addStr(r.concealed, it.Kind)
			if r.hidden == "" {
				r.hidden = it.Kind + " " + it.Indicator
			}
		}
		r.wallets = addStr(r.wallets, it.Wallet)
		r.linked = addStr(r.linked, it.LinkedFrom)
	}
	for i := range f.Context.Procs {
		p := &f.Context.Procs[i]
		if p.HasCPU && containsInt(r.minerPIDs, p.PID) && isMinerProc(f, p) {
			r.cpu += p.CPU
			r.hasCPU = true
		}
	}
	return r
}

func isMinerProc(f *chain.Finding, p *chain.Proc) bool {
	for i := range f.Items {
		it := &f.Items[i]
		if it.Group == evidence.Miner && it.PID == p.PID && (it.Start == "" || p.Start == "" || it.Start == p.Start) {
			return true
		}
	}
	return false
}

func body(f *chain.Finding, r *response) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s): miner %s", f.Level.Case(), strings.ToUpper(f.Level.String()), orNone(r.minerExe))
	if len(r.minerPIDs) > 0 {
		fmt.Fprintf(&b, " (pid %d)", r.minerPIDs[0])
	}
	fmt.Fprintf(&b, ", pool %s, wallet %s", orNone(firstStr(r.endpoints)), orNone(firstStr(r.wallets)))
	if len(r.paths) > 0 {
		fmt.Fprintf(&b, ", persistence %s", r.paths[0])
	}
	if r.hidden != "" {
		fmt.Fprintf(&b, ", concealment %s", r.hidden)
	}
	fmt.Fprintf(&b, ", context %s", chain.DisplayID(f.Context))
	return strings.Map(func(r rune) rune { // one line, whatever the evidence holds
		if r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, b.String())
}

func putEvidence(m pcommon.Map, it *chain.Item) {
	m.PutStr("time", isoTime(it.Time))
	m.PutStr("kind", it.Kind)
	m.PutStr("strength", it.Strength.String())
	putNonEmpty(m, "indicator", it.Indicator)
	putNonEmpty(m, "source", it.Source)
	if it.PID != 0 {
		m.PutInt(contract.AttrProcessPID, it.PID)
	}
	putNonEmpty(m, contract.AttrProcessExecutablePath, it.Exe)
	cmd := it.CmdLine
	if len(cmd) > maxCmdLine {
		cmd = strings.ToValidUTF8(cmd[:maxCmdLine], "\uFFFD") + "…"
	}
	putNonEmpty(m, contract.AttrProcessCommandLine, cmd)
	putNonEmpty(m, "endpoint", it.Endpoint)
	putNonEmpty(m, "wallet", it.Wallet)
	putNonEmpty(m, contract.AttrFilePath, it.Path)
	putNonEmpty(m, "action", it.Action)
	putNonEmpty(m, "command", it.Command)
	if it.Failed {
		m.PutBool("failed", true)
	}
	if it.Repeats > 0 {
		m.PutInt("repeats", it.Repeats)
	}
	putNonEmpty(m, "linked_from", it.LinkedFrom)
}

func putNonEmpty(m pcommon.Map, k, v string) {
	if v != "" {
		m.PutStr(k, v)
	}
}

func putStrs(a pcommon.Map, k string, vs []string) {
	s := a.PutEmptySlice(k)
	for _, v := range vs {
		s.AppendEmpty().SetStr(v)
	}
}

func span(items []chain.Item) (first, last int64) {
	for i, it := range items {
		if i == 0 || it.Time < first {
			first = it.Time
		}
		if it.Time > last {
			last = it.Time
		}
	}
	return first, last
}

func isoTime(ns int64) string {
	return time.Unix(0, ns).UTC().Format(time.RFC3339Nano)
}

func addStr(list []string, v string) []string {
	if v == "" {
		return list
	}
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}

func containsInt(list []int64, v int64) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func firstStr(list []string) string {
	if len(list) == 0 {
		return ""
	}
	return list[0]
}

func orNone(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// addressEndpoint returns "ip:port" when the indicator of a Pool item is the address connected to
// (its endpoint may name the pool instead): a firewall blocks addresses, not names.
func addressEndpoint(it *chain.Item) string {
	a, err := netip.ParseAddr(it.Indicator)
	if err != nil {
		return ""
	}
	if _, port, err := net.SplitHostPort(it.Endpoint); err == nil && port != "" {
		return net.JoinHostPort(a.String(), port)
	}
	return a.String()
}
