package e2e

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// chartDir is the Helm chart; Helm itself runs as a Go tool of internal/tools.
var chartDir = filepath.Join(repoRoot, "deploy", "helm", "otelcol-cryptochain")

// The parts of Kubernetes objects the deployment tests look at.
type (
	k8sObject struct {
		Kind     string `yaml:"kind"`
		Metadata struct {
			Name string `yaml:"name"`
		} `yaml:"metadata"`
		Data map[string]string `yaml:"data"`
		Spec struct {
			Template struct {
				Spec podSpec `yaml:"spec"`
			} `yaml:"template"`
		} `yaml:"spec"`
	}
	podSpec struct {
		HostPID                      bool              `yaml:"hostPID"`
		HostNetwork                  bool              `yaml:"hostNetwork"`
		AutomountServiceAccountToken *bool             `yaml:"automountServiceAccountToken"`
		NodeSelector                 map[string]string `yaml:"nodeSelector"`
		SecurityContext              struct {
			RunAsUser  *int64 `yaml:"runAsUser"`
			RunAsGroup *int64 `yaml:"runAsGroup"`
			FSGroup    *int64 `yaml:"fsGroup"`
		} `yaml:"securityContext"`
		Containers []container `yaml:"containers"`
		Volumes    []volume    `yaml:"volumes"`
	}
	container struct {
		Name  string   `yaml:"name"`
		Image string   `yaml:"image"`
		Args  []string `yaml:"args"`
		Env   []envVar `yaml:"env"`
		Ports []struct {
			Name          string `yaml:"name"`
			ContainerPort int    `yaml:"containerPort"`
		} `yaml:"ports"`
		StartupProbe    *probe `yaml:"startupProbe"`
		LivenessProbe   *probe `yaml:"livenessProbe"`
		ReadinessProbe  *probe `yaml:"readinessProbe"`
		SecurityContext struct {
			RunAsUser                *int64 `yaml:"runAsUser"`
			RunAsGroup               *int64 `yaml:"runAsGroup"`
			Privileged               *bool  `yaml:"privileged"`
			AllowPrivilegeEscalation *bool  `yaml:"allowPrivilegeEscalation"`
			ReadOnlyRootFilesystem   bool   `yaml:"readOnlyRootFilesystem"`
			Capabilities             struct {
				Add  []string `yaml:"add"`
				Drop []string `yaml:"drop"`
			} `yaml:"capabilities"`
			SeccompProfile struct {
				Type string `yaml:"type"`
			} `yaml:"seccompProfile"`
		} `yaml:"securityContext"`
		Resources struct {
			Limits map[string]string `yaml:"limits"`
		} `yaml:"resources"`
		VolumeMounts []struct {
			Name      string `yaml:"name"`
			MountPath string `yaml:"mountPath"`
			ReadOnly  bool   `yaml:"readOnly"`
		} `yaml:"volumeMounts"`
	}
	envVar struct {
		Name      string `yaml:"name"`
		Value     string `yaml:"value"`
		ValueFrom *struct {
			FieldRef *struct {
				FieldPath string `yaml:"fieldPath"`
			} `yaml:"fieldRef"`
			SecretKeyRef *struct {
				Name string `yaml:"name"`
				Key  string `yaml:"key"`
			} `yaml:"secretKeyRef"`
		} `yaml:"valueFrom"`
	}
	probe struct {
		HTTPGet *struct {
			Path string `yaml:"path"`
			Port string `yaml:"port"`
		} `yaml:"httpGet"`
	}
	volume struct {
		Name     string `yaml:"name"`
		HostPath *struct {
			Path string `yaml:"path"`
			Type string `yaml:"type"`
		} `yaml:"hostPath"`
		ConfigMap *struct {
			Name string `yaml:"name"`
		} `yaml:"configMap"`
		Secret *struct {
			SecretName  string `yaml:"secretName"`
			DefaultMode *int   `yaml:"defaultMode"`
		} `yaml:"secret"`
		EmptyDir *struct{} `yaml:"emptyDir"`
	}
)

