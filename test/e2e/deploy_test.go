package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
)

// deployImage is the image tag the deployment test builds with `make image`.
const deployImage = "localhost/otelcol-cryptochain:e2e"

// deployNode is the node name the test gives the agent pod (spec.nodeName).
const deployNode = "cryptochain-e2e-node"

// podman runs podman with the runtime and cgroup manager that work on this platform.
func podman(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("podman", append([]string{"--runtime", "runc", "--cgroup-manager", "cgroupfs"}, args...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func requirePodman(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("podman"); err != nil {
		if os.Getenv("CRYPTOCHAIN_REQUIRE_PRIVILEGED") == "1" {
			t.Fatal("podman is missing (make deps)")
		}
		t.Skip("podman is missing (make deps)")
	}
}

// buildImage runs `make image`; podman's layer cache makes a rebuild of an unchanged binary cheap.
func buildImage(t *testing.T) string {
	t.Helper()
	cmd := exec.Command("make", "--no-print-directory", "image", "IMAGE="+deployImage)
	cmd.Dir = repoRoot
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "make image:\n%s", tail(string(out), 4000))
	return deployImage
}

// podNetwork is a podman bridge network of this test, with fixed addresses (no DNS on CNI here).
type podNetwork struct {
	name   string
	prefix string // "10.231.N."
}

func newPodNetwork(t *testing.T) *podNetwork {
	t.Helper()
	n := &podNetwork{name: fmt.Sprintf("cryptochain-e2e-%d", os.Getpid())}
	// A subnet unlikely to collide with the host's, derived from the pid.
	n.prefix = fmt.Sprintf("10.231.%d.", 16+os.Getpid()%200)
	out, err := podman(t, "network", "create", "--subnet", n.prefix+"0/24", n.name)
	require.NoError(t, err, out)
	t.Cleanup(func() { _, _ = podman(t, "network", "rm", "-f", n.name) })
	return n
}

func (n *podNetwork) ip(host int) string { return n.prefix + strconv.Itoa(host) }

// podContainer is one container started from a rendered pod template.
type podContainer struct {
	name string
	ip   string
}

// podInputs is what the kubelet would supply for a pod: Secrets and ConfigMaps by name, the node
// name, the pod IP, and host paths the test redirects.
type podInputs struct {
	name      string
	ip        string
	network   *podNetwork
	configMap func(name string) map[string]string
	secrets   map[string]map[string]string
}

// runPod starts the pod template's single container under podman with exactly what the template
// asks for: host pid namespace, capabilities, user, read-only root, seccomp profile, no privilege
// escalation, memory and CPU limits, volumes (host paths, ConfigMaps, Secrets, emptyDirs) and
// environment (values, node name, pod IP, Secret keys). Nothing else is granted.
func runPod(t *testing.T, image string, pod podSpec, in podInputs) *podContainer {
	t.Helper()
	require.Len(t, pod.Containers, 1)
	c := pod.Containers[0]
	require.Equal(t, image, c.Image, "the rendered image is the one built")
	args := []string{"run", "-d", "--name", in.name, "--network", in.network.name, "--ip", in.ip,
		"--hostname", in.name, "--cap-drop", "all"}
	// Kubernetes runtimes pass their own limits on; podman would raise them, which a container
	// without CAP_SYS_RESOURCE may not do (runc: "error setting rlimit ... operation not permitted").
	args = append(args, runtimeLimits(t)...)
	if pod.HostPID {
		args = append(args, "--pid", "host")
	}
	require.False(t, pod.HostNetwork, "the test derives no host network")
	sc := c.SecurityContext
	require.True(t, sc.Privileged == nil || !*sc.Privileged, "privileged containers are not run")
	require.Equal(t, []string{"ALL"}, sc.Capabilities.Drop)
	for _, capName := range sc.Capabilities.Add {
		args = append(args, "--cap-add", "CAP_"+capName)
	}
	uid, gid := pod.SecurityContext.RunAsUser, pod.SecurityContext.RunAsGroup
	if sc.RunAsUser != nil {
		uid = sc.RunAsUser
	}
	if sc.RunAsGroup != nil {
		gid = sc.RunAsGroup
	}
	user := ""
	if uid != nil {
		user = strconv.FormatInt(*uid, 10)
		if gid != nil {
			user += ":" + strconv.FormatInt(*gid, 10)
		}
		args = append(args, "--user", user)
	}
	if pod.SecurityContext.FSGroup != nil {
		args = append(args, "--group-add", strconv.FormatInt(*pod.SecurityContext.FSGroup, 10))
	}
	if sc.ReadOnlyRootFilesystem {
		args = append(args, "--read-only")
	}
	if sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation {
		args = append(args, "--security-opt", "no-new-privileges")
	}
	switch sc.SeccompProfile.Type {
	case "Unconfined":
		args = append(args, "--security-opt", "seccomp=unconfined")
	case "", "RuntimeDefault":
	default:
		t.Fatalf("seccomp profile %q is not derived", sc.SeccompProfile.Type)
	}
	if m := c.Resources.Limits["memory"]; m != "" {
		args = append(args, "--memory", strings.NewReplacer("Mi", "m", "Gi", "g").Replace(m))
	}
	if cpu := c.Resources.Limits["cpu"]; cpu != "" {
		if strings.HasSuffix(cpu, "m") {
			n, _ := strconv.Atoi(strings.TrimSuffix(cpu, "m"))
			cpu = fmt.Sprintf("%.3f", float64(n)/1000)
		}
		args = append(args, "--cpus", cpu)
	}

	volumes := map[string]volume{}
	for _, v := range pod.Volumes {
		volumes[v.Name] = v
	}
	for _, m := range c.VolumeMounts {
		v, ok := volumes[m.Name]
		require.True(t, ok, "volume %s", m.Name)
		opt := "rw"
		if m.ReadOnly {
			opt = "ro"
		}
		switch {
		case v.HostPath != nil:
			if v.HostPath.Type == "DirectoryOrCreate" {
				require.NoError(t, os.MkdirAll(v.HostPath.Path, 0o755))
			}
			args = append(args, "-v", v.HostPath.Path+":"+m.MountPath+":"+opt)
		case v.ConfigMap != nil:
			dir := t.TempDir()
			for k, data := range in.configMap(v.ConfigMap.Name) {
				require.NoError(t, os.WriteFile(filepath.Join(dir, k), []byte(data), 0o644))
			}
			args = append(args, "-v", dir+":"+m.MountPath+":"+opt)
		case v.Secret != nil:
			data, ok := in.secrets[v.Secret.SecretName]
			require.True(t, ok, "Secret %s", v.Secret.SecretName)
			dir := t.TempDir()
			mode := os.FileMode(0o644)
			if v.Secret.DefaultMode != nil {
				mode = os.FileMode(*v.Secret.DefaultMode)
			}
			for k, b := range data {
				p := filepath.Join(dir, k)
				require.NoError(t, os.WriteFile(p, []byte(b), mode))
				require.NoError(t, os.Chmod(p, mode))
				if pod.SecurityContext.FSGroup != nil {
					require.NoError(t, os.Chown(p, 0, int(*pod.SecurityContext.FSGroup)))
				}
			}
			require.NoError(t, os.Chmod(dir, 0o755))
			args = append(args, "-v", dir+":"+m.MountPath+":"+opt)
		case v.EmptyDir != nil:
			// As the kubelet makes it: owned by the fsGroup (else the user), group-writable.
			dir := t.TempDir()
			owner, group := 0, 0
			if uid != nil {
				owner = int(*uid)
			}
			if gid != nil {
				group = int(*gid)
			}
			if pod.SecurityContext.FSGroup != nil {
				group = int(*pod.SecurityContext.FSGroup)
			}
			require.NoError(t, os.Chown(dir, owner, group))
			require.NoError(t, os.Chmod(dir, 0o2770))
			args = append(args, "-v", dir+":"+m.MountPath+":rw")
		default:
			t.Fatalf("volume %s: kind not derived", m.Name)
		}
	}
	for _, e := range c.Env {
		val := e.Value
		if e.ValueFrom != nil {
			switch {
			case e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "spec.nodeName":
				val = deployNode
			case e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "status.podIP":
				val = in.ip
			case e.ValueFrom.SecretKeyRef != nil:
				s := e.ValueFrom.SecretKeyRef
				val = in.secrets[s.Name][s.Key]
			default:
				t.Fatalf("env %s: source not derived", e.Name)
			}
		}
		args = append(args, "-e", e.Name+"="+val)
	}
	args = append(args, image)
	args = append(args, c.Args...)

	out, err := podman(t, args...)
	require.NoError(t, err, "podman %s\n%s", strings.Join(args, " "), out)
	pc := &podContainer{name: in.name, ip: in.ip}
	t.Cleanup(func() {
		if t.Failed() {
			logs, _ := podman(t, "logs", in.name)
			t.Logf("--- %s (podman %s) output (last 6000 bytes) ---\n%s", in.name, strings.Join(args, " "), tail(logs, 6000))
		}
		_, _ = podman(t, "rm", "-f", "-t", "10", in.name)
	})
	return pc
}

// waitProbe polls the container's readiness probe (the health check on the pod IP).
func (c *podContainer) waitProbe(t *testing.T, port int, timeout time.Duration) {
	t.Helper()
	url := fmt.Sprintf("http://%s:%d/", c.ip, port)
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url) //nolint:gosec // a test container on a test network
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if out, _ := podman(t, "inspect", "-f", "{{.State.Running}}", c.name); strings.TrimSpace(out) == "false" {
			logs, _ := podman(t, "logs", c.name)
			t.Fatalf("%s exited before its probe passed:\n%s", c.name, tail(logs, 4000))
		}
		time.Sleep(500 * time.Millisecond)
	}
	logs, _ := podman(t, "logs", c.name)
	t.Fatalf("%s: readiness probe %s not OK after %s:\n%s", c.name, url, timeout, tail(logs, 4000))
}

