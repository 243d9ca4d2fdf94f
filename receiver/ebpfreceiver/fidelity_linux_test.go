//go:build linux && amd64

package ebpfreceiver

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The receiver end to end on the real kernel: cron tables written through respelled paths are
// records of the canonical path, with their content read back; a chrooted write is marked; an
// orphan of a double fork acts in its creator's context; flags after filler arguments reach
// process.command_args.
func TestKernelEvidenceFidelity(t *testing.T) {
	k := startKernel(t, nil)

	t.Run("respelled cron paths", func(t *testing.T) {
		name := randName("cryptochain-respelled-")
		link := filepath.Join(t.TempDir(), "cronlink")
		require.NoError(t, os.Symlink("/etc/cron.d", link))
		line := "@reboot root /tmp/.cryptochain-test/run\n"
		for i, p := range []string{"/etc//cron.d//%s", "/etc/./cron.d/../cron.d/%s", link + "/%s", "/proc/self/root/etc/cron.d/%s"} {
			canonical := fmt.Sprintf("/etc/cron.d/%s-%d", name, i)
			t.Cleanup(func() { _ = os.Remove(canonical) })
			pid, out := runOut(t, helper("write", fmt.Sprintf(p, name+"-"+strconv.Itoa(i)), line))
			require.Empty(t, out)
			f := k.wait(t, "write of "+canonical, func(f flat) bool {
				return f.lr.EventName() == "cryptochain.file.write" && pidIs(f, pid) && str(f.lr.Attributes(), "file.path") == canonical
			})
			a := f.lr.Attributes()
			assert.Equal(t, "true", str(a, "cryptochain.file.resolved"), p)
			assert.Empty(t, str(a, "cryptochain.file.root"), p)
			assert.Equal(t, line, str(a, "cryptochain.file.content"), "%s: read back from the canonical path", p)
		}
	})

	t.Run("chrooted cron write", func(t *testing.T) {
		busybox, err := os.ReadFile("/bin/busybox")
		if err != nil {
			t.Skip("busybox-static not installed")
		}
		root := t.TempDir()
		require.NoError(t, os.MkdirAll(filepath.Join(root, "bin"), 0o755))
		require.NoError(t, os.MkdirAll(filepath.Join(root, "var/spool/cron/crontabs"), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(root, "bin/busybox"), busybox, 0o755))
		cmd := exec.Command("chroot", root, "/bin/busybox", "sh", "-c", "echo '* * * * * /x' > /var/spool/cron/crontabs/root")
		pid, out := runOut(t, cmd)
		require.Empty(t, out)
		f := k.wait(t, "chrooted write", func(f flat) bool {
			return f.lr.EventName() == "cryptochain.file.write" && pidIs(f, pid)
		})
		a := f.lr.Attributes()
		assert.Equal(t, "/var/spool/cron/crontabs/root", str(a, "file.path"), "relative to the chroot")
		assert.Equal(t, "chroot", str(a, "cryptochain.file.root"))
	})

	t.Run("double-forked orphan", func(t *testing.T) {
		marker := randName("marker-orphan-")
		cmd := exec.Command("/bin/sh", "-c", `( ( sleep 0.3; exec /bin/true "$0" ) & ); exit 0`, marker)
		pid, _ := runOut(t, cmd)
		sh := k.wait(t, "dropper exec", func(f flat) bool {
			return f.lr.EventName() == "cryptochain.process.exec" && pidIs(f, pid)
		})
		orphan := k.wait(t, "orphan exec", func(f flat) bool {
			args := sliceOf(f.lr.Attributes(), "process.command_args")
			return f.lr.EventName() == "cryptochain.process.exec" && len(args) == 2 && args[1] == marker
		})
		a := orphan.lr.Attributes()
		assert.Equal(t, "fork", str(a, "cryptochain.process.lineage"))
		assert.Equal(t, strconv.Itoa(pid), str(a, "cryptochain.process.creator.pid"))
		assert.NotEqual(t, strconv.Itoa(pid), str(a, "process.parent_pid"), "reparented")
		assert.Equal(t, int64(pid), sliceOf(a, "cryptochain.process.ancestors")[0], "the creator is its parent in the lineage")
		assert.Equal(t, str(sh.res, "cryptochain.context.id"), str(orphan.res, "cryptochain.context.id"), "the creator's context")
	})

	t.Run("padded argv", func(t *testing.T) {
		args := make([]string, 0, 3010)
		for i := 0; i < 3000; i++ {
			args = append(args, fmt.Sprintf("--opt-%d=value-%d", i, i))
		}
		marker := randName("marker-padded-")
		args = append(args, "-o", "pool.example.test:443", "-u", marker)
		pid, _ := runOut(t, exec.Command("/bin/true", args...))
		f := k.wait(t, "padded exec", func(f flat) bool {
			return f.lr.EventName() == "cryptochain.process.exec" && pidIs(f, pid)
		})
		a := f.lr.Attributes()
		got := sliceOf(a, "process.command_args")
		require.GreaterOrEqual(t, len(got), 5)
		assert.Equal(t, []any{"-o", "pool.example.test:443", "-u", marker}, got[len(got)-4:])
		assert.Equal(t, "--opt-0=value-0", got[1])
		assert.NotEmpty(t, str(a, "cryptochain.process.args_skipped_bytes"))
		assert.Equal(t, "3005", str(a, "process.args_count"))
	})
}