// rendered is the output of `helm template`, by kind and name.
type rendered map[string]*k8sObject

func (r rendered) get(t *testing.T, kind, name string) *k8sObject {
	t.Helper()
	o, ok := r[kind+"/"+name]
	require.True(t, ok, "the chart renders no %s %s (have %v)", kind, name, slices.Sorted(mapKeys(r)))
	return o
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// helm runs the Helm Go tool in the repository root.
func helm(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", append([]string{"tool", "-modfile=internal/tools/go.mod", "helm"}, args...)...)
	cmd.Dir = repoRoot
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "helm %s:\n%s\n%s", strings.Join(args, " "), out, stderr.String())
	return string(out)
}

// renderChart runs `helm template` (release and namespace `cryptochain`) with --set values.
func renderChart(t *testing.T, set ...string) (rendered, string) {
	t.Helper()
	args := []string{"template", "cryptochain", chartDir, "--namespace", "cryptochain"}
	for _, s := range set {
		args = append(args, "--set", s)
	}
	out := helm(t, args...)
	objs := rendered{}
	dec := yaml.NewDecoder(strings.NewReader(out))
	for {
		var o k8sObject
		err := dec.Decode(&o)
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		if o.Kind != "" {
			objs[o.Kind+"/"+o.Metadata.Name] = &o
		}
	}
	return objs, out
}

// agentCapabilities is the measured set the receiver needs (deploy/README.md says why each).
var agentCapabilities = []string{"BPF", "PERFMON", "NET_ADMIN", "SYS_PTRACE", "DAC_READ_SEARCH"}

func TestHelmLint(t *testing.T) {
	helm(t, "lint", "--strict", chartDir)
	helm(t, "lint", "--strict", chartDir, "--set", "gateway.enabled=true", "--set", "tls.certManager.enabled=true",
		"--set", "backend.endpoint=https://otlp.example.org:4317", "--set", "backend.headersSecret=otlp-headers")
}

