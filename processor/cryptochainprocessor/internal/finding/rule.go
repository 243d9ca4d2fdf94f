package finding

import (
	"github.com/cryptochain-otel/cryptochain/internal/contract"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/chain"
)

// The rule behind every finding, in the semantic conventions' security_rule.* attributes: what an
// analyst or a SIEM needs to tell this rule from others and to open its runbook.
const (
	RuleUUID        = "33262b91-68dd-42af-955f-57674b6ec2a4"
	RuleCategory    = "Cryptomining"
	RuleRulesetName = "cryptochain"
	// RuleVersion changes when what the rule reports at a severity changes.
	RuleVersion = "1.1.0"
	// RuleReference is the runbook: triage steps for every finding of this rule.
	RuleReference = "https://github.com/cryptochain-otel/cryptochain/blob/main/docs/runbook.md"
)

// Rule attribute keys (semantic conventions, security_rule.*) and our remediation text.
const (
	AttrRuleUUID        = "security_rule.uuid"
	AttrRuleReference   = "security_rule.reference"
	AttrRuleCategory    = "security_rule.category"
	AttrRuleRulesetName = "security_rule.ruleset.name"
	AttrRuleVersion     = "security_rule.version"
	AttrRemediation     = contract.AttrFindingRemediation
)

// Remediation is the short first response to a finding of level l; the runbook has the full steps.
func Remediation(l chain.Level) string {
	switch l {
	case chain.Medium:
		return "Active miner: stop the miner processes (cryptochain.response.miner_pids), block the pool endpoints, " +
			"keep the executable (hash) for analysis, then follow the runbook to find how it started and hunt for it elsewhere."
	case chain.High:
		return "Persistent miner: block the pool endpoints, remove the persistence files (cryptochain.response.persistence_paths) " +
			"before stopping the miner so it is not re-spawned, then stop it; check every other cron, systemd and rc location of the host."
	case chain.Critical:
		return "Advanced mining operation with system tuning: isolate the host, remove persistence, stop the miner, revert the tuning " +
			"(huge pages, MSR, watchdog, governor), and treat the host as compromised: find the initial access, rebuild rather than clean."
	}
	return ""
}
