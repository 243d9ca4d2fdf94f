package testutil

import (
	"fmt"
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
	var out []string
	it := new(link.Iterator)
	defer it.Close()
	for it.Next() {
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
