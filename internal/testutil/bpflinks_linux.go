package testutil

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/stretchr/testify/require"
)

// BPFLinks lists the BPF links attached on the host whose program name starts with prefix, as
// "link id:program name". It asks the kernel directly, so tests need no bpftool.
func BPFLinks(t testing.TB, prefix string) []string {
	t.Helper()
	return bpfLinks(t, prefix, nil)
}

// OwnBPFLinks is BPFLinks limited to the links this test process holds open. Packages are tested
// in parallel, so another package's test may attach programs of the same name meanwhile.
func OwnBPFLinks(t testing.TB, prefix string) []string {
	t.Helper()
	own := map[link.ID]bool{}
	fds, err := filepath.Glob("/proc/self/fdinfo/*")
	require.NoError(t, err)
	for _, fd := range fds {
		f, err := os.Open(fd)
		if err != nil {
			continue // closed since the glob
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "link_id:"); ok {
				if id, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32); err == nil {
					own[link.ID(id)] = true
				}
			}
		}
		_ = f.Close()
	}
	return bpfLinks(t, prefix, own)
}

func bpfLinks(t testing.TB, prefix string, only map[link.ID]bool) []string {
	t.Helper()
	var out []string
	it := new(link.Iterator)
	defer it.Close()
	for it.Next() {
		if only != nil && !only[it.ID] {
			continue
		}
		info, err := it.Link.Info()
		require.NoError(t, err, "link %d info", it.ID)
		prog, err := ebpf.NewProgramFromID(info.Program)
		if err != nil {
			continue // detached since the link was listed
		}
		pi, err := prog.Info()
		_ = prog.Close()
		require.NoError(t, err, "program %d info", info.Program)
		if strings.HasPrefix(pi.Name, prefix) {
			out = append(out, fmt.Sprintf("%d:%s", info.ID, pi.Name))
		}
	}
	require.NoError(t, it.Err(), "listing BPF links")
	return out
}
