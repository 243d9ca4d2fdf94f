package cryptochainprocessor // import "github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor"

import (
	"fmt"
	"math"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/chain"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/evidence"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/finding"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/impact"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/metadata"
)

// Impact update record (docs/events.md, README "Impact").
const (
	ImpactEventName       = "cryptochain.finding.impact"
	attrImpactCPUSeconds  = "cryptochain.impact.cpu_seconds"
	attrImpactMemoryRSS   = "cryptochain.impact.memory_rss_bytes"
	attrImpactCost        = "cryptochain.impact.estimated_cost"
	attrImpactCurrency    = "cryptochain.impact.currency"
	attrImpactPrice       = "cryptochain.impact.price_per_core_hour"
	attrImpactSampledPIDs = "cryptochain.impact.pids"
	attrImpactPoolSent    = "cryptochain.impact.pool_bytes_sent"
	attrImpactPoolRecv    = "cryptochain.impact.pool_bytes_received"
	attrImpactPoolScope   = "cryptochain.impact.pool_bytes_scope"
)

func newImpact(cfg ImpactConfig, maxFindings int) *impact.Tracker {
	if cfg.Interval <= 0 {
		return nil
	}
	return impact.New(cfg.Interval, cfg.PricePerCoreHour, maxFindings)
}

// noteResource remembers the resource whose records follow, for campaigns and impact.
func (p *cryptochainProcessor) noteResource(res pcommon.Resource) {
	p.curRes = res
	p.campaignResource(res)
}

// impactFinding registers the miner processes of an emitted finding for impact updates.
func (p *cryptochainProcessor) impactFinding(f *chain.Finding) {
	if p.imp == nil {
		return
	}
	var miners []impact.Proc
	var pool []netip.AddrPort
	var ports []uint16
	for i := range f.Items {
		it := &f.Items[i]
		if it.Group == evidence.Miner && it.PID != 0 {
			miners = append(miners, impact.Proc{PID: it.PID, Start: it.Start})
		}
		if it.Group == evidence.Miner || it.Group == evidence.Pool {
			pool, ports = appendEndpoints(pool, ports, it)
		}
	}
	// The finding's own cryptochain.finding.severity value (lower case), so updates join on it.
	p.imp.Found(f.Context.Key, f.ID, f.Level.String(), f.Context.Resource, miners, pool, ports)
}

// appendEndpoints adds the pool endpoints of an evidence item that are addresses: its endpoint
// when that is ip:port (also inside a URL such as stratum+tcp://ip:port), and the address it connected
// to (an IP indicator) with the endpoint's port. An endpoint host:port with neither adds its port.
func appendEndpoints(dst []netip.AddrPort, ports []uint16, it *chain.Item) ([]netip.AddrPort, []uint16) {
	ep := it.Endpoint
	if i := strings.Index(ep, "://"); i >= 0 {
		ep = ep[i+3:]
	}
	if i := strings.IndexAny(ep, "/?#"); i >= 0 {
		ep = ep[:i]
	}
	host, port, err := net.SplitHostPort(ep)
	if err != nil {
		return dst, ports
	}
	pn, err := strconv.ParseUint(port, 10, 16)
	if err != nil || pn == 0 {
		return dst, ports
	}
	n, named := uint16(pn), true
	if a, err := netip.ParseAddr(host); err == nil {
		dst, named = append(dst, netip.AddrPortFrom(a.Unmap(), n)), false
	}
	if a, err := netip.ParseAddr(it.Indicator); err == nil {
		dst, named = append(dst, netip.AddrPortFrom(a.Unmap(), n)), false
	}
	if named {
		ports = append(ports, n)
	}
	return dst, ports
}

