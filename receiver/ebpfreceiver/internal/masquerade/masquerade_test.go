package masquerade

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestUnusualLocation(t *testing.T) {
	for exe, want := range map[string]bool{
		"/tmp/xmrig": true, "/var/tmp/.x/run": true, "/dev/shm/k": true, "/root/.cache/.x/kworker": true,
		"/home/u/.local/bin/tool": true, // hidden directory
		"/usr/bin/python3.11":     false, "/opt/metrics/kworker-metrics": false, "/usr/local/bin/node": false,
		"/memfd:x (deleted)": true, "/": false,
	} {
		assert.Equal(t, want, UnusualLocation(exe, false, false), exe)
	}
	assert.True(t, UnusualLocation("/usr/bin/x", true, false))
	assert.True(t, UnusualLocation("/usr/bin/x", false, true))
}

func TestNameMismatch(t *testing.T) {
	tests := []struct {
		argv0, filename, exe string
		script, want         bool
	}{
		{"sh", "/bin/sh", "/usr/bin/dash", false, false},
		{"-bash", "/bin/bash", "/usr/bin/bash", false, false},
		{"python3", "/usr/bin/python3", "/usr/bin/python3.11", false, false},
		{"python3", "python3", "/usr/bin/python3.11", false, false},
		{"sh", "/bin/sh", "/bin/busybox", false, false},
		{"[kworker/0:1]", "/tmp/.x/xmrig", "/tmp/.x/xmrig", false, true},
		{"sshd", "./kdevtmpfsi", "/tmp/kdevtmpfsi", false, true},
		{"/usr/bin/myscript", "/usr/bin/myscript", "/usr/bin/python3.11", true, false},
		{"", "/bin/true", "/bin/true", false, false},
		{"sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups", "/usr/sbin/sshd", "/usr/sbin/sshd", false, false},
		{"postgres: checkpointer", "/usr/lib/postgresql/15/bin/postgres", "/usr/lib/postgresql/15/bin/postgres", false, false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, NameMismatch(tt.argv0, tt.filename, tt.exe, tt.script), "%+v", tt)
	}
}

func TestKthreadLike(t *testing.T) {
	for name, want := range map[string]bool{
		"[kthreadd]": true, "kworker/0:1H": true, "kworker": true, "kdevtmpfsi": true, "kworkerds": true,
		"kswapd0": true, "[": false, "kworker-metrics": false, "kubelet": false, "xmrig": false, "ksoftirqd/1": true,
		"migrations-runner": false,
	} {
		assert.Equal(t, want, KthreadLike(name), name)
	}
}
