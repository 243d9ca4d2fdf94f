package cryptochainresponseexporter // import "github.com/cryptochain-otel/cryptochain/exporter/cryptochainresponseexporter"

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/cryptochain-otel/cryptochain/exporter/cryptochainresponseexporter/internal/block"
	"github.com/cryptochain-otel/cryptochain/exporter/cryptochainresponseexporter/internal/isolate"
	"github.com/cryptochain-otel/cryptochain/exporter/cryptochainresponseexporter/internal/metadata"
	"github.com/cryptochain-otel/cryptochain/exporter/cryptochainresponseexporter/internal/terminate"
	"github.com/cryptochain-otel/cryptochain/exporter/cryptochainresponseexporter/quarantine"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
)

// actionOrder is the order actions run in: cut the pool first, then stop the miner, then its
// persistence, then contain what is left.
var actionOrder = []string{ActionBlock, ActionTerminate, ActionQuarantine, ActionIsolate}

// maxDone bounds the memory of (finding, action, target) already handled.
const maxDone = 65536

// intent is one action on one target. check is read-only (it runs in dry run too); do changes
// the host.
type intent struct {
	action, target string
	// key identifies the target across escalations (default: target); a process is its pid.
	key   string
	attrs map[string]any
	// skip is a policy reason not to act (allowlist, nothing to act on).
	skip  string
	check func() error
	do    func() (reason string, err error)
}

// actor turns findings into audited actions. It is used by one goroutine only.
type actor struct {
	cfg        *Config
	audit      *auditor
	limiter    *rate.Limiter
	store      quarantine.Store
	cgroupRoot string
	cgroupErr  error
	rootScope  uint64
	allowAddrs []netip.Prefix

	blocker  *block.Blocker
	blockErr error
	tb       *metadata.TelemetryBuilder
	// scopes names the cgroup of each deny-entry scope, for the list file.
	scopes map[uint64]string

	// done remembers each (finding, action, target) handled, so an escalation of the same chain
	// (which repeats the evidence) does not repeat or re-audit it.
	done map[string]bool
}

func newActor(cfg *Config, audit *auditor, limiter *rate.Limiter, tb *metadata.TelemetryBuilder) (*actor, error) {
	a := &actor{cfg: cfg, audit: audit, limiter: limiter, tb: tb,
		store: quarantine.Store{Dir: cfg.Quarantine.Directory}, done: map[string]bool{}, scopes: map[uint64]string{}}
	// Without a cgroup v2 mount, block and isolate fail (audited); terminate and quarantine still work.
	a.cgroupRoot, a.cgroupErr = cgroupRoot(cfg.Block.CgroupRoot)
	if a.cgroupErr == nil {
		if a.rootScope, a.cgroupErr = block.CgroupID(a.cgroupRoot); a.cgroupErr != nil {
			a.cgroupErr = fmt.Errorf("block.cgroup_root: %w", a.cgroupErr)
		}
	}
	for _, s := range cfg.Allowlist.Addresses {
		p, _ := parsePrefix(s) // checked by Validate
		a.allowAddrs = append(a.allowAddrs, p)
	}
	return a, nil
}

// respond runs the finding's severity policy.
func (a *actor) respond(f *finding) {
	if f.ID == "" {
		return
	}
	policy := a.cfg.Actions[f.Severity]
	for _, act := range actionOrder {
		if !slices.Contains(policy, act) {
			continue
		}
		for _, in := range a.intents(f, act) {
			a.run(f, in)
		}
	}
}

func (a *actor) intents(f *finding, act string) []intent {
	if reason := a.findingAllowlisted(f); reason != "" {
		return []intent{{action: act, target: "finding " + f.ID, skip: reason}}
	}
	switch act {
	case ActionTerminate:
		return a.terminateIntents(f)
	case ActionBlock:
		return a.blockIntents(f)
	case ActionQuarantine:
		return a.quarantineIntents(f)
	case ActionIsolate:
		return a.isolateIntents(f)
	}
	return nil
}

