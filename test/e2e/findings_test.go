package e2e

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/cryptochain-otel/cryptochain/internal/sim/scenario"
)

// Finding attributes (processor/cryptochainprocessor README, docs/events.md).
const (
	eventFinding      = "cryptochain.finding"
	attrID            = "cryptochain.finding.id"
	attrCase          = "cryptochain.finding.case"
	attrSeverity      = "cryptochain.finding.severity"
	attrGroups        = "cryptochain.finding.groups"
	attrLastSeen      = "cryptochain.finding.last_seen"
	attrLinked        = "cryptochain.finding.linked_contexts"
	attrEvidence      = "cryptochain.finding.evidence."
	attrMinerPIDs     = "cryptochain.response.miner_pids"
	attrPools         = "cryptochain.response.pool_endpoints"
	attrWallets       = "cryptochain.response.wallets"
	attrPersistence   = "cryptochain.response.persistence_paths"
	attrUpdateReasons = "cryptochain.finding.update.reasons"
	attrUpdateAdded   = "cryptochain.finding.update.added"
	resContainerID    = "container.id"
	attrProcessPID    = "process.pid"
	attrProcessParent = "process.parent_pid"
)

// finding is one cryptochain.finding record as it landed at the peer.
type finding struct {
	Seen     time.Time
	Attrs    map[string]any
	Resource map[string]any
}

func (f finding) str(k string) string {
	s, _ := f.Attrs[k].(string)
	return s
}

func (f finding) strs(k string) []string {
	var out []string
	list, _ := f.Attrs[k].([]any)
	for _, v := range list {
		out = append(out, fmt.Sprint(v))
	}
	return out
}

// pids are every process id the finding names: miner pids and the actor
// (and parent) of each evidence item.
func (f finding) pids() map[int64]bool {
	out := map[int64]bool{}
	add := func(v any) {
		switch n := v.(type) {
		case int64:
			out[n] = true
		case float64:
			out[int64(n)] = true
		}
	}
	for _, v := range asList(f.Attrs[attrMinerPIDs]) {
		add(v)
	}
	for k, v := range f.Attrs {
		if !strings.HasPrefix(k, attrEvidence) {
			continue
		}
		for _, item := range asList(v) {
			if m, ok := item.(map[string]any); ok {
				add(m[attrProcessPID])
				add(m[attrProcessParent])
			}
		}
	}
	return out
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

func (f finding) String() string {
	return fmt.Sprintf("%s %s %v id=%s context=%v pids=%v wallets=%v pools=%v persistence=%v container=%v kinds=%v linked=%v",
		f.str(attrSeverity), f.str(attrCase), f.strs(attrGroups), f.str(attrID), f.Resource["cryptochain.context.id"], keys(f.pids()),
		f.strs(attrWallets), f.strs(attrPools), f.strs(attrPersistence), f.Resource[resContainerID], f.evidenceKinds(), f.strs(attrLinked))
}

func keys(m map[int64]bool) []int64 {
	var out []int64
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// belongsTo ties a finding to one played scenario: by its processes, its
// container or its (scenario-unique) wallet.
func (f finding) belongsTo(sc *scenario.Scenario, res *scenario.Result) bool {
	own := map[int64]bool{int64(res.SessionPid): true}
	for _, p := range append(append([]int(nil), res.Pids...), res.MinerPids...) {
		own[int64(p)] = true
	}
	for p := range f.pids() {
		if own[p] {
			return true
		}
	}
	if res.ContainerID != "" && f.Resource[resContainerID] == res.ContainerID {
		return true
	}
	if w := sc.Expect.Evidence.Wallet; w != "" && slices.Contains(f.strs(attrWallets), w) {
		return true
	}
	// Grandchildren (a compiler's cc1, a shell's children) are not in the
	// pid list, but their command lines and paths name the run's directories.
	for _, s := range f.evidenceStrings() {
		for _, m := range res.Markers {
			if strings.Contains(s, m) {
				return true
			}
		}
	}
	return false
}

// evidenceKinds are the `kind` of every evidence item, sorted, unique.
func (f finding) evidenceKinds() []string {
	seen := map[string]bool{}
	for k, v := range f.Attrs {
		if !strings.HasPrefix(k, attrEvidence) {
			continue
		}
		for _, item := range asList(v) {
			if m, ok := item.(map[string]any); ok {
				if kind, ok := m["kind"].(string); ok {
					seen[kind] = true
				}
			}
		}
	}
	var out []string
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// evidenceStrings are every string value of the finding's evidence items.
func (f finding) evidenceStrings() []string {
	var out []string
	for k, v := range f.Attrs {
		if !strings.HasPrefix(k, attrEvidence) {
			continue
		}
		for _, item := range asList(v) {
			if m, ok := item.(map[string]any); ok {
				for _, x := range m {
					if s, ok := x.(string); ok {
						out = append(out, s)
					}
				}
			}
		}
	}
	return out
}

// watcher tails the peer's file exporter output and records when each
// finding first appeared.
type watcher struct {
	path string
	mu   sync.Mutex
	all  []finding
	stop chan struct{}
	done chan struct{}
	// A view (since) reads base's findings from index skip on.
	base *watcher
	skip int
}

// since is a view of the findings that land from now on: a replayed scenario is judged on its own.
func (w *watcher) since() *watcher { return &watcher{base: w, skip: w.count()} }

func watch(t *testing.T, path string) *watcher {
	w := &watcher{path: path, stop: make(chan struct{}), done: make(chan struct{})}
	go w.loop()
	t.Cleanup(func() { close(w.stop); <-w.done })
	return w
}

func (w *watcher) loop() {
	defer close(w.done)
	var off int64
	var partial []byte
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-tick.C:
		}
		f, err := os.Open(w.path)
		if err != nil {
			continue
		}
		if st, err := f.Stat(); err == nil && st.Size() < off {
			off, partial = 0, nil // truncated or replaced: start over
		}
		if _, err := f.Seek(off, io.SeekStart); err != nil {
			f.Close()
			continue
		}
		b, _ := io.ReadAll(f)
		f.Close()
		off += int64(len(b))
		now := time.Now()
		partial = append(partial, b...)
		// Only complete lines: the exporter may be halfway through one.
		last := bytes.LastIndexByte(partial, '\n')
		if last < 0 {
			continue
		}
		for _, line := range bytes.Split(partial[:last], []byte{'\n'}) {
			if len(line) > 0 {
				w.add(line, now)
			}
		}
		partial = append([]byte(nil), partial[last+1:]...)
	}
}

func (w *watcher) add(line []byte, seen time.Time) {
	var u plog.JSONUnmarshaler
	ld, err := u.UnmarshalLogs(line)
	if err != nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for i := 0; i < ld.ResourceLogs().Len(); i++ {
		rl := ld.ResourceLogs().At(i)
		for j := 0; j < rl.ScopeLogs().Len(); j++ {
			lrs := rl.ScopeLogs().At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				lr := lrs.At(k)
				if lr.EventName() != eventFinding {
					continue
				}
				w.all = append(w.all, finding{Seen: seen, Attrs: lr.Attributes().AsRaw(), Resource: rl.Resource().Attributes().AsRaw()})
			}
		}
	}
}

