// Package records maps host events to OTel log records following docs/events.md: the execution
// context on the Resource (one ResourceLogs per context and cgroup), per-event facts on the record
// attributes, every string bounded and valid UTF-8.
package records // import "github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/records"

import (
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/execctx"
)

// Host identifies the machine on every Resource.
type Host struct {
	Name string
	ID   string // /etc/machine-id
}

// Resource is the execution context of a record.
type Resource struct {
	Context     execctx.Context
	CgroupPath  string
	ContainerID string
	PodUID      string
}

func (r Resource) key() string {
	return r.Context.ID + "\x00" + r.CgroupPath + "\x00" + r.ContainerID
}

// Batch accumulates records grouped by Resource.
type Batch struct {
	host   Host
	scope  string
	logs   plog.Logs
	groups map[string]plog.LogRecordSlice
	n      int
}

// NewBatch makes an empty batch; scope names the instrumentation scope of every record.
func NewBatch(host Host, scope string) *Batch {
	b := &Batch{host: host, scope: scope}
	b.reset()
	return b
}

func (b *Batch) reset() {
	b.logs = plog.NewLogs()
	b.groups = map[string]plog.LogRecordSlice{}
	b.n = 0
}

// Len is the number of records in the batch.
func (b *Batch) Len() int { return b.n }

// Take returns the accumulated logs and starts a new batch.
func (b *Batch) Take() plog.Logs {
	out := b.logs
	b.reset()
	return out
}

// NewRecord appends an empty record under the ResourceLogs of res.
func (b *Batch) NewRecord(res Resource) plog.LogRecord {
	k := res.key()
	recs, ok := b.groups[k]
	if !ok {
		rl := b.logs.ResourceLogs().AppendEmpty()
		a := rl.Resource().Attributes()
		putNonEmpty(a, "host.name", b.host.Name)
		putNonEmpty(a, "host.id", b.host.ID)
		putNonEmpty(a, "container.id", res.ContainerID)
		putNonEmpty(a, "k8s.pod.uid", res.PodUID)
		if res.CgroupPath != "" {
			a.PutStr("process.linux.cgroup", "0::"+res.CgroupPath)
		}
		putNonEmpty(a, "cryptochain.context.id", res.Context.ID)
		putNonEmpty(a, "cryptochain.context.kind", res.Context.Kind)
		putNonEmpty(a, "cryptochain.context.parent_id", res.Context.ParentID)
		sl := rl.ScopeLogs().AppendEmpty()
		sl.Scope().SetName(b.scope)
		recs = sl.LogRecords()
		b.groups[k] = recs
	}
	b.n++
	return recs.AppendEmpty()
}