// TestHelmAgentLeastPrivilege renders both topologies and checks the agent DaemonSet: not
// privileged, exactly the measured capabilities, host pid namespace, read-only host mounts except
// the state directory, probes on the health port, node name and memory limit in the environment.
func TestHelmAgentLeastPrivilege(t *testing.T) {
	for _, mode := range []string{"gateway.enabled=false", "gateway.enabled=true"} {
		t.Run(mode, func(t *testing.T) {
			objs, _ := renderChart(t, mode, "backend.endpoint=https://otlp.example.org:4317")
			pod := objs.get(t, "DaemonSet", "cryptochain-agent").Spec.Template.Spec
			assert.True(t, pod.HostPID, "hostPID")
			assert.False(t, pod.HostNetwork, "hostNetwork")
			assert.Equal(t, "amd64", pod.NodeSelector["kubernetes.io/arch"])
			require.Len(t, pod.Containers, 1)
			c := pod.Containers[0]
			sc := c.SecurityContext
			require.NotNil(t, sc.Privileged)
			assert.False(t, *sc.Privileged, "privileged")
			require.NotNil(t, sc.AllowPrivilegeEscalation)
			assert.False(t, *sc.AllowPrivilegeEscalation)
			assert.True(t, sc.ReadOnlyRootFilesystem)
			assert.Equal(t, []string{"ALL"}, sc.Capabilities.Drop)
			assert.ElementsMatch(t, agentCapabilities, sc.Capabilities.Add)
			assert.NotContains(t, sc.Capabilities.Add, "SYS_ADMIN")

			volumes := map[string]volume{}
			for _, v := range pod.Volumes {
				volumes[v.Name] = v
			}
			mounts := map[string]bool{} // host path -> read-only
			for _, m := range c.VolumeMounts {
				v := volumes[m.Name]
				if v.HostPath == nil {
					assert.True(t, m.ReadOnly, "%s (%s) is read-only", m.Name, m.MountPath)
					continue
				}
				mounts[v.HostPath.Path] = m.ReadOnly
				if m.MountPath != "/var/lib/otelcol-cryptochain" {
					assert.True(t, m.ReadOnly, "host %s is mounted read-only", v.HostPath.Path)
				}
			}
			for _, p := range []string{"/proc", "/sys/fs/cgroup", "/etc", "/sys/kernel/btf", "/sys/kernel/tracing",
				"/var/log/pods", "/run/containerd/io.containerd.runtime.v2.task/k8s.io"} {
				ro, ok := mounts[p]
				assert.True(t, ok && ro, "host %s mounted read-only", p)
			}

			ports := map[string]int{}
			for _, p := range c.Ports {
				ports[p.Name] = p.ContainerPort
			}
			assert.Equal(t, 13133, ports["health"])
			assert.Equal(t, 8888, ports["metrics"])
			for name, p := range map[string]*probe{"startup": c.StartupProbe, "liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
				require.NotNil(t, p, "%s probe", name)
				require.NotNil(t, p.HTTPGet, "%s probe", name)
				assert.Equal(t, "health", p.HTTPGet.Port, "%s probe", name)
			}

			env := map[string]envVar{}
			for _, e := range c.Env {
				env[e.Name] = e
			}
			require.NotNil(t, env["K8S_NODE_NAME"].ValueFrom)
			assert.Equal(t, "spec.nodeName", env["K8S_NODE_NAME"].ValueFrom.FieldRef.FieldPath)
			assert.Equal(t, "status.podIP", env["POD_IP"].ValueFrom.FieldRef.FieldPath)
			// 80% of the 512Mi limit.
			assert.Equal(t, "409MiB", env["GOMEMLIMIT"].Value)
			assert.Equal(t, "512Mi", c.Resources.Limits["memory"])

			cfg := objs.get(t, "ConfigMap", "cryptochain-agent").Data["agent.yaml"]
			assert.Contains(t, cfg, "${env:POD_IP}:13133", "health check on the pod IP")
			assert.Contains(t, cfg, "host: ${env:POD_IP}", "metrics on the pod IP")
			assert.Contains(t, cfg, "${env:K8S_NODE_NAME}", "host.name is the node name")
			if mode == "gateway.enabled=true" {
				assert.Contains(t, cfg, "cert_file: /etc/otelcol-cryptochain/tls/tls.crt", "agents present a client certificate")
				assert.NotContains(t, cfg, "insecure: true")
				assert.NotContains(t, env, "OTEL_EXPORTER_OTLP_ENDPOINT", "the gateway, not the agent, talks to the backend")
			} else {
				assert.Equal(t, "https://otlp.example.org:4317", env["OTEL_EXPORTER_OTLP_ENDPOINT"].Value)
			}
		})
	}
}