// run gates one intent (already handled, allowlist, checks, kill switch, dry run, rate limit),
// runs it and audits the outcome. A failing action never stops the next one.
func (a *actor) run(f *finding, in intent) {
	if in.key == "" {
		in.key = in.target
	}
	key := f.ID + "\x00" + in.action + "\x00" + in.key
	if a.done[key] {
		return
	}
	rec := record{Finding: f, Action: in.action, Target: in.target, Attrs: in.attrs}
	settle := func(result, reason string, err error) {
		rec.Result, rec.Reason, rec.Err = result, reason, err
		if err != nil && reason == "" {
			rec.Reason = err.Error()
		}
		a.audit.write(rec)
		// Policy skips that may lift (kill switch, rate limit) are retried on the next escalation.
		if result != ResultSkipped || in.skip != "" {
			if len(a.done) >= maxDone {
				clear(a.done)
			}
			a.done[key] = true
		}
	}
	if in.skip != "" {
		settle(ResultSkipped, in.skip, nil)
		return
	}
	if in.check != nil {
		if err := in.check(); err != nil {
			settle(classify(err))
			return
		}
	}
	if a.killSwitch() {
		settle(ResultSkipped, "kill switch "+a.cfg.KillSwitchFile+" is present", nil)
		return
	}
	if a.cfg.DryRun {
		settle(ResultDryRun, "", nil)
		return
	}
	if !a.limiter.Allow() {
		settle(ResultSkipped, "rate limit reached", nil)
		return
	}
	reason, err := in.do()
	if err != nil {
		settle(classify(err))
		return
	}
	settle(ResultDone, reason, nil)
}

// classify maps an error to a result: refusals of a safety check are not failures.
func classify(err error) (string, string, error) {
	var ref *terminate.Refusal
	switch {
	case errors.As(err, &ref):
		return ResultRefused, ref.Reason, nil
	case errors.Is(err, terminate.ErrGone), errors.Is(err, os.ErrNotExist):
		return ResultSkipped, "already gone: " + err.Error(), nil
	case strings.HasPrefix(err.Error(), "refused: "):
		return ResultRefused, strings.TrimPrefix(err.Error(), "refused: "), nil
	}
	return ResultFailed, "", err
}

func (a *actor) killSwitch() bool {
	if a.cfg.KillSwitchFile == "" {
		return false
	}
	_, err := os.Lstat(a.cfg.KillSwitchFile)
	return err == nil
}

// findingAllowlisted names why a whole finding is not acted on.
func (a *actor) findingAllowlisted(f *finding) string {
	for _, h := range a.cfg.Allowlist.Hosts {
		if h != "" && (h == f.HostName || h == f.HostID) {
			return "host " + h + " is allowlisted"
		}
	}
	if f.Image != "" && slices.Contains(a.cfg.Allowlist.ContainerImages, f.Image) {
		return "container image " + f.Image + " is allowlisted"
	}
	return ""
}

