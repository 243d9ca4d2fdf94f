package redact

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Mark replaces a secret value.
const Mark = "[REDACTED]"

// Rule names, the keys of the `redaction.disable` lists.
const (
	RuleArgvFlags       = "argv_flags"         // values of credential flags: --password x, -u user:pass, mysql -pX, sshpass -p x
	RuleURLUserinfo     = "url_userinfo"       // the password in scheme://user:pass@host
	RuleURLQuery        = "url_query"          // credential query parameters: ?token=, &password=, &sig=
	RuleHTTPHeaders     = "http_headers"       // Authorization, Cookie and API-key header values
	RuleAssignments     = "secret_assignments" // NAME=value and "name": value where NAME is a secret name
	RuleMiningPass      = "mining_pass"        // the "pass"/"password" of a mining login or miner config
	RuleEnvNames        = "env_names"          // environment values whose variable name is a secret name
	RuleTokenShapes     = "token_shapes"       // JWTs, PEM private keys, cloud, GitHub, GitLab, Slack, Stripe, … tokens
	RuleHighEntropy     = "high_entropy"       // random-looking values of variables named like STRIPE_SK, SLACK_WEBHOOK
	RulePayloadFilter   = "payload_filter"     // a raw payload head is kept only when it is a mining protocol message
	numRules            = 10
	defaultEnvValues    = EnvValuesNonSecret
	minEntropyValueSize = 16
)

// Rules lists every rule name, in documentation order.
var Rules = []string{
	RuleArgvFlags, RuleURLUserinfo, RuleURLQuery, RuleHTTPHeaders, RuleAssignments, RuleMiningPass,
	RuleEnvNames, RuleTokenShapes, RuleHighEntropy, RulePayloadFilter,
}

// Environment value policies.
const (
	EnvValuesNonSecret = "non_secret" // values only for names that are not secret names (shape rules still apply)
	EnvValuesNone      = "none"       // no values
	EnvValuesAll       = "all"        // every value past the name rule (shape rules still apply)
)

// Config selects the rules.
type Config struct {
	// Disable names rules (Rules) that are turned off.
	Disable []string
	// ExtraPatterns are regular expressions whose matches (or first capture group) are redacted
	// everywhere text is redacted.
	ExtraPatterns []string
	// SecretNames replaces DefaultSecretNames when not nil.
	SecretNames []string
	// EnvValues is non_secret (default), none or all.
	EnvValues string
}

// Redactor applies the rules. It is safe for concurrent use.
type Redactor struct {
	off       [numRules]bool
	extra     []*regexp.Regexp
	names     *names
	envValues string
}

// Validate returns the first problem of cfg, naming the list and entry at fault ("disable[1]: …").
func (c Config) Validate() error {
	for i, d := range c.Disable {
		if !slices.Contains(Rules, d) {
			return fmt.Errorf("disable[%d]: unknown rule %q (rules: %s)", i, d, strings.Join(Rules, ", "))
		}
	}
	for i, p := range c.ExtraPatterns {
		if p == "" {
			return fmt.Errorf("extra_patterns[%d]: must not be empty", i)
		}
		if _, err := regexp.Compile(p); err != nil {
			return fmt.Errorf("extra_patterns[%d]: %w", i, err)
		}
	}
	for i, p := range c.SecretNames {
		if !ValidName(p) {
			return fmt.Errorf("secret_names[%d]: invalid pattern %q", i, p)
		}
	}
	switch c.EnvValues {
	case "", EnvValuesNonSecret, EnvValuesNone, EnvValuesAll:
	default:
		return fmt.Errorf("env_values: must be %q, %q or %q, got %q", EnvValuesNonSecret, EnvValuesNone, EnvValuesAll, c.EnvValues)
	}
	return nil
}

// New builds a Redactor; cfg must be valid (Validate).
func New(cfg Config) (*Redactor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &Redactor{envValues: cfg.EnvValues}
	if r.envValues == "" {
		r.envValues = defaultEnvValues
	}
	for _, d := range cfg.Disable {
		r.off[ruleIdx(d)] = true
	}
	for _, p := range cfg.ExtraPatterns {
		r.extra = append(r.extra, regexp.MustCompile(p))
	}
	pats := DefaultSecretNames
	if cfg.SecretNames != nil {
		pats = cfg.SecretNames
	}
	r.names = newNames(pats)
	return r, nil
}

// Default is a Redactor with every rule on and the default names.
func Default() *Redactor {
	r, _ := New(Config{})
	return r
}

func (r *Redactor) on(rule string) bool {
	return !r.off[ruleIdx(rule)]
}

