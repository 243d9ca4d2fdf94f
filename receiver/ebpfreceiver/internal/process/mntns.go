package process

import (
	"os"
	"path/filepath"
	"strings"
)

// HostMountNamespace is the inode of the host's (the initial) mount namespace. kthreadd (pid 2)
// always lives in it and its namespace stays readable where pid 1's is not (a sandbox or a
// container with host PIDs whose pid 1 refuses ptrace access), so it is asked first; then pid 1;
// else the receiver's own, which is the host's when it runs on the host. 0 when none can be read.
func HostMountNamespace(procfsRoot string) uint32 {
	if comm, err := os.ReadFile(filepath.Join(procfsRoot, "2/comm")); err == nil && strings.TrimSpace(string(comm)) == "kthreadd" {
		if ino := statInode(filepath.Join(procfsRoot, "2/ns/mnt")); ino != 0 {
			return uint32(ino)
		}
	}
	if ino := statInode(filepath.Join(procfsRoot, "1/ns/mnt")); ino != 0 {
		return uint32(ino)
	}
	return uint32(statInode("/proc/self/ns/mnt"))
}
