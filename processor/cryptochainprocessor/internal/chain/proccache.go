package chain

import "unsafe"

// procCache remembers, for processes of any context (with or without state), the parent pid when
// records carry no ancestors and the last TCP connection, so a later RandomX event can use it.
// Bounded: the oldest key is forgotten first (FIFO ring), no per-entry allocation besides the map.
type procCache struct {
	m    map[procKey]procInfo
	ring []procKey
	next int
	strs int64 // estimated bytes of the addresses held
}

// maxCachedAddr bounds an address kept for a process without state (a host name is at most 253).
const maxCachedAddr = 256

// procEntryBytes estimates one entry: its map share, its ring slot and its value.
var procEntryBytes = mapEntryBytes + int64(unsafe.Sizeof(procKey{})+unsafe.Sizeof(procInfo{}))

// bytes estimates the memory the cache holds.
func (pc *procCache) bytes() int64 { return int64(len(pc.m))*procEntryBytes + pc.strs }

type procKey struct {
	ctx uint64
	pid int64
}

type procInfo struct {
	ppid int64
	addr string
	port int64
	at   int64
}

func newProcCache(n int) *procCache {
	return &procCache{m: make(map[procKey]procInfo), ring: make([]procKey, 0, n)}
}

func (pc *procCache) get(k procKey) (procInfo, bool) {
	v, ok := pc.m[k]
	return v, ok
}

func (pc *procCache) slot(k procKey) {
	if len(pc.ring) < cap(pc.ring) {
		pc.ring = append(pc.ring, k)
		return
	}
	pc.strs -= strBytes(pc.m[pc.ring[pc.next]].addr)
	delete(pc.m, pc.ring[pc.next])
	pc.ring[pc.next] = k
	pc.next = (pc.next + 1) % len(pc.ring)
}

func (pc *procCache) putParent(k procKey, ppid int64) {
	v, ok := pc.m[k]
	if !ok {
		pc.slot(k)
	}
	v.ppid = ppid
	pc.m[k] = v
}

func (pc *procCache) putConn(k procKey, addr string, port, at int64) {
	v, ok := pc.m[k]
	if !ok {
		pc.slot(k)
	}
	if v.addr != addr {
		if len(addr) > maxCachedAddr {
			addr = addr[:maxCachedAddr]
		}
		pc.strs -= strBytes(v.addr)
		v.addr = clip(addr)
		pc.strs += strBytes(v.addr)
	}
	v.port, v.at = port, at
	pc.m[k] = v
}