// IsSecretName reports whether an environment variable name is a secret name.
func (r *Redactor) IsSecretName(name string) bool {
	return r.names.verdict(name)
}

// Env returns the value of environment variable name to export.
func (r *Redactor) Env(name, value string) string {
	if r.on(RuleEnvNames) {
		switch r.envValues {
		case EnvValuesNone:
			return Mark
		case EnvValuesNonSecret:
			if r.names.verdict(name) {
				return Mark
			}
		}
	}
	if len(value) < 8 {
		return value
	}
	if !r.off[ruleIdx(RuleHighEntropy)] && len(value) >= minEntropyValueSize && weakSecret(name) &&
		!strings.Contains(value, "://") && randomLooking(value) {
		return Mark
	}
	return r.text(value, true)
}

// Text redacts free text: a command line, a cron line, file content, a finding's strings.
func (r *Redactor) Text(s string) string {
	if len(s) < 8 {
		return s
	}
	return r.text(s, false)
}

// Args redacts an argument vector in place (the tool is the base name of args[0]) and reports
// whether anything changed.
func (r *Redactor) Args(args []string) bool {
	if len(args) == 0 {
		return false
	}
	changed := false
	st := flagState{tool: baseName(args[0])}
	flags := r.on(RuleArgvFlags)
	for i, a := range args {
		var e edits
		if flags && i > 0 {
			if lo, hi := st.step(a); hi > lo {
				e.add(lo, hi)
			}
		}
		if len(a) >= 8 || len(e) > 0 {
			r.scan(a, true, &e)
			if flags && strings.IndexByte(a, ' ') >= 0 { // a command in one argument: sh -c "curl -u a:b …"
				textFlags(a, &e)
			}
		}
		if len(e) > 0 {
			args[i] = e.apply(a)
			changed = changed || args[i] != a
		}
	}
	return changed
}

func (r *Redactor) text(s string, argMode bool) string {
	var e edits
	r.scan(s, argMode, &e)
	if !argMode && r.on(RuleArgvFlags) {
		textFlags(s, &e)
	}
	if len(e) == 0 {
		return s
	}
	return e.apply(s)
}

// scan adds the spans of every rule but the argv flag state machine.
func (r *Redactor) scan(s string, argMode bool, e *edits) {
	if strings.Contains(s, "://") && (r.on(RuleURLUserinfo) || r.on(RuleURLQuery)) {
		r.urls(s, e)
	}
	if strings.IndexByte(s, ':') >= 0 || strings.IndexByte(s, '=') >= 0 {
		r.pairs(s, argMode, e)
	}
	if len(s) >= minTokenRun && r.on(RuleTokenShapes) {
		if longestTokenRun(s) >= minTokenRun {
			tokens(s, e)
		}
		if strings.Contains(s, "-----BEGIN ") {
			pem(s, e)
		}
	}
	for _, re := range r.extra {
		for _, m := range re.FindAllStringSubmatchIndex(s, -1) {
			if len(m) >= 4 && m[2] >= 0 {
				e.add(m[2], m[3])
			} else {
				e.add(m[0], m[1])
			}
		}
	}
}

// ruleIdx is the index of a rule in Rules (a switch: no lookup on the hot path).
func ruleIdx(rule string) int {
	switch rule {
	case RuleArgvFlags:
		return 0
	case RuleURLUserinfo:
		return 1
	case RuleURLQuery:
		return 2
	case RuleHTTPHeaders:
		return 3
	case RuleAssignments:
		return 4
	case RuleMiningPass:
		return 5
	case RuleEnvNames:
		return 6
	case RuleTokenShapes:
		return 7
	case RuleHighEntropy:
		return 8
	}
	return 9
}

// span is a byte range [lo, hi) to replace by Mark.
type span struct{ lo, hi int }

type edits []span

func (e *edits) add(lo, hi int) {
	if hi > lo {
		*e = append(*e, span{lo, hi})
	}
}

// apply replaces the (merged) spans of s by Mark.
func (e edits) apply(s string) string {
	sort.Slice(e, func(i, j int) bool { return e[i].lo < e[j].lo })
	var b strings.Builder
	b.Grow(len(s) + len(e)*len(Mark))
	at := 0
	for i := 0; i < len(e); {
		lo, hi := e[i].lo, e[i].hi
		for i++; i < len(e) && e[i].lo <= hi; i++ {
			hi = max(hi, e[i].hi)
		}
		if lo < at {
			lo = at
		}
		b.WriteString(s[at:lo])
		b.WriteString(Mark)
		at = hi
	}
	b.WriteString(s[at:])
	return b.String()
}

func baseName(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}
