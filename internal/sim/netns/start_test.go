package netns

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cryptochain-otel/cryptochain/internal/sim/journal"
	"github.com/cryptochain-otel/cryptochain/internal/testutil"
)

func TestStartRunsInsideAndIdentifies(t *testing.T) {
	testutil.RequirePrivileged(t)
	name := fmt.Sprintf("chainsim-start-%d", os.Getpid())
	j, err := journal.Open(filepath.Join(t.TempDir(), "journal.json"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = j.Restore() })
	require.NoError(t, Create(j, name))

	var out strings.Builder
	cmd := exec.Command("/bin/sh", "-c", "tail -n +3 /proc/self/net/dev | cut -d: -f1")
	cmd.Stdout = &out
	require.NoError(t, Start(name, cmd))
	require.NoError(t, cmd.Wait())
	assert.Equal(t, []string{"lo"}, strings.Fields(out.String()), "only loopback inside")

	// This process stayed on the host; a thread switched in reports the name.
	got, err := Identify()
	require.NoError(t, err)
	assert.Empty(t, got)
	var inside string
	require.NoError(t, Do(name, func() error {
		var err error
		inside, err = Identify()
		return err
	}))
	assert.Equal(t, name, inside)
}
