package process

import (
	"strings"

	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/workload"
)

// cgroupIdentity is what a cgroup path says about the workload.
type cgroupIdentity struct {
	ContainerID string // full 64-hex container id, "" on the host
	Runtime     string // docker, containerd, crio, podman, "" when unknown
	PodUID      string // k8s pod uid with dashes, "" outside kubepods
}

// parseCgroup reads the container id and pod uid out of a cgroup path. It knows the layouts of docker
// (systemd and cgroupfs drivers), containerd/CRI, cri-o and podman/libpod, under kubepods or not.
// The innermost container id wins (a container nested in a pod slice).
func parseCgroup(path string) cgroupIdentity {
	var id cgroupIdentity
	for seg := range strings.SplitSeq(path, "/") {
		if seg == "" {
			continue
		}
		// containerd with the systemd driver on cgroup v1 style: <pod slice>:cri-containerd:<id>
		if parts := strings.Split(seg, ":"); len(parts) == 3 && workload.IsHex64(parts[2]) {
			if uid := podUID(parts[0]); uid != "" {
				id.PodUID = uid
			}
			rt := parts[1]
			if rt == "cri-containerd" {
				rt = "containerd"
			}
			id.ContainerID, id.Runtime = parts[2], rt
			continue
		}
		if uid := podUID(seg); uid != "" {
			id.PodUID = uid
			continue
		}
		if cid, rt := containerID(seg); cid != "" {
			id.ContainerID, id.Runtime = cid, rt
		}
	}
	// cgroupfs driver layouts name the container by its bare id after a runtime directory
	// (/docker/<id>, /kubepods/besteffort/pod<uid>/<id>).
	if id.ContainerID == "" {
		segs := strings.Split(strings.Trim(path, "/"), "/")
		for i := len(segs) - 1; i >= 1; i-- {
			if !workload.IsHex64(segs[i]) {
				continue
			}
			switch prev := segs[i-1]; {
			case prev == "docker":
				id.ContainerID, id.Runtime = segs[i], "docker"
			case strings.HasPrefix(prev, "pod"):
				id.ContainerID = segs[i]
			case prev == "libpod_parent" || prev == "machine.slice":
				id.ContainerID, id.Runtime = segs[i], "podman"
			}
			if id.ContainerID != "" {
				break
			}
		}
	}
	return id
}

var runtimePrefixes = []struct{ prefix, runtime string }{
	{"docker-", "docker"},
	{"cri-containerd-", "containerd"},
	{"containerd-", "containerd"},
	{"crio-conmon-", ""}, // the conmon monitor of a cri-o container, not the container
	{"crio-", "crio"},
	{"libpod-conmon-", ""},
	{"libpod-", "podman"},
}

// containerID recognises one path segment like docker-<id>.scope or libpod-<id>.
func containerID(seg string) (string, string) {
	for _, rp := range runtimePrefixes {
		if !strings.HasPrefix(seg, rp.prefix) {
			continue
		}
		if rp.runtime == "" {
			return "", ""
		}
		rest := strings.TrimSuffix(strings.TrimPrefix(seg, rp.prefix), ".scope")
		if workload.IsHex64(rest) {
			return rest, rp.runtime
		}
		return "", ""
	}
	return "", ""
}

// podUID recognises kubepods-burstable-pod<uid_with_underscores>.slice and pod<uid>.
func podUID(seg string) string {
	s := seg
	if strings.HasPrefix(s, "kubepods-") {
		s = strings.TrimSuffix(s, ".slice")
		i := strings.LastIndex(s, "-pod")
		if i < 0 {
			return ""
		}
		s = s[i+len("-pod"):]
		s = strings.ReplaceAll(s, "_", "-")
	} else if strings.HasPrefix(s, "pod") {
		s = s[len("pod"):]
	} else {
		return ""
	}
	if workload.IsUUID(s) {
		return s
	}
	return ""
}
