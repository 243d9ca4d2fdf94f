package e2e

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// TestDaemonSetShape checks what the issue asks of the agent DaemonSet:
// privileged, host pid namespace, host /proc and cgroupfs read-only, limits.
func TestDaemonSetShape(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "deploy", "kubernetes", "base", "daemonset.yaml"))
	require.NoError(t, err)
	var ds struct {
		Kind string `yaml:"kind"`
		Spec struct {
			Template struct {
				Spec struct {
					HostPID    bool `yaml:"hostPID"`
					Containers []struct {
						Args            []string `yaml:"args"`
						SecurityContext struct {
							Privileged bool `yaml:"privileged"`
						} `yaml:"securityContext"`
						Resources struct {
							Limits map[string]string `yaml:"limits"`
						} `yaml:"resources"`
						VolumeMounts []struct {
							Name      string `yaml:"name"`
							MountPath string `yaml:"mountPath"`
							ReadOnly  bool   `yaml:"readOnly"`
						} `yaml:"volumeMounts"`
					} `yaml:"containers"`
					Volumes []struct {
						Name     string `yaml:"name"`
						HostPath struct {
							Path string `yaml:"path"`
						} `yaml:"hostPath"`
					} `yaml:"volumes"`
				} `yaml:"spec"`
			} `yaml:"template"`
		} `yaml:"spec"`
	}
	// The first document is the DaemonSet.
	require.NoError(t, yaml.NewDecoder(bytesReader(b)).Decode(&ds))
	require.Equal(t, "DaemonSet", ds.Kind)
	pod := ds.Spec.Template.Spec
	assert.True(t, pod.HostPID, "hostPID")
	require.Len(t, pod.Containers, 1)
	c := pod.Containers[0]
	assert.True(t, c.SecurityContext.Privileged, "privileged")
	assert.NotEmpty(t, c.Resources.Limits["cpu"])
	assert.NotEmpty(t, c.Resources.Limits["memory"])
	hostPath := map[string]string{}
	for _, v := range pod.Volumes {
		hostPath[v.Name] = v.HostPath.Path
	}
	ro := map[string]bool{}
	for _, m := range c.VolumeMounts {
		if m.ReadOnly {
			ro[hostPath[m.Name]] = true
		}
	}
	assert.True(t, ro["/proc"], "host /proc mounted read-only")
	assert.True(t, ro["/sys/fs/cgroup"], "host cgroupfs mounted read-only")
}

// TestKustomizationsResolve checks that every file or directory a
// kustomization names exists (what `kubectl kustomize` would trip on first),
// without needing kubectl.
func TestKustomizationsResolve(t *testing.T) {
	for _, dir := range []string{"base", "standalone", "gateway"} {
		root := filepath.Join(repoRoot, "deploy", "kubernetes", dir)
		b, err := os.ReadFile(filepath.Join(root, "kustomization.yaml"))
		require.NoError(t, err)
		var k struct {
			Resources          []string `yaml:"resources"`
			ConfigMapGenerator []struct {
				Files []string `yaml:"files"`
			} `yaml:"configMapGenerator"`
		}
		require.NoError(t, yaml.Unmarshal(b, &k), dir)
		refs := append([]string(nil), k.Resources...)
		for _, g := range k.ConfigMapGenerator {
			refs = append(refs, g.Files...)
		}
		require.NotEmpty(t, refs, dir)
		for _, r := range refs {
			_, err := os.Stat(filepath.Join(root, r))
			assert.NoError(t, err, "%s/kustomization.yaml names %s", dir, r)
		}
	}
}
