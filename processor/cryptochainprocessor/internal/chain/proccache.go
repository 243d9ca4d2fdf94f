package chain

// procCache remembers, for processes of any context (with or without state), the parent pid when
// records carry no ancestors and the last TCP connection, so a later RandomX event can use it.
// Bounded: the oldest key is forgotten first (FIFO ring), no per-entry allocation besides the map.
type procCache struct {
	m    map[procKey]procInfo
	ring []procKey
	next int
}

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
		v.addr = clip(addr)
	}
	v.port, v.at = port, at
	pc.m[k] = v
}
