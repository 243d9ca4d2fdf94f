// Package netns creates a loopback-only network namespace (own resolv.conf at 127.0.0.1) and runs code
// in it, so nothing can leave the machine; it must not know what the code it runs does.
package netns // import "github.com/cryptochain-otel/cryptochain/internal/sim/netns"

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/cryptochain-otel/cryptochain/internal/sim/journal"
)

// Path returns the bind-mount path of a named namespace.
func Path(name string) string { return filepath.Join("/run/netns", name) }

// ResolvConfDir is the directory `ip netns exec` bind-mounts over /etc.
func ResolvConfDir(name string) string { return filepath.Join("/etc/netns", name) }

// Create makes namespace name with only loopback up and a resolv.conf that
// sends DNS to 127.0.0.1 inside it. Every change is recorded in j first.
func Create(j *journal.Journal, name string) error {
	if err := j.Netns(name); err != nil {
		return err
	}
	if err := ip("netns", "add", name); err != nil {
		return err
	}
	if err := ip("-n", name, "link", "set", "lo", "up"); err != nil {
		return err
	}
	dir := ResolvConfDir(name)
	if _, err := os.Stat(dir); err == nil {
		return fmt.Errorf("%s already exists; refusing to touch it", dir)
	}
	if err := j.Created(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "resolv.conf"), []byte("nameserver 127.0.0.1\noptions timeout:1 attempts:2\n"), 0o644)
}

// Do runs fn on an OS thread that has joined namespace name. Sockets created
// by fn stay in that namespace after Do returns, so servers can be started
// here and served from any goroutine.
func Do(name string, fn func() error) error {
	target, err := os.Open(Path(name))
	if err != nil {
		return fmt.Errorf("open netns %s: %w", name, err)
	}
	defer target.Close()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// The thread is not unlocked: if switching back failed it must die
		// with the goroutine rather than serve other goroutines in the netns.
		orig, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
		if err != nil {
			errc <- err
			return
		}
		defer orig.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", name, err)
			return
		}
		ferr := fn()
		if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns back: %w", err)
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

func ipPath() string {
	if p, err := exec.LookPath("ip"); err == nil {
		return p
	}
	return "/usr/sbin/ip"
}

func ip(args ...string) error {
	out, err := exec.Command(ipPath(), args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