// makeCerts runs deploy/tls/make-certs.sh (what `make certs` runs) into a temporary directory.
func makeCerts(t *testing.T, gatewaySANs string) map[string]string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command(filepath.Join(repoRoot, "deploy", "tls", "make-certs.sh"), dir)
	cmd.Env = append(os.Environ(), "GATEWAY_SANS="+gatewaySANs)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	files := map[string]string{}
	for _, f := range []string{"ca.crt", "gateway.crt", "gateway.key", "agent.crt", "agent.key"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		require.NoError(t, err)
		files[f] = string(b)
	}
	return files
}

// serverCert makes a self-signed CA and a server certificate for ip, as PEM.
func serverCert(t *testing.T, ip string) (caPEM, certPEM, keyPEM string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "e2e backend CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "e2e backend"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP(ip)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	require.NoError(t, err)
	kb, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})),
		string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}))
}

// backendConfig is the third collector: the end-to-end peer (OTLP/gRPC in, findings to a file),
// listening on the container's network with TLS.
func backendConfig() string {
	return strings.Replace(peerConfig(4317, "/backend/out/findings.jsonl"), "endpoint: 127.0.0.1:4317",
		"endpoint: 0.0.0.0:4317\n        tls:\n          cert_file: /backend/tls/tls.crt\n          key_file: /backend/tls/tls.key", 1)
}

