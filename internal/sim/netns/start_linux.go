package netns

import "os/exec"

// Start starts cmd inside namespace name: the fork happens on a thread that
// has joined the namespace, so the child (and everything it starts) lives
// there while chainsim itself stays on the host. Unlike `ip netns exec`
// there is no intermediate exec: the target's exec is the only one, with
// chainsim as its parent. The child sees the host's /etc/resolv.conf; the
// fake miner finds its namespace's resolv.conf itself (see Identify).
func Start(name string, cmd *exec.Cmd) error {
	return Do(name, cmd.Start)
}
