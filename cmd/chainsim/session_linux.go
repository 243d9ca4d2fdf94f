package main

import (
	"errors"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// inNewSession re-executes chainsim as the leader of a new session, so each
// scenario is its own execution context (a `setsid`-started, daemonized
// entry point) and unrelated scenarios never merge into one chain. It
// reports handled=false when this process already leads its session.
func inNewSession() (handled bool, err error) {
	if sid, _ := unix.Getsid(0); sid == os.Getpid() {
		return false, nil
	}
	cmd := exec.Command("/proc/self/exe", os.Args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return true, err
	}
	// The child restores its own changes; pass interrupts on and wait.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		for s := range sigs {
			_ = cmd.Process.Signal(s)
		}
	}()
	err = cmd.Wait()
	signal.Stop(sigs)
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		os.Exit(ee.ExitCode())
	}
	return true, err
}
