package workload

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	webUID     = "3f1c2a4e-8b7d-4c2e-9a1f-0d5e6b7c8a91"
	corednsUID = "a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d"
)

func cid(pair string) string { return strings.Repeat(pair, 32) }

func TestLookupFromNodeFiles(t *testing.T) {
	r := New(Options{PodsDir: "testdata/pods", StateRoot: "testdata/host"})
	for _, tc := range []struct {
		name                string
		podUID, runtime, id string
		want                Info
	}{
		{"containerd pod", webUID, "containerd", cid("c1"),
			Info{Namespace: "prod", PodName: "web-7d9f8", ContainerName: "nginx", Image: "docker.io/library/nginx:1.27"}},
		{"containerd under a cgroupfs layout that names no runtime", webUID, "", cid("c1"),
			Info{Namespace: "prod", PodName: "web-7d9f8", ContainerName: "nginx", Image: "docker.io/library/nginx:1.27"}},
		{"cri-o pod with two containers: the runtime names the container", corednsUID, "crio", cid("c2"),
			Info{Namespace: "kube-system", PodName: "coredns-abc.x", ContainerName: "coredns", Image: "registry.k8s.io/coredns/coredns:v1.11.1"}},
		{"podman outside kubernetes", "", "podman", cid("c3"), Info{Image: "localhost/cryptochain-receiver-test:1"}},
		{"docker", "", "docker", cid("c4"), Info{Image: "busybox:1.36"}},
		{"podman entry without metadata", "", "podman", cid("c5"), Info{}},
		{"unknown container in a known pod: the pod's only container directory", webUID, "containerd", cid("d1"),
			Info{Namespace: "prod", PodName: "web-7d9f8", ContainerName: "nginx"}},
		{"unknown container in a pod with two containers: no container name", corednsUID, "containerd", cid("d2"),
			Info{Namespace: "kube-system", PodName: "coredns-abc.x"}},
		{"unknown pod", "00000000-0000-4000-8000-000000000000", "", "", Info{}},
		{"host process", "", "", "", Info{}},
		{"not a container id", "", "", "../../../etc", Info{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, r.Lookup(tc.podUID, tc.runtime, tc.id))
		})
	}
}

func TestOnlyTheNamedRuntimeIsAsked(t *testing.T) {
	r := New(Options{StateRoot: "testdata/host"})
	assert.Equal(t, Info{}, r.Lookup("", "docker", cid("c1")), "a containerd bundle for a docker cgroup")
	assert.Equal(t, Info{}, r.Lookup("", "containerd", cid("c3")), "a podman container for a containerd cgroup")
}

func TestLookupOff(t *testing.T) {
	r := New(Options{})
	assert.Equal(t, Info{}, r.Lookup(webUID, "containerd", cid("c1")))
	// Without the pods directory the runtime's annotations still name the pod they are about.
	r = New(Options{StateRoot: "testdata/host"})
	assert.Equal(t, Info{Namespace: "prod", PodName: "web-7d9f8", ContainerName: "nginx", Image: "docker.io/library/nginx:1.27"},
		r.Lookup(webUID, "containerd", cid("c1")))
	assert.Equal(t, Info{ContainerName: "nginx", Image: "docker.io/library/nginx:1.27"}, r.Lookup(corednsUID, "containerd", cid("c1")),
		"annotations about another pod than the cgroup's are not believed")
	r = New(Options{PodsDir: "testdata/pods"})
	assert.Equal(t, Info{Namespace: "prod", PodName: "web-7d9f8", ContainerName: "nginx"}, r.Lookup(webUID, "containerd", cid("c1")))
	var nilResolver *Resolver
	assert.Equal(t, Info{}, nilResolver.Lookup(webUID, "", cid("c1")))
}

func TestParsePodDir(t *testing.T) {
	p, ok := parsePodDir("kube-system_coredns-abc.x_" + corednsUID)
	require.True(t, ok)
	assert.Equal(t, pod{namespace: "kube-system", name: "coredns-abc.x", uid: corednsUID}, p)
	for _, bad := range []string{
		"Bad_name_" + webUID, "ns_name_" + webUID + "x", "ns_na_me_" + webUID, "ns_" + webUID, "", "_name_" + webUID,
		"ns.dot_name_" + webUID, strings.Repeat("a", 64) + "_name_" + webUID,
	} {
		_, ok := parsePodDir(bad)
		assert.False(t, ok, bad)
	}
}

