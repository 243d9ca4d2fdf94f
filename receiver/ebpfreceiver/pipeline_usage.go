package ebpfreceiver // import "github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver"

import (
	"bytes"
	"math"
	"net/netip"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/event"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/masquerade"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/process"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/usage"
)

// usageProc is what a usage record names: the process as its connect saw it.
type usageProc struct {
	ev    event.Event // Proc only
	actor process.Actor
}

func newUsage(cfg *Config) *usage.Watcher[usageProc] {
	if cfg.Usage.Interval <= 0 {
		return nil
	}
	w := usage.New[usageProc](cfg.ProcfsRoot, cfg.Usage.MaxProcesses)
	w.ReadTCP(true)
	return w
}

// watchUsage starts sampling a process that connected to a non-loopback address, or whose exec
// looks like a miner's (executable in an unusual location, memfd or deleted, a kernel-thread-like
// name, a stratum URL argument). Called with p.mu held.
func (p *pipeline) watchUsage(ev *event.Event, actor *process.Actor) {
	if p.usage == nil || ev.Proc.PID == 0 {
		return
	}
	switch {
	case ev.Connect != nil && !loopback(ev.Connect):
	case ev.Exec != nil && minerLike(ev):
	default:
		return
	}
	p.usage.Watch(ev.Proc.PID, ev.Proc.StartBootNS, usageProc{ev: event.Event{Proc: ev.Proc}, actor: *actor})
}

func minerLike(ev *event.Event) bool {
	x := ev.Exec
	exe := x.ExePath
	if exe == "" {
		exe = x.Filename
	}
	if masquerade.UnusualLocation(exe, x.ExeMemfd, x.ExeDeleted) || masquerade.KthreadLike(ev.Proc.Comm) {
		return true
	}
	for _, a := range x.Args {
		if bytes.Contains(a, []byte("stratum+")) {
			return true
		}
	}
	return false
}

func loopback(c *event.Connect) bool {
	var a netip.Addr
	switch c.Family {
	case 2:
		a = netip.AddrFrom4([4]byte(c.Addr[:4]))
	case 10:
		a = netip.AddrFrom16(c.Addr).Unmap()
	default:
		return true
	}
	return a.IsLoopback() || a.IsUnspecified()
}

// sampleUsage adds a process.usage record for every watched process still running.
func (p *pipeline) sampleUsage(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.usage == nil {
		return
	}
	p.usage.Sample(func(_ uint32, u usageProc, s usage.Sample) {
		lr := p.batch.NewRecord(&u.actor)
		p.mapper.FillUsage(lr, &u.ev, &u.actor, s.CPUSeconds, s.RSSBytes, now)
		putTCP(lr.Attributes(), s.TCP)
	})
}

// putTCP adds the byte counts of a process's TCP connections, per remote endpoint; nothing when they
// were not read (an empty list says they were read and there were none).
func putTCP(a pcommon.Map, conns []usage.Conn) {
	if conns == nil {
		return
	}
	s := a.PutEmptySlice(contract.AttrProcessTCPConnections)
	for _, c := range conns {
		m := s.AppendEmpty().SetEmptyMap()
		m.PutStr(contract.AttrServerAddress, c.Remote.Addr().String())
		m.PutInt(contract.AttrServerPort, int64(c.Remote.Port()))
		m.PutInt(contract.TCPBytesSent, int64(min(c.Sent, math.MaxInt64)))
		m.PutInt(contract.TCPBytesReceived, int64(min(c.Received, math.MaxInt64)))
	}
}

// usageStats returns the processes watched for usage sampling, those refused so far because
// usage.max_processes were watched already, and the samples whose TCP counts could not be read.
func (p *pipeline) usageStats() (watched int, refused, tcpErrors uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.usage == nil {
		return 0, 0, 0
	}
	return p.usage.Len(), p.usage.Dropped(), p.usage.TCPErrors()
}
