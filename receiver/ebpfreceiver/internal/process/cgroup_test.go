package process

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	id64  = "3f1a2b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7a8"
	podID = "1c9e5c8a-6b1d-4f2e-9a3b-7d8e9f0a1b2c"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name, path string
		want       cgroupIdentity
	}{
		{"host", "/user.slice/user-0.slice/session-3.scope", cgroupIdentity{}},
		{"root", "/", cgroupIdentity{}},
		{"docker systemd", "/system.slice/docker-" + id64 + ".scope", cgroupIdentity{ContainerID: id64, Runtime: "docker"}},
		{"docker cgroupfs", "/docker/" + id64, cgroupIdentity{ContainerID: id64, Runtime: "docker"}},
		{"containerd cri", "/system.slice/containerd.service/kubepods-burstable-pod1c9e5c8a_6b1d_4f2e_9a3b_7d8e9f0a1b2c.slice:cri-containerd:" + id64,
			cgroupIdentity{ContainerID: id64, Runtime: "containerd", PodUID: podID}},
		{"containerd cri systemd", "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1c9e5c8a_6b1d_4f2e_9a3b_7d8e9f0a1b2c.slice/cri-containerd-" + id64 + ".scope",
			cgroupIdentity{ContainerID: id64, Runtime: "containerd", PodUID: podID}},
		{"crio", "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1c9e5c8a_6b1d_4f2e_9a3b_7d8e9f0a1b2c.slice/crio-" + id64 + ".scope",
			cgroupIdentity{ContainerID: id64, Runtime: "crio", PodUID: podID}},
		{"crio conmon is not the container", "/machine.slice/crio-conmon-" + id64 + ".scope", cgroupIdentity{}},
		{"kubepods cgroupfs", "/kubepods/besteffort/pod" + podID + "/" + id64, cgroupIdentity{ContainerID: id64, PodUID: podID}},
		{"kubepods guaranteed cgroupfs", "/kubepods/pod" + podID + "/" + id64, cgroupIdentity{ContainerID: id64, PodUID: podID}},
		{"podman cgroupfs", "/libpod_parent/libpod-" + id64, cgroupIdentity{ContainerID: id64, Runtime: "podman"}},
		{"podman systemd", "/machine.slice/libpod-" + id64 + ".scope", cgroupIdentity{ContainerID: id64, Runtime: "podman"}},
		{"podman conmon", "/machine.slice/libpod-conmon-" + id64 + ".scope", cgroupIdentity{}},
		{"podman nested payload", "/machine.slice/libpod-" + id64 + ".scope/container", cgroupIdentity{ContainerID: id64, Runtime: "podman"}},
		{"short id ignored", "/docker/abc123", cgroupIdentity{}},
		{"hostile", "/docker-" + id64 + "zz.scope/pod/..//\x00", cgroupIdentity{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, parseCgroup(tt.path))
		})
	}
}

func TestFindCgroup2Mount(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "mounts")
	require.NoError(t, os.WriteFile(f, []byte(
		"sysfs /sys sysfs rw 0 0\ncgroup /sys/fs/cgroup/memory cgroup rw,memory 0 0\ncgroup2 /sys/fs/cgroup/un\\040ified cgroup2 rw 0 0\n"), 0o600))
	assert.Equal(t, "/sys/fs/cgroup/un ified", FindCgroup2Mount(f))
	assert.Equal(t, "", FindCgroup2Mount(filepath.Join(dir, "missing")))
}

func TestCgroupResolver(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "libpod_parent", "libpod-"+id64), 0o755))
	ino := func(p string) uint64 {
		var st syscall.Stat_t
		require.NoError(t, syscall.Stat(filepath.Join(root, p), &st))
		return st.Ino
	}
	r := newCgroupResolver(root)
	r.minRewalk = 0
	p, ok := r.path(ino("libpod_parent/libpod-" + id64))
	require.True(t, ok)
	assert.Equal(t, "/libpod_parent/libpod-"+id64, p)
	// A cgroup created later is found by a re-walk on miss.
	require.NoError(t, os.MkdirAll(filepath.Join(root, "late"), 0o755))
	p, ok = r.path(ino("late"))
	require.True(t, ok)
	assert.Equal(t, "/late", p)
	// Misses are rate-limited: a cgroup created within minRewalk of the last walk is not found yet.
	r.minRewalk = 1 << 40
	_, ok = r.path(12345678901)
	assert.False(t, ok)
	require.NoError(t, os.MkdirAll(filepath.Join(root, "later"), 0o755))
	_, ok = r.path(ino("later"))
	assert.False(t, ok, "misses within minRewalk must not walk again")
	r.minRewalk = 0
	_, ok = r.path(ino("later"))
	assert.True(t, ok, "found once a walk is allowed")
}

func TestCgroupResolverRealMount(t *testing.T) {
	root := FindCgroup2Mount("/proc/mounts")
	if root == "" {
		t.Skip("no cgroup2 mount on this machine")
	}
	var st syscall.Stat_t
	require.NoError(t, syscall.Stat(root, &st))
	p, ok := newCgroupResolver(root).path(st.Ino)
	require.True(t, ok)
	assert.Equal(t, "/", p)
}
