package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// reexecFromMemfd copies the running executable into an anonymous memfd and
// executes it from there, as fileless droppers do; the new image runs
// without CHAINSIM_MEMFD so it does not loop.
func reexecFromMemfd() error {
	src, err := os.Open("/proc/self/exe")
	if err != nil {
		return err
	}
	defer src.Close()
	fd, err := unix.MemfdCreate("", 0)
	if err != nil {
		return err
	}
	dst := os.NewFile(uintptr(fd), "memfd")
	if _, err := io.Copy(dst, src); err != nil {
		return err
	}
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "CHAINSIM_MEMFD=") {
			env = append(env, e)
		}
	}
	return unix.Exec(fmt.Sprintf("/proc/self/fd/%d", fd), os.Args, env)
}

// setComm renames the process the way miners hide as kernel threads.
// /proc/self/comm names the thread-group leader, whichever thread runs this.
func setComm(name string) error {
	return os.WriteFile("/proc/self/comm", []byte(name), 0)
}
