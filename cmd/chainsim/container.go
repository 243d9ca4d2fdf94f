package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/cryptochain-otel/cryptochain/internal/sim/netns"
	"github.com/cryptochain-otel/cryptochain/internal/sim/scenario"
)

// podman flags that work on this platform (hybrid cgroups): runc + cgroupfs.
var podmanBase = []string{"--runtime", "runc", "--cgroup-manager", "cgroupfs"}

// buildImage imports a local image made of busybox and the fake miner (no
// registry is ever contacted); it is removed again when the play ends.
func (p *player) buildImage(minerName string) (string, error) {
	busybox, err := exec.LookPath("busybox")
	if err != nil {
		return "", fmt.Errorf("busybox-static is needed for the container scenario: %w", err)
	}
	src, err := exec.LookPath(p.o.fakeminer)
	if err != nil {
		return "", err
	}
	root, err := p.installDir("")
	if err != nil {
		return "", err
	}
	rootfs := filepath.Join(root, "rootfs")
	for _, d := range []string{"bin", "etc", "tmp", "proc", "sys", "dev"} {
		if err := os.MkdirAll(filepath.Join(rootfs, d), 0o755); err != nil {
			return "", err
		}
	}
	if err := copyExecutable(busybox, filepath.Join(rootfs, "bin", "busybox")); err != nil {
		return "", err
	}
	if err := os.Symlink("busybox", filepath.Join(rootfs, "bin", "sh")); err != nil {
		return "", err
	}
	if err := copyExecutable(src, filepath.Join(rootfs, "bin", minerName)); err != nil {
		return "", err
	}
	tarPath := filepath.Join(root, "img.tar")
	if out, err := exec.Command("tar", "-C", rootfs, "-cf", tarPath, ".").CombinedOutput(); err != nil {
		return "", fmt.Errorf("tar: %w: %s", err, out)
	}
	image := fmt.Sprintf("localhost/chainsim-miner:%d", os.Getpid())
	if err := p.j.Undo("podman", "rmi", "-f", image); err != nil {
		return "", err
	}
	if out, err := exec.Command("podman", "import", tarPath, image).CombinedOutput(); err != nil {
		return "", fmt.Errorf("podman import: %w: %s", err, out)
	}
	return image, nil
}

// container runs the fake miner in a real podman container that joins the
// simulator's network namespace (so its pool is the fake one) and reads
// that namespace's resolv.conf.
func (p *player) container(c *scenario.Container) error {
	name := c.Name
	if name == "" {
		name = "xmrig"
	}
	image, err := p.buildImage(name)
	if err != nil {
		return err
	}
	ctrName := fmt.Sprintf("chainsim-%d", os.Getpid())
	cidDir, err := p.installDir("")
	if err != nil {
		return err
	}
	cidFile := filepath.Join(cidDir, "cid")
	if err := p.j.Undo("podman", "rm", "-f", "--ignore", ctrName); err != nil {
		return err
	}
	args := append(append([]string(nil), podmanBase...), "run", "--rm", "--name", ctrName, "--cidfile", cidFile,
		"--network", "ns:"+netns.Path(p.ns),
		"-v", filepath.Join(netns.ResolvConfDir(p.ns), "resolv.conf")+":/etc/resolv.conf:ro",
		"--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024")
	for _, e := range minerEnv(c.Duration, false, false, "") {
		args = append(args, "-e", e)
	}
	args = append(args, image, "/bin/"+name)
	args = append(args, c.Args...)
	cmd := exec.CommandContext(p.ctx, "podman", args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	// The container id is known once podman has created it.
	deadline := time.Now().Add(20 * time.Second)
	for p.res.ContainerID == "" && time.Now().Before(deadline) {
		if b, err := os.ReadFile(cidFile); err == nil && len(strings.TrimSpace(string(b))) == 64 {
			p.res.ContainerID = strings.TrimSpace(string(b))
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The miner's host pid, for tying findings to this run.
	if p.res.ContainerID != "" {
		if out, err := exec.Command("podman", "inspect", "--format", "{{.State.Pid}}", p.res.ContainerID).Output(); err == nil {
			var pid int
			if _, err := fmt.Sscan(strings.TrimSpace(string(out)), &pid); err == nil && pid > 0 {
				p.res.MinerPids = append(p.res.MinerPids, pid)
				p.res.Pids = append(p.res.Pids, pid)
			}
		}
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("podman run: %w", err)
	}
	return nil
}