// TestDeployedAgentGatewayBackend runs the chart's gateway topology as containers of the built
// image: the agent with exactly the rendered DaemonSet's capabilities, mounts, host pid namespace
// and environment; the gateway as rendered (mutual TLS); a third collector as the backend (TLS).
// The simulator's Critical chain, played on the host, must arrive at the backend, with host.name
// the node name; a client without a certificate is refused by the gateway.
func TestDeployedAgentGatewayBackend(t *testing.T) {
	requireE2E(t)
	requirePodman(t)
	image := buildImage(t)
	net := newPodNetwork(t)
	backendIP, gatewayIP, agentIP := net.ip(10), net.ip(11), net.ip(12)

	state := t.TempDir()
	objs, _ := renderChart(t,
		"image.repository=localhost/otelcol-cryptochain", "image.tag=e2e",
		"gateway.enabled=true", "gateway.replicas=1", "gateway.endpoints={"+gatewayIP+":4317}",
		"backend.endpoint=https://"+backendIP+":4317", "backend.caSecret=backend-ca",
		"backend.headersSecret=backend-headers",
		// This host is hybrid: its cgroup2 tree is /sys/fs/cgroup/unified.
		"agent.cgroup2HostPath="+cgroup2Mount(t),
		"agent.stateHostPath="+state,
		// Not a Kubernetes node: empty stand-ins, so the test creates nothing on the host.
		"agent.workloadMetadata.podLogsHostPath="+t.TempDir(), "agent.workloadMetadata.containerdTaskHostPath="+t.TempDir())
	configMaps := func(name string) map[string]string { return objs.get(t, "ConfigMap", name).Data }

	certs := makeCerts(t, "")
	backendCA, backendCrt, backendKey := serverCert(t, backendIP)
	secrets := map[string]map[string]string{
		"cryptochain-gateway-tls": {"tls.crt": certs["gateway.crt"], "tls.key": certs["gateway.key"], "ca.crt": certs["ca.crt"]},
		"cryptochain-agent-tls":   {"tls.crt": certs["agent.crt"], "tls.key": certs["agent.key"], "ca.crt": certs["ca.crt"]},
		"backend-ca":              {"ca.crt": backendCA},
		"backend-headers":         {"OTEL_EXPORTER_OTLP_HEADERS": "x-cryptochain-e2e=1"},
	}

	w := startBackend(t, image, net, backendIP, backendCrt, backendKey)

	gw := runPod(t, image, objs.get(t, "Deployment", "cryptochain-gateway").Spec.Template.Spec,
		podInputs{name: net.name + "-gateway", ip: gatewayIP, network: net, configMap: configMaps, secrets: secrets})
	gw.waitProbe(t, 13133, 60*time.Second)

	t.Run("client without certificate is refused", func(t *testing.T) {
		pool := x509.NewCertPool()
		require.True(t, pool.AppendCertsFromPEM([]byte(certs["ca.crt"])))
		base := &tls.Config{RootCAs: pool, ServerName: "cryptochain-gateway.cryptochain.svc", MinVersion: tls.VersionTLS12}
		export := func(cfg *tls.Config) error {
			conn, err := grpc.NewClient(gatewayIP+":4317", grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
			require.NoError(t, err)
			defer conn.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err = plogotlp.NewGRPCClient(conn).Export(ctx, plogotlp.NewExportRequestFromLogs(plog.NewLogs()))
			return err
		}
		err := export(base.Clone())
		require.Error(t, err, "the gateway accepted a client without a certificate")
		// TLS 1.3: the server's refusal reaches the client as the alert ("certificate required") or
		// as the closed connection, whichever it reads first.
		assert.Equal(t, codes.Unavailable, status.Code(err), "%v", err)
		t.Logf("without a certificate: %v", err)

		pair, err := tls.X509KeyPair([]byte(certs["agent.crt"]), []byte(certs["agent.key"]))
		require.NoError(t, err)
		withCert := base.Clone()
		withCert.Certificates = []tls.Certificate{pair}
		assert.NoError(t, export(withCert), "the agent's certificate is accepted")
	})

	agent := runPod(t, image, objs.get(t, "DaemonSet", "cryptochain-agent").Spec.Template.Spec,
		podInputs{name: net.name + "-agent", ip: agentIP, network: net, configMap: configMaps, secrets: secrets})
	agent.waitProbe(t, 13133, 120*time.Second)
	// The collector's own metrics are scrapeable on the pod IP.
	resp, err := http.Get("http://" + agentIP + ":8888/metrics") //nolint:gosec // test network
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "metrics on the pod IP")

	sc := loadScenario(t, "critical-chain")
	res := play(t, sc, nil)
	checkMalicious(t, &stack{t: t, findings: w}, sc, res)
	for _, f := range w.of(sc, res) {
		assert.Equal(t, deployNode, f.Resource["host.name"], "host.name is the node name: %v", f)
	}
}