// TestHelmWorkloadMetadata checks that the host paths the receiver names pods and images from are
// mounted read-only exactly where its configuration looks (under host_root), and not at all when
// turned off.
func TestHelmWorkloadMetadata(t *testing.T) {
	type receiverConf struct {
		Receivers struct {
			Ebpf struct {
				HostRoot string `yaml:"host_root"`
				Workload struct {
					PodsDir      string `yaml:"pods_dir"`
					RuntimeState bool   `yaml:"runtime_state"`
				} `yaml:"workload"`
			} `yaml:"ebpf"`
		} `yaml:"receivers"`
	}
	agent := func(t *testing.T, set ...string) (map[string]string, map[string]bool, receiverConf) {
		objs, _ := renderChart(t, set...)
		pod := objs.get(t, "DaemonSet", "cryptochain-agent").Spec.Template.Spec
		hostPaths := map[string]string{}
		for _, v := range pod.Volumes {
			if v.HostPath != nil {
				hostPaths[v.Name] = v.HostPath.Path
			}
		}
		mounts := map[string]string{} // mount path -> host path
		ro := map[string]bool{}
		for _, m := range pod.Containers[0].VolumeMounts {
			if hp, ok := hostPaths[m.Name]; ok {
				mounts[m.MountPath] = hp
				ro[m.MountPath] = m.ReadOnly
			}
		}
		var conf receiverConf
		require.NoError(t, yaml.Unmarshal([]byte(objs.get(t, "ConfigMap", "cryptochain-agent").Data["agent.yaml"]), &conf))
		return mounts, ro, conf
	}
	for _, mode := range []string{"gateway.enabled=false", "gateway.enabled=true"} {
		t.Run(mode, func(t *testing.T) {
			mounts, ro, conf := agent(t, mode, "agent.workloadMetadata.crioContainersHostPath=/run/containers/storage/overlay-containers")
			e := conf.Receivers.Ebpf
			assert.Equal(t, "/host", e.HostRoot)
			assert.True(t, e.Workload.RuntimeState)
			assert.Equal(t, "/var/log/pods", mounts[e.Workload.PodsDir], "pods_dir is the kubelet's directory")
			// The runtimes' state, where the receiver reads it under host_root.
			for in, host := range map[string]string{
				"/run/containerd/io.containerd.runtime.v2.task/k8s.io": "/run/containerd/io.containerd.runtime.v2.task/k8s.io",
				"/run/containers/storage/overlay-containers":           "/run/containers/storage/overlay-containers",
			} {
				assert.Equal(t, host, mounts[e.HostRoot+in], in)
			}
			for p := range mounts {
				if p != "/var/lib/otelcol-cryptochain" {
					assert.True(t, ro[p], "%s is read-only", p)
				}
			}
		})
	}
	t.Run("k3s containerd", func(t *testing.T) {
		mounts, _, _ := agent(t, "agent.workloadMetadata.containerdTaskHostPath=/run/k3s/containerd/io.containerd.runtime.v2.task/k8s.io")
		assert.Equal(t, "/run/k3s/containerd/io.containerd.runtime.v2.task/k8s.io", mounts["/host/run/containerd/io.containerd.runtime.v2.task/k8s.io"])
		assert.NotContains(t, mounts, "/host/run/containers/storage/overlay-containers", "CRI-O's state is not mounted by default")
	})
	t.Run("off", func(t *testing.T) {
		mounts, _, conf := agent(t, "agent.workloadMetadata.enabled=false")
		assert.Empty(t, conf.Receivers.Ebpf.Workload.PodsDir)
		assert.False(t, conf.Receivers.Ebpf.Workload.RuntimeState)
		for p := range mounts {
			assert.NotContains(t, p, "/var/log/pods")
			assert.NotContains(t, p, "/run/")
		}
	})
}

// TestHelmGateway checks the gateway's objects: an unprivileged Deployment with the TLS Secret,
// a Service, a PodDisruptionBudget and a NetworkPolicy.
func TestHelmGateway(t *testing.T) {
	objs, _ := renderChart(t, "gateway.enabled=true", "backend.endpoint=https://otlp.example.org:4317", "backend.headersSecret=otlp-headers")
	pod := objs.get(t, "Deployment", "cryptochain-gateway").Spec.Template.Spec
	require.Len(t, pod.Containers, 1)
	c := pod.Containers[0]
	assert.Equal(t, []string{"ALL"}, c.SecurityContext.Capabilities.Drop)
	assert.Empty(t, c.SecurityContext.Capabilities.Add)
	assert.True(t, c.SecurityContext.ReadOnlyRootFilesystem)
	require.NotNil(t, pod.SecurityContext.RunAsUser)
	assert.NotZero(t, *pod.SecurityContext.RunAsUser)
	assert.False(t, pod.HostPID)
	env := map[string]envVar{}
	for _, e := range c.Env {
		env[e.Name] = e
	}
	assert.Equal(t, "https://otlp.example.org:4317", env["OTEL_EXPORTER_OTLP_ENDPOINT"].Value)
	require.NotNil(t, env["OTEL_EXPORTER_OTLP_HEADERS"].ValueFrom)
	assert.Equal(t, "otlp-headers", env["OTEL_EXPORTER_OTLP_HEADERS"].ValueFrom.SecretKeyRef.Name)
	var tls bool
	for _, m := range c.VolumeMounts {
		if m.MountPath == "/etc/otelcol-cryptochain/tls" {
			tls = true
		}
	}
	assert.True(t, tls, "the gateway mounts its certificate and the agents' CA")
	objs.get(t, "Service", "cryptochain-gateway")
	objs.get(t, "PodDisruptionBudget", "cryptochain-gateway")
	objs.get(t, "NetworkPolicy", "cryptochain-gateway")
	objs.get(t, "Role", "cryptochain-agent-lb")

	cm, _ := renderChart(t, "gateway.enabled=true", "tls.certManager.enabled=true")
	cm.get(t, "Certificate", "cryptochain-gateway")
	cm.get(t, "Certificate", "cryptochain-agent")
	cm.get(t, "Issuer", "cryptochain-ca")
}

