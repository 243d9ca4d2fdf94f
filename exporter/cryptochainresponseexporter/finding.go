package cryptochainresponseexporter // import "github.com/cryptochain-otel/cryptochain/exporter/cryptochainresponseexporter"

import (
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
)

// Keys inside a finding this exporter reads (docs/events.md, "Findings") that internal/contract does
// not name: the evidence entries' fields.
const (
	evTime        = "time"
	evKind        = "kind"
	evStrength    = "strength"
	evStrong      = "strong"
	groupMiner    = "miner"
	evIndicator   = "indicator"
	evEndpoint    = "endpoint"
	evPID         = "process.pid"
	evExe         = "process.executable.path"
	evCreation    = "process.creation.time"
	evKindPoolIP  = "pool_address"
	cgroupV2Field = "0::"
)

// finding is what the response needs from one finding record, copied out of pdata.
type finding struct {
	ID, Severity, ContextID string
	HostName, HostID        string
	ContainerID, Image      string
	// Cgroup is the context's cgroup v2 path (without "0::").
	Cgroup   string
	LastSeen time.Time
	Miners   []minerRef
	// Endpoints are the pool addresses to block (names are never resolved here).
	Endpoints []netip.AddrPort
	// Unresolved are pool endpoints that name a host, kept for the audit.
	Unresolved  []string
	Persistence []string
	Resource    map[string]string
}

// minerRef is a miner process and what its evidence says about it.
type minerRef struct {
	PID int
	// FirstSeen is its oldest evidence time: the process had started by then.
	FirstSeen time.Time
	// Created is its exact start time when the evidence carries it.
	Created time.Time
	Exe     string
	// Strong: the process has strong Miner evidence of its own (not only a weak hint such as a
	// binary in /tmp, which a launcher or a simulator can have too).
	Strong bool
}

// findings copies every `cryptochain.finding` record of ld.
func findings(ld plog.Logs) []finding {
	var out []finding
	for i := 0; i < ld.ResourceLogs().Len(); i++ {
		rl := ld.ResourceLogs().At(i)
		for j := 0; j < rl.ScopeLogs().Len(); j++ {
			lrs := rl.ScopeLogs().At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				if lr := lrs.At(k); lr.EventName() == contract.EventFinding {
					out = append(out, decode(rl.Resource().Attributes(), lr))
				}
			}
		}
	}
	return out
}

