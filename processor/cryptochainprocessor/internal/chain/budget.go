package chain

import (
	"strings"
	"unsafe"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/evidence"
)

// The byte budget: every context carries an estimate of the memory it holds (its key, kept
// resource, evidence with their origins, processes), the tracker the sum of them plus its bounded
// tables; beyond Config.MaxBytes contexts are evicted, weakest class first (evClass), least
// recently used first within a class. The estimate errs on the high side: interned strings shared
// by many contexts are counted in each.

// evClass orders contexts for eviction: the least recently used context of the lowest non-empty
// class goes first.
type evClass uint8

const (
	classWeak     evClass = iota // only weak or failed evidence, nothing reported
	classStrong                  // some strong evidence, nothing reported
	classReported                // a finding emitted (accepted or not): evicting it leaves a tombstone
	numClasses
)

// lru is a doubly linked list of contexts, most recently used at the head.
type lru struct{ head, tail *Context }

func (l *lru) pushFront(c *Context) {
	c.prev = nil
	c.next = l.head
	if l.head != nil {
		l.head.prev = c
	}
	l.head = c
	if l.tail == nil {
		l.tail = c
	}
}

func (l *lru) unlink(c *Context) {
	if c.prev != nil {
		c.prev.next = c.next
	} else if l.head == c {
		l.head = c.next
	}
	if c.next != nil {
		c.next.prev = c.prev
	} else if l.tail == c {
		l.tail = c.prev
	}
	c.prev, c.next = nil, nil
}

// shape is what a context's size and class were last computed from: while it is unchanged, so are
// they (up to strings replaced in place, which the sweep's full recount catches). It packs the item
// and process counts (modulo 256: one record adds a few), the levels and whether a finding exists.
type shape uint32

func shapeOf(c *Context) shape {
	f := shape(0)
	if c.FindingID != "" {
		f = 1
	}
	return shape(len(c.Items)&0xff) | shape(cap(c.Items)&0xff)<<8 | shape(len(c.Procs)&0xff)<<16 |
		shape(c.Level&3)<<24 | shape(c.Sent&3)<<26 | f<<28 | 1<<29 // never 0: 0 means not accounted
}

// Estimated sizes (64-bit). A map entry's share covers the key and value slots, the control bytes
// and the slack a map keeps for growth.
const mapEntryBytes = 64

var (
	contextBytes = int64(unsafe.Sizeof(Context{})) + 3*mapEntryBytes // contexts, byID, children
	itemBytes    = int64(unsafe.Sizeof(Item{}))
	originBytes  = int64(unsafe.Sizeof(Origin{}))
	procBytes    = int64(unsafe.Sizeof(Proc{}))
)

// strBytes estimates the heap behind a string: its bytes rounded up to the allocator's size class
// (at most 1/8 more above 1 KiB, a few bytes below).
func strBytes(s string) int64 {
	n := int64(len(s))
	if n == 0 {
		return 0
	}
	return n + n/8 + 16
}

func evidenceBytes(e *evidence.Evidence) int64 {
	return strBytes(e.Kind) + strBytes(e.Indicator) + strBytes(e.Source) + strBytes(e.Endpoint) +
		strBytes(e.Wallet) + strBytes(e.Path) + strBytes(e.Action) + strBytes(e.Command)
}

func originSize(o *Origin) int64 {
	return originBytes + strBytes(o.Start) + strBytes(o.Exe) + strBytes(o.CmdLine) + strBytes(o.LinkedFrom)
}

// estimate returns the bytes c holds.
func (c *Context) estimate() int64 {
	n := contextBytes + strBytes(c.Key) + int64(cap(c.Resource)) + strBytes(c.ID) + strBytes(c.FindingID)
	n += int64(cap(c.Items)) * itemBytes
	var last *Origin
	for i := range c.Items {
		it := &c.Items[i]
		n += evidenceBytes(&it.Evidence)
		if it.Origin != nil && it.Origin != last {
			last = it.Origin
			n += originSize(it.Origin)
		}
	}
	n += int64(cap(c.Procs)) * procBytes
	for i := range c.Procs {
		p := &c.Procs[i]
		n += strBytes(p.Start) + strBytes(p.Exe) + strBytes(p.ConnAddr) + int64(cap(p.Ancestors))*8
	}
	n += int64(len(c.idx)) * mapEntryBytes // the pid index of a context holding many processes
	n += int64(cap(c.Facts)+cap(c.prevFacts)) * 8
	return n
}