// of returns the findings that belong to a scenario, in arrival order.
func (w *watcher) of(sc *scenario.Scenario, res *scenario.Result) []finding {
	if w.base != nil {
		return w.base.ofFrom(sc, res, w.skip)
	}
	return w.ofFrom(sc, res, 0)
}

func (w *watcher) ofFrom(sc *scenario.Scenario, res *scenario.Result, skip int) []finding {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []finding
	for _, f := range w.all[min(skip, len(w.all)):] {
		if f.belongsTo(sc, res) {
			out = append(out, f)
		}
	}
	return out
}

// from returns the findings seen from index i on (any scenario).
func (w *watcher) from(i int) []finding {
	if w.base != nil {
		return w.base.from(i + w.skip)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.all[min(max(i, 0), len(w.all)):])
}

// count is the number of findings seen so far (any scenario).
func (w *watcher) count() int {
	if w.base != nil {
		return w.base.count() - w.skip
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.all)
}

// waitFor polls until cond holds for the scenario's findings or timeout.
func (w *watcher) waitFor(sc *scenario.Scenario, res *scenario.Result, timeout time.Duration, cond func([]finding) bool) []finding {
	deadline := time.Now().Add(timeout)
	for {
		fs := w.of(sc, res)
		if cond(fs) || time.Now().After(deadline) {
			return fs
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// isUpdate reports whether f reports its finding again at the same severity (concealment added, or
// response lists grown) rather than escalating it.
func (f finding) isUpdate() bool {
	_, ok := f.Attrs[attrUpdateReasons]
	return ok
}

// escalationsOf returns the findings of fs that are escalations, not updates.
func escalationsOf(fs []finding) []finding {
	var out []finding
	for _, f := range fs {
		if !f.isUpdate() {
			out = append(out, f)
		}
	}
	return out
}

// ownUpdates drops the updates of findings fs does not escalate: a chain of an earlier play (the same
// wallet) may be updated while this one plays, up to update_interval after its last finding.
func ownUpdates(fs []finding) []finding {
	own := map[string]bool{}
	for _, f := range escalationsOf(fs) {
		own[f.str(attrID)] = true
	}
	var out []finding
	for _, f := range fs {
		if !f.isUpdate() || own[f.str(attrID)] {
			out = append(out, f)
		}
	}
	return out
}

func severities(fs []finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.str(attrSeverity))
	}
	return out
}

func hasSeverity(sev string) func([]finding) bool {
	return func(fs []finding) bool { return slices.Contains(severities(fs), sev) }
}

func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	idx := int(float64(len(s))*p+0.999999) - 1
	return s[max(0, min(idx, len(s)-1))]
}