// fakeNode is a writable pods directory and host state in a temporary directory.
type fakeNode struct {
	t           *testing.T
	pods, state string
	now         time.Time
	r           *Resolver
}

func newFakeNode(t *testing.T, refresh time.Duration, maxEntries int) *fakeNode {
	dir := t.TempDir()
	n := &fakeNode{t: t, pods: filepath.Join(dir, "pods"), state: filepath.Join(dir, "host"), now: time.Unix(1000, 0)}
	require.NoError(t, os.MkdirAll(n.pods, 0o755))
	n.r = New(Options{PodsDir: n.pods, StateRoot: n.state, Refresh: refresh, MaxEntries: maxEntries})
	n.r.now = func() time.Time { return n.now }
	return n
}

func (n *fakeNode) addPod(ns, name, uid string, containers ...string) {
	for _, c := range containers {
		require.NoError(n.t, os.MkdirAll(filepath.Join(n.pods, ns+"_"+name+"_"+uid, c), 0o755))
	}
}

func (n *fakeNode) addContainerd(id, image, name string) {
	dir := filepath.Join(n.state, containerdBundle, id)
	require.NoError(n.t, os.MkdirAll(dir, 0o755))
	require.NoError(n.t, os.WriteFile(filepath.Join(dir, "config.json"),
		[]byte(`{"annotations":{"`+annContainerdImage+`":"`+image+`","`+annContainerdName+`":"`+name+`"}}`), 0o644))
}

func uid(i int) string {
	return strings.Replace("00000000-0000-4000-8000-000000000000", "0", string(rune('0'+i)), 1)
}

func TestMissIsLookedUpAgainOnlyAfterRefresh(t *testing.T) {
	n := newFakeNode(t, 5*time.Second, 16)
	assert.Equal(t, Info{}, n.r.Lookup(uid(1), "containerd", cid("e1")))
	// The pod and the container appear a moment later, the pods directory's mtime unchanged (a
	// change within its granularity): not read again before the refresh interval.
	fi, err := os.Stat(n.pods)
	require.NoError(t, err)
	n.addPod("ns", "late", uid(1), "app")
	require.NoError(t, os.Chtimes(n.pods, fi.ModTime(), fi.ModTime()))
	n.addContainerd(cid("e1"), "example.org/late:1", "app")
	n.now = n.now.Add(time.Second)
	assert.Equal(t, Info{}, n.r.Lookup(uid(1), "containerd", cid("e1")))
	n.now = n.now.Add(5 * time.Second)
	assert.Equal(t, Info{Namespace: "ns", PodName: "late", ContainerName: "app", Image: "example.org/late:1"},
		n.r.Lookup(uid(1), "containerd", cid("e1")))
	// Once found, an answer stays while the files go (a process outlives nothing here, but the
	// records of an exited container's last processes still get their names).
	require.NoError(t, os.RemoveAll(n.pods))
	require.NoError(t, os.RemoveAll(n.state))
	n.now = n.now.Add(time.Minute)
	assert.Equal(t, "example.org/late:1", n.r.Lookup(uid(1), "containerd", cid("e1")).Image)
}