func decode(res pcommon.Map, lr plog.LogRecord) finding {
	a := lr.Attributes()
	f := finding{
		ID: str(a, contract.AttrFindingID), Severity: strings.ToLower(str(a, contract.AttrFindingSeverity)),
		ContextID: str(a, contract.AttrFindingContextID),
		HostName:  str(res, contract.ResourceHostName), HostID: str(res, contract.ResourceHostID),
		ContainerID: str(res, contract.ResourceContainerID), Image: str(res, contract.ResourceContainerImageName),
		Cgroup:   strings.TrimPrefix(str(res, contract.ResourceProcessLinuxCgroup), cgroupV2Field),
		Resource: map[string]string{},
	}
	if f.Severity == "" {
		f.Severity = strings.ToLower(lr.SeverityText())
	}
	f.LastSeen, _ = time.Parse(time.RFC3339Nano, str(a, contract.AttrFindingLastSeen))
	for _, k := range []string{contract.ResourceHostName, contract.ResourceHostID, contract.ResourceContainerID, contract.ResourceContextID,
		contract.ResourceContainerImageName, contract.ResourceK8sNamespaceName, contract.ResourceK8sPodName} {
		if v := str(res, k); v != "" {
			f.Resource[k] = v
		}
	}

	// Per pid: the oldest evidence time and the executable, from every evidence item.
	seen := map[int]*minerRef{}
	var poolIPs []netip.AddrPort
	a.Range(func(k string, v pcommon.Value) bool {
		if !strings.HasPrefix(k, contract.AttrFindingEvidencePrefix) || v.Type() != pcommon.ValueTypeSlice {
			return true
		}
		for i := 0; i < v.Slice().Len(); i++ {
			m := v.Slice().At(i)
			if m.Type() != pcommon.ValueTypeMap {
				continue
			}
			ev := m.Map()
			if pid := intOf(ev, evPID); pid > 0 {
				r := seen[pid]
				if r == nil {
					r = &minerRef{PID: pid}
					seen[pid] = r
				}
				if t, err := time.Parse(time.RFC3339Nano, str(ev, evTime)); err == nil && (r.FirstSeen.IsZero() || t.Before(r.FirstSeen)) {
					r.FirstSeen = t
				}
				if t, err := time.Parse(time.RFC3339Nano, str(ev, evCreation)); err == nil {
					r.Created = t
				}
				if e := str(ev, evExe); e != "" && r.Exe == "" {
					r.Exe = e
				}
				if k == contract.AttrFindingEvidencePrefix+groupMiner && str(ev, evStrength) == evStrong {
					r.Strong = true
				}
			}
			// A pool address the finding's DNS evidence resolved: indicator is the IP, the endpoint names the port.
			if str(ev, evKind) == evKindPoolIP {
				if ip, err := netip.ParseAddr(str(ev, evIndicator)); err == nil {
					poolIPs = append(poolIPs, netip.AddrPortFrom(ip.Unmap(), portOf(str(ev, evEndpoint))))
				}
			}
		}
		return true
	})
	if v, ok := a.Get(contract.AttrResponseMinerPIDs); ok && v.Type() == pcommon.ValueTypeSlice {
		for i := 0; i < v.Slice().Len(); i++ {
			pid := int(v.Slice().At(i).Int())
			if pid <= 0 || slices.ContainsFunc(f.Miners, func(m minerRef) bool { return m.PID == pid }) {
				continue
			}
			r := minerRef{PID: pid}
			if s := seen[pid]; s != nil {
				r = *s
			}
			if r.FirstSeen.IsZero() {
				// Every evidence item of the finding is older than last_seen.
				r.FirstSeen = f.LastSeen
			}
			f.Miners = append(f.Miners, r)
		}
	}
	for _, e := range strs(a, contract.AttrResponsePoolEndpoints) {
		if ap, ok := addrPort(e); ok {
			poolIPs = append(poolIPs, ap)
		} else {
			f.Unresolved = append(f.Unresolved, e)
		}
	}
	for _, ap := range poolIPs {
		if !slices.Contains(f.Endpoints, ap) {
			f.Endpoints = append(f.Endpoints, ap)
		}
	}
	f.Persistence = strs(a, contract.AttrResponsePersistencePaths)
	return f
}

// addrPort parses "ip:port", "[v6]:port" or a bare IP (port 0: every port).
func addrPort(s string) (netip.AddrPort, bool) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), true
	}
	if ip, err := netip.ParseAddr(s); err == nil {
		return netip.AddrPortFrom(ip.Unmap(), 0), true
	}
	return netip.AddrPort{}, false
}

func portOf(endpoint string) uint16 {
	_, p, err := net.SplitHostPort(endpoint)
	if err != nil {
		return 0
	}
	n, err := strconv.ParseUint(p, 10, 16)
	if err != nil {
		return 0
	}
	return uint16(n)
}

func str(m pcommon.Map, k string) string {
	if v, ok := m.Get(k); ok && v.Type() == pcommon.ValueTypeStr {
		return v.Str()
	}
	return ""
}

func intOf(m pcommon.Map, k string) int {
	if v, ok := m.Get(k); ok && v.Type() == pcommon.ValueTypeInt {
		return int(v.Int())
	}
	return 0
}

func strs(m pcommon.Map, k string) []string {
	v, ok := m.Get(k)
	if !ok || v.Type() != pcommon.ValueTypeSlice {
		return nil
	}
	var out []string
	for i := 0; i < v.Slice().Len(); i++ {
		if s := v.Slice().At(i); s.Type() == pcommon.ValueTypeStr {
			out = append(out, s.Str())
		}
	}
	return out
}
