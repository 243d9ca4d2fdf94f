package process

import "path/filepath"

// HostMountNamespace is the inode of the host's mount namespace: pid 1's under procfsRoot, else
// (pid 1 not readable) the receiver's own, which is the host's when it runs on the host. 0 when
// neither can be read.
func HostMountNamespace(procfsRoot string) uint32 {
	if ino := statInode(filepath.Join(procfsRoot, "1/ns/mnt")); ino != 0 {
		return uint32(ino)
	}
	return uint32(statInode("/proc/self/ns/mnt"))
}