// A pod or podman container created just after another one's lookup is found at once: the
// directory's or the index's change is noticed, the refresh interval does not apply.
func TestNewEntriesAreSeenAtOnce(t *testing.T) {
	n := newFakeNode(t, time.Hour, 16)
	n.addPod("ns", "first", uid(1), "app")
	assert.Equal(t, "first", n.r.Lookup(uid(1), "", "").PodName)
	assert.Equal(t, Info{}, n.r.Lookup(uid(2), "", ""), "not there yet")
	// Directory mtimes have a clock tick's granularity: make the change visible as a real one is.
	n.addPod("ns", "second", uid(2), "app")
	require.NoError(t, os.Chtimes(n.pods, time.Now(), time.Now().Add(time.Second)))
	n.now = n.now.Add(time.Second)
	assert.Equal(t, "second", n.r.Lookup(uid(2), "", "").PodName)

	index := filepath.Join(n.state, storageIndexFile)
	require.NoError(t, os.MkdirAll(filepath.Dir(index), 0o755))
	entry := func(id, image string) string {
		return `{"id":"` + id + `","metadata":"{\"image-name\":\"` + image + `\"}"}`
	}
	require.NoError(t, os.WriteFile(index, []byte("["+entry(cid("a1"), "localhost/a:1")+"]"), 0o600))
	assert.Equal(t, "localhost/a:1", n.r.Lookup("", "podman", cid("a1")).Image)
	require.NoError(t, os.WriteFile(index, []byte("["+entry(cid("a1"), "localhost/a:1")+","+entry(cid("a2"), "localhost/b:2")+"]"), 0o600))
	n.now = n.now.Add(time.Second)
	assert.Equal(t, "localhost/b:2", n.r.Lookup("", "podman", cid("a2")).Image)
	// An unknown id with an unchanged index costs a stat, not a read.
	readAt := n.r.storage.readAt
	n.now = n.now.Add(time.Second)
	assert.Equal(t, Info{}, n.r.Lookup("", "podman", cid("a3")))
	assert.Equal(t, readAt, n.r.storage.readAt)
}

func TestInitContainerThenMainContainer(t *testing.T) {
	n := newFakeNode(t, time.Second, 16)
	n.addPod("ns", "p", uid(2), "init")
	// A runtime without annotations (state not mounted): the only container directory names it.
	assert.Equal(t, "init", n.r.Lookup(uid(2), "", cid("f1")).ContainerName)
	n.addPod("ns", "p", uid(2), "main")
	assert.Equal(t, "", n.r.Lookup(uid(2), "", cid("f2")).ContainerName, "two container directories: no guess")
	assert.Equal(t, "init", n.r.Lookup(uid(2), "", cid("f1")).ContainerName, "the init container keeps its name")
}

func TestBounded(t *testing.T) {
	n := newFakeNode(t, time.Second, 4)
	for i := 1; i <= 8; i++ {
		n.addPod("ns", "p", uid(i), "c")
	}
	found := 0
	for i := 1; i <= 8; i++ {
		if n.r.Lookup(uid(i), "", "").PodName != "" {
			found++
		}
	}
	assert.LessOrEqual(t, len(n.r.pods), 4)
	assert.Positive(t, found)
	for i := 0; i < 10; i++ {
		n.r.Lookup("", "containerd", cid("a"+string(rune('0'+i))))
	}
	assert.LessOrEqual(t, n.r.containers.Len(), 4)
}

func TestOversizedStateIsIgnored(t *testing.T) {
	n := newFakeNode(t, time.Second, 16)
	dir := filepath.Join(n.state, containerdBundle, cid("b1"))
	require.NoError(t, os.MkdirAll(dir, 0o755))
	big := `{"annotations":{"` + annContainerdImage + `":"x"},"pad":"` + strings.Repeat("a", maxConfigBytes) + `"}`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(big), 0o644))
	assert.Equal(t, Info{}, n.r.Lookup("", "containerd", cid("b1")))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"annotations":`), 0o644))
	n.now = n.now.Add(2 * time.Second)
	assert.Equal(t, Info{}, n.r.Lookup("", "containerd", cid("b1")), "truncated JSON")
}

// BenchmarkLookupHit is the cost on the event path once a container and its pod are known.
func BenchmarkLookupHit(b *testing.B) {
	r := New(Options{PodsDir: "testdata/pods", StateRoot: "testdata/host"})
	r.Lookup(webUID, "containerd", cid("c1"))
	b.ReportAllocs()
	for b.Loop() {
		r.Lookup(webUID, "containerd", cid("c1"))
	}
}

// BenchmarkLookupMiss is the cost of a container id no runtime knows, within the refresh interval.
func BenchmarkLookupMiss(b *testing.B) {
	r := New(Options{PodsDir: "testdata/pods", StateRoot: "testdata/host"})
	r.Lookup("00000000-0000-4000-8000-000000000000", "", cid("d9"))
	b.ReportAllocs()
	for b.Loop() {
		r.Lookup("00000000-0000-4000-8000-000000000000", "", cid("d9"))
	}
}