// startBackend runs the third collector (the same image: a TLS OTLP receiver and a file exporter
// into a host directory) and returns the watcher of its findings.
func startBackend(t *testing.T, image string, net *podNetwork, ip, crt, key string) *watcher {
	t.Helper()
	bdir := t.TempDir()
	for _, d := range []string{"tls", "out"} {
		require.NoError(t, os.MkdirAll(filepath.Join(bdir, d), 0o755))
	}
	require.NoError(t, os.WriteFile(filepath.Join(bdir, "backend.yaml"), []byte(backendConfig()), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(bdir, "tls", "tls.crt"), []byte(crt), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(bdir, "tls", "tls.key"), []byte(key), 0o644))
	require.NoError(t, os.Chown(filepath.Join(bdir, "out"), 10001, 10001))
	w := watch(t, filepath.Join(bdir, "out", "findings.jsonl"))
	name := net.name + "-backend"
	out, err := podman(t, append(append([]string{"run", "-d", "--name", name, "--network", net.name, "--ip", ip}, runtimeLimits(t)...),
		"--cap-drop", "all", "--read-only", "-v", bdir+":/backend:ro", "-v", filepath.Join(bdir, "out")+":/backend/out:rw",
		image, "--config", "/backend/backend.yaml")...)
	require.NoError(t, err, out)
	t.Cleanup(func() {
		if t.Failed() {
			logs, _ := podman(t, "logs", name)
			t.Logf("--- backend output ---\n%s", tail(logs, 4000))
		}
		_, _ = podman(t, "rm", "-f", "-t", "5", name)
	})
	return w
}

