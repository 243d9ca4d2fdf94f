package finding

import (
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/chain"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/evidence"
)

// AttrEntryPoint is the finding attribute that says how the chain started.
const AttrEntryPoint = contract.AttrFindingEntryPoint

// Initial access (or execution, when the start is a scheduler) techniques inferred from how the
// root-most known context was opened.
var (
	publicApp    = Technique{"T1190", "Exploit Public-Facing Application"}
	validAccount = Technique{"T1078", "Valid Accounts"}
	containerCmd = Technique{"T1609", "Container Administration Command"}
	deployCont   = Technique{"T1610", "Deploy Container"}
)

// accessByKind says what a context kind suggests about the start of the chain, and why.
var accessByKind = map[string]struct {
	t   Technique
	why string
}{
	contract.ContextServiceShell:     {publicApp, "a shell started by a network service, web server, interpreter or database"},
	contract.ContextLoginSession:     {validAccount, "a new login session (ssh, login, su -l)"},
	contract.ContextInteractiveShell: {validAccount, "an interactive shell with a terminal"},
	contract.ContextContainerExec:    {containerCmd, "a command run inside an existing container (runc/podman/docker/kubectl exec)"},
	contract.ContextCron:             {cronJob, "started by cron; what installed the job is the earlier intrusion"},
	contract.ContextSystemd:          {systemdUnit, "started by systemd; what installed the unit is the earlier intrusion"},
}

// entryPoint is what a finding knows of how its chain started: its context and the context that
// one was opened from (the kind is the prefix of a context id), the oldest process of the context
// that the evidence names, and the container.
type entryPoint struct {
	kinds     []string // nearest first: the finding's context, then its parent
	ids       []string
	exe       string
	pid       int64
	image     string
	container string
	pod       string
	access    Technique
	why       string
}

func deriveEntryPoint(f *chain.Finding, res pcommon.Map) entryPoint {
	var e entryPoint
	get := func(k string) string {
		if v, ok := res.Get(k); ok {
			return v.AsString()
		}
		return ""
	}
	id, kind := get(contract.ResourceContextID), get(contract.ResourceContextKind)
	if kind == "" {
		kind = kindOf(id)
	}
	if kind != "" || id != "" {
		e.kinds, e.ids = append(e.kinds, orNone(kind)), append(e.ids, id)
	}
	if pid := get(contract.ResourceContextParentID); pid != "" {
		e.kinds, e.ids = append(e.kinds, orNone(kindOf(pid))), append(e.ids, pid)
	}
	e.image, e.container, e.pod = get(contract.ResourceContainerImageName), get(contract.ResourceContainerID), get(contract.ResourceK8sPodName)
	if p := entryProc(f); p != nil {
		e.exe, e.pid = p.Exe, p.PID
	}
	// A container started with the chain says more than whatever started its runtime (a systemd
	// service, a login). Otherwise the root-most kind that tells something about the start wins: a
	// daemonized miner opened from a login session started with that login.
	if e.container != "" && len(e.kinds) > 0 && e.kinds[0] == contract.ContextCgroup {
		e.access, e.why = deployCont, "a new container whose first process belongs to the chain"
		return e
	}
	for i := len(e.kinds) - 1; i >= 0; i-- {
		if a, ok := accessByKind[e.kinds[i]]; ok {
			e.access, e.why = a.t, a.why
			break
		}
	}
	return e
}

// knownKinds are the context kinds of docs/events.md: a context id names its kind only when its
// prefix is one of them.
var knownKinds = map[string]bool{
	contract.ContextBoot: true, contract.ContextCgroup: true, contract.ContextLoginSession: true,
	contract.ContextInteractiveShell: true, contract.ContextServiceShell: true, contract.ContextContainerExec: true,
	contract.ContextDaemonized: true, contract.ContextCron: true, contract.ContextSystemd: true, contract.ContextCIRunner: true,
}

// kindOf returns the kind prefix of a context id (`<kind>:<hash>`), "" when it names no known kind.
func kindOf(id string) string {
	if k, _, ok := strings.Cut(id, ":"); ok && knownKinds[k] {
		return k
	}
	return ""
}

// entryProc returns the oldest known ancestor, within the context, of the first miner process; the
// miner itself when none of its ancestors contributed evidence; else the first process known.
func entryProc(f *chain.Finding) *chain.Proc {
	procs := f.Context.Procs
	if len(procs) == 0 {
		return nil
	}
	var start *chain.Proc
	for i := range f.Items {
		if it := &f.Items[i]; it.Group == evidence.Miner && it.PID != 0 {
			for j := range procs {
				if procs[j].PID == it.PID {
					start = &procs[j]
					break
				}
			}
			if start != nil {
				break
			}
		}
	}
	if start == nil {
		return &procs[0]
	}
	best := start
	for depth := len(start.Ancestors) - 1; depth >= 0; depth-- { // farthest ancestor first
		for j := range procs {
			if procs[j].PID == start.Ancestors[depth] {
				return &procs[j]
			}
		}
	}
	return best
}

// put writes the entry point as a map attribute.
func (e *entryPoint) put(a pcommon.Map) {
	m := a.PutEmptyMap(AttrEntryPoint)
	m.PutStr("summary", e.summary())
	putStrs(m, "context.kinds", e.kinds)
	putStrs(m, "context.ids", e.ids)
	putNonEmpty(m, contract.AttrProcessExecutablePath, e.exe)
	if e.pid != 0 {
		m.PutInt(contract.AttrProcessPID, e.pid)
	}
	putNonEmpty(m, contract.ResourceContainerImageName, e.image)
	putNonEmpty(m, contract.ResourceContainerID, e.container)
	putNonEmpty(m, contract.ResourceK8sPodName, e.pod)
	if e.access.ID != "" {
		m.PutStr("initial_access.technique.id", e.access.ID)
		m.PutStr("initial_access.technique.name", e.access.Name)
		m.PutStr("initial_access.reason", e.why)
		m.PutBool("initial_access.inferred", true)
	}
}

// summary is one line: "login_session → daemonized, process /usr/bin/nohup (pid 900), image …;
// inferred initial access T1078 Valid Accounts (a new login session …)".
func (e *entryPoint) summary() string {
	var b strings.Builder
	if len(e.kinds) == 0 {
		b.WriteString("context unknown")
	}
	for i := len(e.kinds) - 1; i >= 0; i-- { // root first
		b.WriteString(e.kinds[i])
		if i > 0 {
			b.WriteString(" → ")
		}
	}
	if e.exe != "" {
		b.WriteString(", process ")
		b.WriteString(e.exe)
	}
	if e.image != "" {
		b.WriteString(", container image ")
		b.WriteString(e.image)
	} else if e.container != "" {
		b.WriteString(", container ")
		b.WriteString(e.container)
	}
	if e.access.ID != "" {
		b.WriteString("; inferred ")
		b.WriteString(e.access.ID)
		b.WriteString(" ")
		b.WriteString(e.access.Name)
		b.WriteString(" (")
		b.WriteString(e.why)
		b.WriteString(")")
	} else {
		b.WriteString("; initial access not inferred")
	}
	return strings.ToValidUTF8(strings.ReplaceAll(b.String(), "\n", " "), "\uFFFD")
}
