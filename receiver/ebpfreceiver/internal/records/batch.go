// Package records maps events to OTel log records per docs/events.md, batches them by Resource and
// redacts the environment. It must not know how processes are resolved or host files are read.
package records // import "github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/records"

import (
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/process"
)

// Host identifies the machine on every Resource.
type Host struct {
	Name string
	ID   string // /etc/machine-id
}

// resourceKey groups records: one ResourceLogs per context, cgroup and container. A struct of the
// strings the actor already holds, so finding the group copies nothing.
type resourceKey struct {
	context, cgroup, container string
}

func keyOf(a *process.Actor) resourceKey {
	return resourceKey{a.Context.ID, a.Cgroup.Path, a.Cgroup.ContainerID}
}

// Batch accumulates records grouped by Resource.
type Batch struct {
	host   Host
	scope  string
	logs   plog.Logs
	groups map[resourceKey]plog.LogRecordSlice
	n      int

	// the group of the previous record: consecutive records mostly come from one context
	last     resourceKey
	lastRecs plog.LogRecordSlice
	haveLast bool
}

// NewBatch makes an empty batch; scope names the instrumentation scope of every record.
func NewBatch(host Host, scope string) *Batch {
	b := &Batch{host: host, scope: scope}
	b.reset()
	return b
}

func (b *Batch) reset() {
	b.logs = plog.NewLogs()
	b.groups = map[resourceKey]plog.LogRecordSlice{}
	b.n = 0
	b.haveLast = false
}

// Len is the number of records in the batch.
func (b *Batch) Len() int { return b.n }

// Take returns the accumulated logs and starts a new batch.
func (b *Batch) Take() plog.Logs {
	out := b.logs
	b.reset()
	return out
}

// NewRecord appends an empty record under the ResourceLogs of the actor's context and cgroup.
func (b *Batch) NewRecord(actor *process.Actor) plog.LogRecord {
	k := keyOf(actor)
	if b.haveLast && k == b.last {
		b.n++
		return b.lastRecs.AppendEmpty()
	}
	recs, ok := b.groups[k]
	if !ok {
		rl := b.logs.ResourceLogs().AppendEmpty()
		a := rl.Resource().Attributes()
		putNonEmpty(a, contract.ResourceHostName, b.host.Name)
		putNonEmpty(a, contract.ResourceHostID, b.host.ID)
		putNonEmpty(a, contract.ResourceContainerID, actor.Cgroup.ContainerID)
		putNonEmpty(a, contract.ResourceContainerRuntimeName, actor.Cgroup.Runtime)
		putNonEmpty(a, contract.ResourceK8sPodUID, actor.Cgroup.PodUID)
		putNonEmpty(a, contract.ResourceK8sNamespaceName, actor.Cgroup.Workload.Namespace)
		putNonEmpty(a, contract.ResourceK8sPodName, actor.Cgroup.Workload.PodName)
		putNonEmpty(a, contract.ResourceK8sContainerName, actor.Cgroup.Workload.ContainerName)
		putNonEmpty(a, contract.ResourceContainerImageName, actor.Cgroup.Workload.Image)
		if actor.Cgroup.Path != "" {
			a.PutStr(contract.ResourceProcessLinuxCgroup, "0::"+actor.Cgroup.Path)
		}
		putNonEmpty(a, contract.ResourceContextID, actor.Context.ID)
		putNonEmpty(a, contract.ResourceContextKind, actor.Context.Kind)
		putNonEmpty(a, contract.ResourceContextParentID, actor.Context.ParentID)
		sl := rl.ScopeLogs().AppendEmpty()
		sl.Scope().SetName(b.scope)
		recs = sl.LogRecords()
		b.groups[k] = recs
	}
	b.last, b.lastRecs, b.haveLast = k, recs, true
	b.n++
	return recs.AppendEmpty()
}