func (a *actor) terminateIntents(f *finding) []intent {
	if len(f.Miners) == 0 {
		return []intent{{action: ActionTerminate, target: "miner processes", skip: "the finding names no miner process"}}
	}
	var out []intent
	for _, m := range f.Miners {
		t := terminate.Target{PID: m.PID, Exe: m.Exe, Cgroup: f.Cgroup, ContainerID: f.ContainerID}
		var err error
		if !m.Created.IsZero() {
			t.Start, err = terminate.BootTime(m.Created)
		} else if !m.FirstSeen.IsZero() {
			t.StartedBy, err = terminate.BootTime(m.FirstSeen)
		}
		target := fmt.Sprintf("pid %d", m.PID)
		attrs := map[string]any{attrProcessPID: m.PID}
		if err == nil && !m.Strong {
			err = fmt.Errorf("refused: pid %d has only weak miner evidence in the finding", m.PID)
		}
		if err != nil {
			out = append(out, intent{action: ActionTerminate, target: target, key: pidKey(m.PID), attrs: attrs, check: func() error { return err }})
			continue
		}
		procs, skipped, err := terminate.Plan(t)
		if err != nil {
			out = append(out, intent{action: ActionTerminate, target: target, key: pidKey(m.PID), attrs: attrs, check: func() error { return err }})
			continue
		}
		for i, p := range procs {
			target := fmt.Sprintf("pid %d (%s)", p.PID, p.Comm)
			if i > 0 {
				if !a.cfg.Terminate.Descendants {
					break
				}
				target = fmt.Sprintf("pid %d (%s, descendant of %d)", p.PID, p.Comm, m.PID)
			}
			in := intent{action: ActionTerminate, target: target, key: pidKey(p.PID), attrs: map[string]any{attrProcessPID: p.PID}}
			if p.Exe != "" && slices.Contains(a.cfg.Allowlist.Executables, p.Exe) {
				in.skip = "executable " + p.Exe + " is allowlisted"
			}
			in.do = func() (string, error) {
				h, err := terminate.Hold(p, t)
				if err != nil {
					return "", err
				}
				defer h.Close()
				return "SIGKILL", h.Kill(a.cfg.Terminate.Wait)
			}
			out = append(out, in)
		}
		for pid, err := range skipped {
			out = append(out, intent{action: ActionTerminate, target: fmt.Sprintf("pid %d (descendant of %d)", pid, m.PID), key: pidKey(pid),
				attrs: map[string]any{attrProcessPID: pid}, check: func() error { return err }})
		}
	}
	return out
}

func pidKey(pid int) string { return fmt.Sprintf("pid %d", pid) }

func (a *actor) blockIntents(f *finding) []intent {
	scope, scopePath, scopeErr := a.scope(f)
	var out []intent
	for _, ep := range f.Endpoints {
		target := ep.String()
		if ep.Port() == 0 {
			target = ep.Addr().String()
		}
		in := intent{action: ActionBlock, target: target + " in cgroup " + scopePath,
			attrs: map[string]any{attrServerAddr: ep.Addr().String(), attrServerPort: int(ep.Port())}}
		in.check = func() error {
			if scopeErr != nil {
				return scopeErr
			}
			addr := ep.Addr()
			switch {
			case addr.IsUnspecified(), addr.IsMulticast():
				return fmt.Errorf("refused: %s is not a pool address", addr)
			case slices.ContainsFunc(a.allowAddrs, func(p netip.Prefix) bool { return p.Contains(addr) }):
				return fmt.Errorf("refused: %s is allowlisted", addr)
			}
			return nil
		}
		in.do = func() (string, error) {
			if a.blocker == nil {
				return "", fmt.Errorf("deny programs not loaded: %w", a.blockErr)
			}
			exp, err := a.blocker.Add(scope, ep.Addr(), ep.Port(), a.cfg.Block.TTL)
			a.countEntries()
			return "until " + exp.UTC().Format(time.RFC3339), err
		}
		out = append(out, in)
	}
	for _, name := range f.Unresolved {
		out = append(out, intent{action: ActionBlock, target: name,
			skip: "a pool name is blocked through the addresses its DNS evidence resolved; names are never resolved here"})
	}
	if len(out) == 0 {
		out = append(out, intent{action: ActionBlock, target: "pool endpoints", skip: "the finding names no pool address"})
	}
	return out
}

// scope is the cgroup a block applies to: the finding's container cgroup, else the host root.
func (a *actor) scope(f *finding) (uint64, string, error) {
	if a.cgroupErr != nil {
		return 0, f.Cgroup, a.cgroupErr
	}
	if f.ContainerID == "" {
		a.scopes[a.rootScope] = "/"
		return a.rootScope, "/", nil
	}
	if !strings.Contains(f.Cgroup, f.ContainerID) {
		return 0, f.Cgroup, fmt.Errorf("refused: the finding's cgroup %q is not its container's %.12s", f.Cgroup, f.ContainerID)
	}
	dir, err := isolate.Dir(a.cgroupRoot, f.Cgroup)
	if err != nil {
		return 0, f.Cgroup, err
	}
	id, err := block.CgroupID(dir)
	if err == nil {
		a.scopes[id] = f.Cgroup
	}
	return id, f.Cgroup, err
}

