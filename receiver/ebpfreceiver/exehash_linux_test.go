package ebpfreceiver

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeMiner returns the simulator's fake miner: _build/fakeminer when `make build` made it, else a
// fresh build.
func fakeMiner(t *testing.T) string {
	t.Helper()
	if p, err := filepath.Abs("../../_build/fakeminer"); err == nil {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	p := filepath.Join(t.TempDir(), "fakeminer")
	cmd := exec.Command("go", "build", "-o", p, "../../cmd/fakeminer")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	return p
}

func fileSHA256(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestKernelExecutableHash runs the fake miner (in its no-network mode: it only burns CPU) from a
// hidden directory under /tmp, as a file and re-executed from a memfd, and checks that its exec
// records carry the SHA-256 that sha256sum gives for the file.
func TestKernelExecutableHash(t *testing.T) {
	k := startKernel(t, nil)
	dir, err := os.MkdirTemp("/tmp", ".exehash-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	miner := filepath.Join(dir, "xmrig")
	b, err := os.ReadFile(fakeMiner(t))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(miner, b, 0o755))
	want := fileSHA256(t, miner)
	out, err := exec.Command("sha256sum", miner).Output()
	require.NoError(t, err)
	require.Equal(t, want, string(out[:64]), "sha256sum agrees")

	run := func(memfd bool) *exec.Cmd {
		cmd := exec.Command(miner, "-o", "stratum+tcp://127.0.0.1:1", "-u", "x")
		cmd.Env = []string{"CHAINSIM_MODE=fpu-once", "CHAINSIM_DURATION=3s"}
		if memfd {
			cmd.Env = append(cmd.Env, "CHAINSIM_MEMFD=1")
		}
		require.NoError(t, cmd.Start())
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		return cmd
	}

	t.Run("file", func(t *testing.T) {
		cmd := run(false)
		f := k.wait(t, "cryptochain.process.exec of the miner", func(f flat) bool {
			return f.lr.EventName() == "cryptochain.process.exec" && pidIs(f, cmd.Process.Pid)
		})
		assert.Equal(t, want, str(f.lr.Attributes(), "cryptochain.process.executable.hash.sha256"))
		assert.Empty(t, str(f.lr.Attributes(), "cryptochain.process.executable.hash.skipped"))
	})

	t.Run("memfd", func(t *testing.T) {
		cmd := run(true)
		f := k.wait(t, "cryptochain.process.exec from the memfd", func(f flat) bool {
			return f.lr.EventName() == "cryptochain.process.exec" && pidIs(f, cmd.Process.Pid) &&
				str(f.lr.Attributes(), "cryptochain.process.exe.memfd") == "true"
		})
		assert.Equal(t, want, str(f.lr.Attributes(), "cryptochain.process.executable.hash.sha256"))
	})

	t.Run("an unflagged exec is not hashed", func(t *testing.T) {
		pid, _ := runOut(t, exec.Command("/bin/true"))
		f := k.wait(t, "cryptochain.process.exec of /bin/true", func(f flat) bool {
			return f.lr.EventName() == "cryptochain.process.exec" && pidIs(f, pid)
		})
		_, ok := f.lr.Attributes().Get("cryptochain.process.executable.hash.sha256")
		assert.False(t, ok)
	})
}
