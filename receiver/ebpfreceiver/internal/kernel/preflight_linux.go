//go:build linux && amd64

package kernel // import "github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/kernel"

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

const (
	btfPath     = "/sys/kernel/btf/vmlinux"
	tracefsPath = "/sys/kernel/tracing"
)

// Capability bits (linux/capability.h).
const (
	capNetAdmin    = 12
	capSysAdmin    = 21
	capSysResource = 24
	capPerfmon     = 38
	capBPF         = 39
)

// checkCapabilities names the missing capabilities. CAP_SYS_ADMIN covers BPF, PERFMON and NET_ADMIN
// for loading and attaching; CAP_SYS_RESOURCE is only needed on kernels older than 5.11 (memlock).
func checkCapabilities() error {
	eff, err := effectiveCaps()
	if err != nil {
		return fmt.Errorf("reading capabilities: %w", err)
	}
	has := func(c uint) bool { return eff&(1<<c) != 0 }
	if has(capSysAdmin) {
		return nil
	}
	var missing []string
	for _, c := range []struct {
		bit  uint
		name string
	}{{capBPF, "CAP_BPF"}, {capPerfmon, "CAP_PERFMON"}, {capNetAdmin, "CAP_NET_ADMIN"}} {
		if !has(c.bit) {
			missing = append(missing, c.name)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("missing %s (euid %d): run the collector as root, or grant "+
		"cap_bpf,cap_perfmon,cap_net_admin,cap_sys_resource (e.g. setcap or the systemd unit's AmbientCapabilities)",
		strings.Join(missing, ", "), os.Geteuid())
}

func effectiveCaps() (uint64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "CapEff:"); ok {
			return strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		}
	}
	return 0, errors.New("no CapEff line in /proc/self/status")
}

func checkBTF() error {
	if _, err := os.Stat(btfPath); err != nil {
		return fmt.Errorf("kernel BTF not found at %s (%v): a kernel built with CONFIG_DEBUG_INFO_BTF=y is required", btfPath, err)
	}
	return nil
}

// ensureTracefs mounts tracefs at /sys/kernel/tracing when no tracefs is mounted, and returns the
// events directory.
func ensureTracefs() (string, error) {
	if dir, ok := mountPoint("tracefs"); ok {
		return filepath.Join(dir, "events"), nil
	}
	if err := unix.Mount("none", tracefsPath, "tracefs", 0, ""); err != nil {
		return "", fmt.Errorf("tracefs is not mounted and mounting it failed (%v): run `mount -t tracefs none %s`", err, tracefsPath)
	}
	return filepath.Join(tracefsPath, "events"), nil
}

// cgroup2Root finds the cgroup v2 mount in /proc/mounts (/sys/fs/cgroup, or /sys/fs/cgroup/unified
// on hybrid hosts).
func cgroup2Root() (string, error) {
	if dir, ok := mountPoint("cgroup2"); ok {
		return dir, nil
	}
	return "", errors.New("no cgroup2 file system in /proc/mounts: mount one (`mount -t cgroup2 none /sys/fs/cgroup/unified`) or set the cgroup root")
}

// mountPoint returns the first mount point of a file-system type in /proc/mounts.
func mountPoint(fstype string) (string, bool) {
	f, err := os.Open("/proc/mounts")
	if err != nil {
		return "", false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 3 && fields[2] == fstype {
			return unescapeMount(fields[1]), true
		}
	}
	return "", false
}

// unescapeMount undoes the octal escapes (\040 for a space) of /proc/mounts.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