// usageConns reads the cryptochain.process.tcp.connections of a usage record; nil when absent.
// Entries that are not maps with an address, a port and byte counts are skipped.
func usageConns(a pcommon.Map) []impact.Conn {
	v, ok := a.Get(contract.AttrProcessTCPConnections)
	if !ok || v.Type() != pcommon.ValueTypeSlice {
		return nil
	}
	s := v.Slice()
	conns := make([]impact.Conn, 0, min(s.Len(), 64))
	for i := 0; i < s.Len() && len(conns) < 64; i++ {
		if s.At(i).Type() != pcommon.ValueTypeMap {
			continue
		}
		m := s.At(i).Map()
		addr, ok1 := m.Get(contract.AttrServerAddress)
		port, ok2 := m.Get(contract.AttrServerPort)
		sent, ok3 := m.Get(contract.TCPBytesSent)
		recv, ok4 := m.Get(contract.TCPBytesReceived)
		if !ok1 || !ok2 || !ok3 || !ok4 || port.Type() != pcommon.ValueTypeInt || sent.Type() != pcommon.ValueTypeInt ||
			recv.Type() != pcommon.ValueTypeInt || port.Int() < 0 || port.Int() > math.MaxUint16 || sent.Int() < 0 || recv.Int() < 0 {
			continue
		}
		ip, err := netip.ParseAddr(addr.Str())
		if err != nil {
			continue
		}
		conns = append(conns, impact.Conn{Remote: netip.AddrPortFrom(ip, uint16(port.Int())),
			Sent: uint64(sent.Int()), Received: uint64(recv.Int())})
	}
	return conns
}

// impactUsage folds one cryptochain.process.usage record into its context's finding and emits an
// impact update when one is due.
func (p *cryptochainProcessor) impactUsage(lr plog.LogRecord, ref *chain.Ref) {
	if p.imp == nil || !ref.Active() {
		return
	}
	a := lr.Attributes()
	pid, ok := a.Get(contract.AttrProcessPID)
	if !ok || pid.Type() != pcommon.ValueTypeInt {
		return
	}
	cpu, ok := a.Get(contract.AttrProcessCPUTime)
	if !ok || cpu.Type() != pcommon.ValueTypeDouble || cpu.Double() < 0 {
		p.malformed++
		return
	}
	var rss int64
	if v, ok := a.Get(contract.AttrProcessMemoryRSS); ok && v.Type() == pcommon.ValueTypeInt {
		rss = max(v.Int(), 0)
	}
	start := ""
	if v, ok := a.Get(contract.AttrProcessCreationTime); ok {
		start = v.Str()
	}
	at := lr.Timestamp().AsTime()
	if lr.Timestamp() == 0 || at.After(p.batchLate) {
		at = p.batchNow
	}
	u, due := p.imp.Usage(string(p.contextKey(p.curRes)), pid.Int(), start, at, cpu.Double(), rss, usageConns(a))
	if !due {
		return
	}
	if !p.hasFinding {
		p.findings = plog.NewLogs()
		p.hasFinding = true
	}
	rl := p.findings.ResourceLogs().AppendEmpty()
	_ = chain.DecodeResource(u.Resource, rl.Resource())
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName(metadata.ScopeName)
	p.appendImpact(sl.LogRecords().AppendEmpty(), &u, at)
}

func (p *cryptochainProcessor) appendImpact(lr plog.LogRecord, u *impact.Update, at time.Time) {
	lr.SetTimestamp(pcommon.NewTimestampFromTime(at))
	lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(p.now()))
	lr.SetEventName(ImpactEventName)
	lr.SetSeverityNumber(plog.SeverityNumberInfo)
	lr.SetSeverityText("INFO")
	cfg := p.cfg.Impact
	lr.Body().SetStr(fmt.Sprintf("Impact of finding %s: %.0f CPU seconds, %d MiB resident, estimated cost %.4f %s",
		u.ID, u.CPUSeconds, u.RSSBytes>>20, u.Cost, cfg.Currency))
	a := lr.Attributes()
	a.PutStr(finding.AttrID, u.ID)
	a.PutStr(finding.AttrSeverity, u.Severity)
	a.PutDouble(attrImpactCPUSeconds, u.CPUSeconds)
	a.PutInt(attrImpactMemoryRSS, u.RSSBytes)
	a.PutDouble(attrImpactCost, u.Cost)
	a.PutStr(attrImpactCurrency, cfg.Currency)
	a.PutDouble(attrImpactPrice, cfg.PricePerCoreHour)
	pids := a.PutEmptySlice(attrImpactSampledPIDs)
	for _, pid := range u.PIDs {
		pids.AppendEmpty().SetInt(pid)
	}
	if u.HasPoolBytes {
		a.PutInt(attrImpactPoolSent, int64(min(u.PoolBytesSent, math.MaxInt64)))
		a.PutInt(attrImpactPoolRecv, int64(min(u.PoolBytesReceived, math.MaxInt64)))
		a.PutStr(attrImpactPoolScope, u.PoolScope)
	}
}