// TestHelmConfigsValidate runs `otelcol-cryptochain validate` on the collector configurations the
// chart renders, with the arguments and environment of their containers.
func TestHelmConfigsValidate(t *testing.T) {
	bin := requireCollector(t)
	for _, mode := range []string{"gateway.enabled=false", "gateway.enabled=true"} {
		objs, _ := renderChart(t, mode, "backend.endpoint=https://otlp.example.org:4317",
			`agent.config.processors.cryptochain.allowlist.container_images={registry.example.org/ci/*}`)
		for _, ref := range []string{"DaemonSet/cryptochain-agent", "Deployment/cryptochain-gateway"} {
			o, ok := objs[ref]
			if !ok {
				continue
			}
			t.Run(mode+"/"+ref, func(t *testing.T) {
				c := o.Spec.Template.Spec.Containers[0]
				dir := t.TempDir()
				args := []string{"validate"}
				for _, a := range c.Args {
					if strings.HasPrefix(a, "/etc/otelcol-cryptochain/config/") {
						cm := objs.get(t, "ConfigMap", strings.TrimPrefix(ref, strings.SplitN(ref, "/", 2)[0]+"/"))
						name := filepath.Base(a)
						require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(cm.Data[name]), 0o644))
						a = filepath.Join(dir, name)
					}
					args = append(args, a)
				}
				cmd := exec.Command(bin, args...)
				cmd.Dir = dir
				cmd.Env = append(os.Environ(), "POD_IP=127.0.0.1", "K8S_NODE_NAME=node-1")
				for _, e := range c.Env {
					if e.ValueFrom == nil {
						cmd.Env = append(cmd.Env, e.Name+"="+e.Value)
					}
				}
				out, err := cmd.CombinedOutput()
				assert.NoError(t, err, "%s", out)
			})
		}
	}
}

// TestHelmValuesDocumented checks that deploy/README.md's value table names every value of the
// chart: a key is documented by its dotted path (`agent.stateHostPath`), by a row naming its
// parent and `.leaf` (`tls.certManager.duration`, `.renewBefore`), or through a documented parent.
func TestHelmValuesDocumented(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(chartDir, "values.yaml"))
	require.NoError(t, err)
	var values map[string]any
	require.NoError(t, yaml.Unmarshal(data, &values))
	readme, err := os.ReadFile(filepath.Join(repoRoot, "deploy", "README.md"))
	require.NoError(t, err)
	var cells []string
	for _, l := range strings.Split(string(readme), "\n") {
		if strings.HasPrefix(l, "| `") {
			cells = append(cells, strings.Split(l, "|")[1])
		}
	}
	documented := func(path string) bool {
		parent, leaf := path[:max(strings.LastIndex(path, "."), 0)], path[strings.LastIndex(path, ".")+1:]
		for _, c := range cells {
			if strings.Contains(c, "`"+path+"`") || (parent != "" && strings.Contains(c, "`."+leaf+"`") && strings.Contains(c, "`"+parent+".")) {
				return true
			}
		}
		return false
	}
	var walk func(m map[string]any, prefix string)
	walk = func(m map[string]any, prefix string) {
		for k, v := range m {
			p := prefix + k
			if documented(p) {
				continue
			}
			if sub, ok := v.(map[string]any); ok && len(sub) > 0 {
				walk(sub, p+".")
				continue
			}
			t.Errorf("value %s is not in deploy/README.md's table", p)
		}
	}
	walk(values, "")
}
