// Package block keeps the response exporter's kernel deny list: cgroup connect4/connect6 and
// sendmsg4/sendmsg6 programs attached at the cgroup v2 root, and a map of (scope cgroup, address,
// port) → expiry. It knows nothing of findings or of the Collector.
package block // import "github.com/cryptochain-otel/cryptochain/exporter/cryptochainresponseexporter/internal/block"

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// Entry is one deny-list entry as listed.
type Entry struct {
	// Scope is the cgroup v2 id the entry applies to, with everything below it.
	Scope uint64 `json:"scope"`
	// Addr is the refused destination; the unspecified address (with port 0) refuses all egress.
	Addr netip.Addr `json:"address"`
	// Port 0 refuses every port.
	Port    uint16    `json:"port"`
	Expires time.Time `json:"expires"`
	// Hits counts refused calls.
	Hits uint64 `json:"hits"`
}

// Blocker owns the loaded programs, their cgroup links and the deny map. Closing it detaches the
// programs, so every entry stops denying when the Collector stops.
type Blocker struct {
	mu    sync.Mutex
	objs  denyObjects
	links []link.Link
}

// Open loads the deny programs and attaches them to the cgroup v2 root at cgroupRoot.
func Open(cgroupRoot string) (*Blocker, error) {
	b := &Blocker{}
	if err := loadDenyObjects(&b.objs, nil); err != nil {
		return nil, fmt.Errorf("load deny programs: %w", err)
	}
	for _, a := range []struct {
		name string
		prog *ebpf.Program
		typ  ebpf.AttachType
	}{
		{"deny_connect4", b.objs.DenyConnect4, ebpf.AttachCGroupInet4Connect},
		{"deny_connect6", b.objs.DenyConnect6, ebpf.AttachCGroupInet6Connect},
		{"deny_sendmsg4", b.objs.DenySendmsg4, ebpf.AttachCGroupUDP4Sendmsg},
		{"deny_sendmsg6", b.objs.DenySendmsg6, ebpf.AttachCGroupUDP6Sendmsg},
	} {
		l, err := link.AttachCgroup(link.CgroupOptions{Path: cgroupRoot, Attach: a.typ, Program: a.prog})
		if err != nil {
			_ = b.Close()
			return nil, fmt.Errorf("attach %s to %s: %w", a.name, cgroupRoot, err)
		}
		b.links = append(b.links, l)
	}
	return b, nil
}

// Add refuses addr:port (port 0: every port) for the cgroup scope and below until ttl from now.
// Adding an existing entry extends its expiry.
func (b *Blocker) Add(scope uint64, addr netip.Addr, port uint16, ttl time.Duration) (time.Time, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now, err := bootNow()
	if err != nil {
		return time.Time{}, err
	}
	k := key(scope, addr, port)
	var v denyDenyVal
	_ = b.objs.Deny.Lookup(&k, &v)
	v.ExpiresNs = uint64(now + ttl)
	if err := b.objs.Deny.Put(&k, &v); err != nil {
		return time.Time{}, fmt.Errorf("deny map: add %s port %d: %w", addr, port, err)
	}
	return time.Now().Add(ttl), nil
}

// List returns the entries that still deny.
func (b *Blocker) List() ([]Entry, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now, err := bootNow()
	if err != nil {
		return nil, err
	}
	var out []Entry
	var k denyDenyKey
	var v denyDenyVal
	it := b.objs.Deny.Iterate()
	for it.Next(&k, &v) {
		left := time.Duration(v.ExpiresNs) - now
		if left <= 0 {
			continue
		}
		out = append(out, Entry{Scope: k.Scope, Addr: netip.AddrFrom16(k.Addr).Unmap(), Port: k.Port,
			Expires: time.Now().Add(left).Round(time.Second), Hits: v.Hits})
	}
	if err := it.Err(); err != nil {
		return out, fmt.Errorf("deny map: iterate: %w", err)
	}
	return out, nil
}

// Sweep deletes expired entries (they no longer deny; this frees their slots) and returns how many.
func (b *Blocker) Sweep() (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now, err := bootNow()
	if err != nil {
		return 0, err
	}
	var expired []denyDenyKey
	var k denyDenyKey
	var v denyDenyVal
	it := b.objs.Deny.Iterate()
	for it.Next(&k, &v) {
		if time.Duration(v.ExpiresNs) <= now {
			expired = append(expired, k)
		}
	}
	n := 0
	for i := range expired {
		if err := b.objs.Deny.Delete(&expired[i]); err == nil {
			n++
		}
	}
	return n, it.Err()
}

// Close detaches the programs and frees the map.
func (b *Blocker) Close() error {
	var errs []error
	for _, l := range b.links {
		errs = append(errs, l.Close())
	}
	b.links = nil
	errs = append(errs, b.objs.Close())
	return errors.Join(errs...)
}

// CgroupID returns the cgroup v2 id (the directory's inode number) of a cgroup directory, the id
// bpf_get_current_ancestor_cgroup_id reports.
func CgroupID(dir string) (uint64, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return 0, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || !fi.IsDir() {
		return 0, fmt.Errorf("%s is not a cgroup directory", dir)
	}
	return st.Ino, nil
}

func key(scope uint64, addr netip.Addr, port uint16) denyDenyKey {
	return denyDenyKey{Scope: scope, Addr: addr.As16(), Port: port}
}

// bootNow is CLOCK_BOOTTIME, the clock of bpf_ktime_get_boot_ns.
func bootNow() (time.Duration, error) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		return 0, fmt.Errorf("clock_gettime(CLOCK_BOOTTIME): %w", err)
	}
	return time.Duration(ts.Nano()), nil
}
