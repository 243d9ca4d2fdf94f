package finding

import (
	"path"
	"sort"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/chain"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/evidence"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/shellcmd"
)

// Keys an evidence map gains for analysts: its ATT&CK technique and the executable's hash.
const (
	evTechniqueID   = "technique.id"
	evTechniqueName = "technique.name"
)

// putRule writes the security_rule.* attributes and the remediation of level l.
func putRule(a pcommon.Map, l chain.Level) {
	a.PutStr(AttrRuleUUID, RuleUUID)
	a.PutStr(AttrRuleReference, RuleReference)
	a.PutStr(AttrRuleCategory, RuleCategory)
	a.PutStr(AttrRuleRulesetName, RuleRulesetName)
	a.PutStr(AttrRuleVersion, RuleVersion)
	if r := Remediation(l); r != "" {
		a.PutStr(AttrRemediation, r)
	}
}

// putAnalyst adds an evidence item's technique and, when its process's exec carried one, the
// SHA-256 of its executable.
func putAnalyst(m pcommon.Map, f *chain.Finding, it *chain.Item) {
	if t, ok := TechniqueOf(it.Group, it.Kind); ok {
		m.PutStr(evTechniqueID, t.ID)
		m.PutStr(evTechniqueName, t.Name)
	}
	if h := exeHash(f, it.PID, it.Start); h != "" {
		m.PutStr(contract.AttrProcessExecutableHash, h)
	}
}

// putAnalystSummary writes the distinct techniques of the evidence and the hashes of the miner
// executables (for blocklists and hunting).
func putAnalystSummary(a pcommon.Map, f *chain.Finding, minerPIDs []int64) {
	var ids []string
	for i := range f.Items {
		if t, ok := TechniqueOf(f.Items[i].Group, f.Items[i].Kind); ok {
			ids = addStr(ids, t.ID)
		}
	}
	sort.Strings(ids)
	putStrs(a, AttrTechniqueIDs, ids)
	if hashes := minerHashes(f, minerPIDs); len(hashes) > 0 {
		putStrs(a, AttrMinerSHA256, hashes)
	}
}

// MinerHashes returns the SHA-256 of f's miner executables: the values of its
// cryptochain.response.miner_sha256, for hunting the same binary on other hosts.
func MinerHashes(f *chain.Finding) []string {
	return minerHashes(f, summarize(f).minerPIDs)
}

func minerHashes(f *chain.Finding, minerPIDs []int64) []string {
	var hashes []string
	for _, pid := range minerPIDs {
		for i := range f.Context.Procs {
			// Only a process with strong miner evidence is a miner binary: a launcher with a weak hint (run
			// from /tmp) or a shell whose -c script names the miner must not reach a blocklist.
			if p := &f.Context.Procs[i]; p.PID == pid && strongMiner(f, p) && !isShell(p.Exe) {
				hashes = addStr(hashes, p.ExeHash)
			}
		}
	}
	return hashes
}

func strongMiner(f *chain.Finding, p *chain.Proc) bool {
	for i := range f.Items {
		it := &f.Items[i]
		if it.Group == evidence.Miner && it.Strength == evidence.Strong && it.PID == p.PID &&
			(it.Start == "" || p.Start == "" || it.Start == p.Start) {
			return true
		}
	}
	return false
}

func isShell(exe string) bool {
	base := path.Base(exe)
	for _, s := range shellcmd.Shells() {
		if base == s {
			return true
		}
	}
	return false
}

func exeHash(f *chain.Finding, pid int64, start string) string {
	if pid == 0 {
		return ""
	}
	for i := len(f.Context.Procs) - 1; i >= 0; i-- {
		p := &f.Context.Procs[i]
		if p.PID == pid && (start == "" || p.Start == "" || p.Start == start) {
			return p.ExeHash
		}
	}
	return ""
}
