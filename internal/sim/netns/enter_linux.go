package netns

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"

	"golang.org/x/sys/unix"
)

// EnterArg is the hidden argument on which a simulator binary calls
// EnterAndExec (see Command).
const EnterArg = "__netns-exec"

// enterRequest travels over a pipe, not argv or the environment, so the
// helper's own exec carries none of the target's command line.
type enterRequest struct {
	Netns string   `json:"netns"`
	Path  string   `json:"path"`
	Argv  []string `json:"argv"`
}

// Command returns a command that runs path with argv (argv[0] included)
// inside namespace name with the namespace's resolv.conf, like `ip netns
// exec`, but through a re-exec of self so the target's exec is the only one
// that carries its arguments. self is the simulator binary that calls
// EnterAndExec when started with EnterArg.
func Command(ctx context.Context, self, name, path string, argv []string) (*exec.Cmd, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	b, _ := json.Marshal(enterRequest{Netns: name, Path: path, Argv: argv})
	go func() {
		_, _ = w.Write(b)
		_ = w.Close()
	}()
	cmd := exec.CommandContext(ctx, self, EnterArg)
	cmd.ExtraFiles = []*os.File{r} // fd 3
	return cmd, nil
}

// EnterAndExec runs in the helper: it reads the request from fd 3, joins
// the network namespace, gives itself a private mount namespace with the
// namespace's resolv.conf over /etc/resolv.conf, and execs the target.
// It only returns on error.
func EnterAndExec() error {
	runtime.LockOSThread() // namespaces are per thread until the exec
	f := os.NewFile(3, "request")
	b, err := io.ReadAll(io.LimitReader(f, 1<<20))
	_ = f.Close()
	if err != nil {
		return err
	}
	var req enterRequest
	if err := json.Unmarshal(b, &req); err != nil {
		return fmt.Errorf("request: %w", err)
	}
	if req.Netns == "" || req.Path == "" || len(req.Argv) == 0 {
		return errors.New("request: netns, path and argv are required")
	}
	ns, err := os.Open(Path(req.Netns))
	if err != nil {
		return err
	}
	if err := unix.Setns(int(ns.Fd()), unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("setns %s: %w", req.Netns, err)
	}
	_ = ns.Close()
	if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
		return fmt.Errorf("unshare mount namespace: %w", err)
	}
	// Nothing mounted here may leak back to the host.
	if err := unix.Mount("", "/", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("make / a slave mount: %w", err)
	}
	conf := ResolvConfDir(req.Netns) + "/resolv.conf"
	if err := unix.Mount(conf, "/etc/resolv.conf", "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind %s over /etc/resolv.conf: %w", conf, err)
	}
	return unix.Exec(req.Path, req.Argv, os.Environ())
}