// TestDeployedStandaloneAgent runs the chart's default topology: the agent (embedded:agent plus the
// chart's settings, exactly as the DaemonSet renders it) correlates on the node and exports
// findings itself, over TLS verified with backend.caSecret, to the backend.
func TestDeployedStandaloneAgent(t *testing.T) {
	requireE2E(t)
	requirePodman(t)
	image := buildImage(t)
	net := newPodNetwork(t)
	backendIP, agentIP := net.ip(10), net.ip(12)
	objs, _ := renderChart(t,
		"image.repository=localhost/otelcol-cryptochain", "image.tag=e2e",
		"backend.endpoint="+backendIP+":4317", "backend.caSecret=backend-ca", "backend.headersSecret=backend-headers",
		"agent.cgroup2HostPath="+cgroup2Mount(t), "agent.stateHostPath="+t.TempDir(),
		"agent.workloadMetadata.podLogsHostPath="+t.TempDir(), "agent.workloadMetadata.containerdTaskHostPath="+t.TempDir())
	backendCA, backendCrt, backendKey := serverCert(t, backendIP)
	w := startBackend(t, image, net, backendIP, backendCrt, backendKey)
	agent := runPod(t, image, objs.get(t, "DaemonSet", "cryptochain-agent").Spec.Template.Spec, podInputs{
		name: net.name + "-agent", ip: agentIP, network: net,
		configMap: func(name string) map[string]string { return objs.get(t, "ConfigMap", name).Data },
		secrets: map[string]map[string]string{
			"backend-ca":      {"ca.crt": backendCA},
			"backend-headers": {"OTEL_EXPORTER_OTLP_HEADERS": "x-cryptochain-e2e=1"},
		},
	})
	agent.waitProbe(t, 13133, 120*time.Second)

	sc := loadScenario(t, "medium-miner-pool")
	res := play(t, sc, nil)
	checkMalicious(t, &stack{t: t, findings: w}, sc, res)
	for _, f := range w.of(sc, res) {
		assert.Equal(t, deployNode, f.Resource["host.name"], "host.name is the node name: %v", f)
	}
}

// runtimeLimits are this process's open-file limits as podman flags; nproc stays at a value runc
// may set without CAP_SYS_RESOURCE here.
func runtimeLimits(t *testing.T) []string {
	t.Helper()
	var l syscall.Rlimit
	require.NoError(t, syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l))
	return []string{"--ulimit", fmt.Sprintf("nofile=%d:%d", l.Cur, l.Max), "--ulimit", "nproc=4096:4096"}
}

// cgroup2Mount is this host's cgroup v2 mount point (/sys/fs/cgroup or /sys/fs/cgroup/unified).
func cgroup2Mount(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mounts")
	require.NoError(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && f[2] == "cgroup2" {
			return f[1]
		}
	}
	t.Fatal("no cgroup2 mount on this host")
	return ""
}