// evictionClass returns the class c belongs to.
func (c *Context) evictionClass() evClass {
	if c.FindingID != "" || c.Level > None || c.Sent > None {
		return classReported
	}
	for i := range c.Items {
		if it := &c.Items[i]; it.Strength == evidence.Strong && !it.Failed {
			return classStrong
		}
	}
	return classWeak
}

// account brings the size estimate and eviction class of c (a context of the tracker) up to date.
// Unless force is set it does nothing when the shape of c did not change, which keeps it cheap on
// the record path.
func (t *Tracker) account(c *Context, force bool) {
	sh := shapeOf(c)
	if !force && sh == c.shape {
		return
	}
	c.shape = sh
	n := c.estimate()
	t.bytes += n - c.size
	c.size = n
	if cl := c.evictionClass(); cl != c.class {
		t.unlink(c)
		c.class = cl
		t.pushFront(c)
	}
}

// Bytes returns the estimated memory of the whole state.
func (t *Tracker) Bytes() int64 {
	return t.bytes + t.tombs.bytes + t.procs.bytes() + t.links.bytes + t.internBytes + t.pending.bytes
}

// evictOne evicts the least recently used context of the lowest non-empty class, never protect. A
// context that reported a chain leaves a tombstone. It returns false when there was none to evict.
func (t *Tracker) evictOne(protect *Context) bool {
	for i := range t.lists {
		c := t.lists[i].tail
		if c == protect && c != nil {
			c = c.prev
		}
		if c == nil {
			continue
		}
		t.evicted++
		t.bury(c)
		t.remove(c)
		return true
	}
	return false
}

// enforce evicts contexts, then drops tombstones, until the state fits Config.MaxBytes. protect
// (the context a record is being added to) stays: one context larger than the whole budget is kept
// alone rather than dropped while its record is handled.
func (t *Tracker) enforce(protect *Context) {
	if t.cfg.MaxBytes <= 0 {
		return
	}
	for t.Bytes() > t.cfg.MaxBytes {
		if !t.evictOne(protect) && !t.dropOldestTomb() {
			return
		}
	}
}

// keptResourceKeys are the resource attributes a context keeps: what a finding names and the
// response exporter acts on (docs/events.md), and the context keys (Config.ResourceKeys). Others
// (a 1 MiB label) are not kept.
var keptResourceKeys = []string{
	contract.ResourceHostID, contract.ResourceHostName, contract.ResourceContainerID,
	contract.ResourceContainerRuntimeName, contract.ResourceContextID, contract.ResourceContextKind,
	contract.ResourceContextParentID, contract.ResourceK8sPodUID, contract.ResourceProcessLinuxCgroup,
	"container.name", "container.image.name", "k8s.pod.name", "k8s.namespace.name", "k8s.node.name",
	"k8s.container.name", "service.name",
}

// identityKeys name what a response acts on or what contexts link by: a cut value would name
// something else (a cgroup's parent), so an over-long one is dropped instead.
var identityKeys = map[string]bool{
	contract.ResourceHostID: true, contract.ResourceContainerID: true, contract.ResourceContextID: true,
	contract.ResourceContextParentID: true, contract.ResourceK8sPodUID: true, contract.ResourceProcessLinuxCgroup: true,
}

// maxResourceValue bounds a kept resource attribute value.
const maxResourceValue = 1024

// keptResource returns the OTLP form of the attributes of res a context keeps: the kept keys, with
// scalar values, strings cut to maxResourceValue.
func (t *Tracker) keptResource(res pcommon.Resource) []byte {
	src := res.Attributes()
	kept := pcommon.NewResource()
	dst := kept.Attributes()
	src.Range(func(k string, v pcommon.Value) bool {
		if !t.keep[k] {
			return true
		}
		switch v.Type() {
		case pcommon.ValueTypeStr:
			s := v.Str()
			if len(s) > maxResourceValue {
				if identityKeys[k] {
					return true
				}
				s = strings.ToValidUTF8(s[:maxResourceValue], "\uFFFD")
			}
			dst.PutStr(k, s)
		case pcommon.ValueTypeInt, pcommon.ValueTypeDouble, pcommon.ValueTypeBool:
			v.CopyTo(dst.PutEmpty(k))
		}
		return true
	})
	return EncodeResource(kept)
}