func (a *actor) quarantineIntents(f *finding) []intent {
	if len(f.Persistence) == 0 {
		return []intent{{action: ActionQuarantine, target: "persistence files", skip: "the finding names no persistence file"}}
	}
	var out []intent
	for _, p := range f.Persistence {
		in := intent{action: ActionQuarantine, target: p, attrs: map[string]any{attrFilePath: p}}
		in.check = func() error {
			switch {
			case f.ContainerID != "":
				return fmt.Errorf("refused: %s names a file inside container %.12s, not on the host", p, f.ContainerID)
			case !inPersistenceLocation(p):
				return fmt.Errorf("refused: %s is not in a persistence location", p)
			}
			fi, err := os.Lstat(p)
			if err != nil {
				return err
			}
			if !fi.Mode().IsRegular() {
				return fmt.Errorf("refused: %s is not a regular file", p)
			}
			return nil
		}
		in.do = func() (string, error) {
			it, err := a.store.Quarantine(p, f.ID)
			if err != nil {
				return "", err
			}
			in.attrs[AttrQuarantineID] = it.ID
			return "moved to " + filepath.Join(a.store.Dir, it.ID+".data") + "; restore: cryptochain-quarantine --dir " + a.store.Dir + " restore " + it.ID, nil
		}
		out = append(out, in)
	}
	return out
}

func (a *actor) isolateIntents(f *finding) []intent {
	if f.ContainerID == "" {
		return []intent{{action: ActionIsolate, target: "host", skip: "no container: the host is never isolated"}}
	}
	in := intent{action: ActionIsolate, target: fmt.Sprintf("container %.12s (%s, %s)", f.ContainerID, f.Cgroup, a.cfg.Isolate.Mode),
		attrs: map[string]any{contract.ResourceContainerID: f.ContainerID}}
	var dir string
	in.check = func() error {
		if !strings.Contains(f.Cgroup, f.ContainerID) {
			return fmt.Errorf("refused: the finding's cgroup %q is not its container's", f.Cgroup)
		}
		if a.cgroupErr != nil {
			return a.cgroupErr
		}
		var err error
		dir, err = isolate.Dir(a.cgroupRoot, f.Cgroup)
		return err
	}
	in.do = func() (string, error) {
		if a.cfg.Isolate.Mode == IsolateDenyEgress {
			scope, _, err := a.scope(f)
			if err != nil {
				return "", err
			}
			if a.blocker == nil {
				return "", fmt.Errorf("deny programs not loaded: %w", a.blockErr)
			}
			exp, err := a.blocker.Add(scope, netip.IPv6Unspecified(), 0, a.cfg.Block.TTL)
			a.countEntries()
			return "all egress denied until " + exp.UTC().Format(time.RFC3339), err
		}
		return "frozen; thaw: echo 0 > " + filepath.Join(dir, "cgroup.freeze"), isolate.Freeze(dir, time.Second)
	}
	return []intent{in}
}

// sweep drops expired deny entries and refreshes the entry gauge.
func (a *actor) sweep() {
	if a.blocker == nil {
		return
	}
	_, _ = a.blocker.Sweep()
	a.countEntries()
}

// countEntries refreshes the entry gauge and the list file.
func (a *actor) countEntries() {
	l, err := a.blocker.List()
	if err != nil {
		return
	}
	a.tb.CryptochainResponseBlockEntries.Record(context.Background(), int64(len(l)))
	if a.cfg.Block.ListFile == "" {
		return
	}
	type listed struct {
		block.Entry
		Cgroup string `json:"cgroup"`
	}
	out := make([]listed, 0, len(l))
	for _, e := range l {
		out = append(out, listed{Entry: e, Cgroup: a.scopes[e.Scope]})
	}
	b, _ := json.MarshalIndent(out, "", "  ")
	tmp := a.cfg.Block.ListFile + ".tmp"
	if err := os.MkdirAll(filepath.Dir(tmp), 0o750); err == nil {
		if err = os.WriteFile(tmp, append(b, '\n'), 0o640); err == nil {
			_ = os.Rename(tmp, a.cfg.Block.ListFile)
		}
	}
}
