package cryptochainresponseexporter

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
)

func TestDecodeFinding(t *testing.T) {
	seen := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	ld := testFinding{id: "f-1", severity: "critical", cgroup: "/libpod_parent/libpod-abc", containerID: "abc",
		image: "localhost/x:1", hostName: "node-a", minerPIDs: []int{4242, 4242, 0}, minerSeen: seen, minerExe: "/bin/xmrig",
		endpoints: []string{"pool.example:3333", "pool.example", "198.51.100.23:3333", "[2001:db8::1]:443", "::ffff:192.0.2.9"},
		poolIPs:   map[string]string{"198.51.100.24": "pool.example:3333"},
		persist:   []string{"/etc/cron.d/x"}}.logs()
	// Other records in the same request are ignored.
	other := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().AppendEmpty()
	other.SetEventName("cryptochain.process.exec")

	fs := findings(ld)
	require.Len(t, fs, 1)
	f := fs[0]
	assert.Equal(t, "f-1", f.ID)
	assert.Equal(t, "critical", f.Severity)
	assert.Equal(t, "/libpod_parent/libpod-abc", f.Cgroup, "without the 0:: prefix")
	assert.Equal(t, "abc", f.ContainerID)
	assert.Equal(t, "localhost/x:1", f.Image)
	assert.Equal(t, "node-a", f.HostName)
	require.Len(t, f.Miners, 1, "pids are unique and positive")
	assert.Equal(t, minerRef{PID: 4242, FirstSeen: seen, Exe: "/bin/xmrig", Strong: true}, f.Miners[0])
	assert.ElementsMatch(t, []netip.AddrPort{
		netip.MustParseAddrPort("198.51.100.24:3333"), // the address the DNS evidence resolved
		netip.MustParseAddrPort("198.51.100.23:3333"),
		netip.MustParseAddrPort("[2001:db8::1]:443"),
		netip.AddrPortFrom(netip.MustParseAddr("192.0.2.9"), 0), // a bare address: every port, unmapped
	}, f.Endpoints)
	assert.Equal(t, []string{"pool.example:3333", "pool.example"}, f.Unresolved)
	assert.Equal(t, []string{"/etc/cron.d/x"}, f.Persistence)
	assert.Equal(t, map[string]string{"host.name": "node-a", "host.id": "test-host-id", "container.id": "abc",
		"container.image.name": "localhost/x:1", "cryptochain.context.id": "login_session:test"}, f.Resource)
}

// allowlist.container_images matches the container.image.name the receiver puts on the resource
// and the processor carries onto the finding; the pod's names are kept for the audit record.
func TestContainerImageAllowlist(t *testing.T) {
	ld := testFinding{id: "f-img", severity: "critical", containerID: "abc", image: "docker.io/library/nginx:1.27",
		hostName: "node-a", minerPIDs: []int{4242}}.logs()
	res := ld.ResourceLogs().At(0).Resource().Attributes()
	res.PutStr(contract.ResourceK8sNamespaceName, "prod")
	res.PutStr(contract.ResourceK8sPodName, "web-7d9f8")
	fs := findings(ld)
	require.Len(t, fs, 1)
	assert.Equal(t, "prod", fs[0].Resource["k8s.namespace.name"])
	assert.Equal(t, "web-7d9f8", fs[0].Resource["k8s.pod.name"])
	for _, tc := range []struct {
		images []string
		want   string
	}{
		{[]string{"docker.io/library/nginx:1.27"}, "container image docker.io/library/nginx:1.27 is allowlisted"},
		{[]string{"nginx:1.27"}, ""}, // spelt otherwise than the runtime names it: no match
		{nil, ""},
	} {
		a := &actor{cfg: &Config{Allowlist: AllowlistConfig{ContainerImages: tc.images}}}
		assert.Equal(t, tc.want, a.findingAllowlisted(&fs[0]), "%v", tc.images)
	}
	noImage := testFinding{id: "f-host", severity: "critical", hostName: "node-a", minerPIDs: []int{4242}}.logs()
	a := &actor{cfg: &Config{Allowlist: AllowlistConfig{ContainerImages: []string{""}}}}
	assert.Empty(t, a.findingAllowlisted(&findings(noImage)[0]), "a finding without an image never matches")
}

func TestDecodeWrongTypesNeverPanic(t *testing.T) {
	ld := plog.NewLogs()
	lr := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.SetEventName("cryptochain.finding")
	lr.SetSeverityText("HIGH")
	a := lr.Attributes()
	a.PutInt(contract.AttrFindingID, 7)
	a.PutStr(contract.AttrResponseMinerPIDs, "4242")
	a.PutEmptySlice(contract.AttrResponsePoolEndpoints).AppendEmpty().SetInt(3)
	a.PutEmptySlice(contract.AttrFindingEvidencePrefix + "miner").AppendEmpty().SetStr("not a map")
	fs := findings(ld)
	require.Len(t, fs, 1)
	assert.Empty(t, fs[0].ID, "a finding without an id is not acted on")
	assert.Equal(t, "high", fs[0].Severity, "severity falls back to SeverityText")
	assert.Empty(t, fs[0].Miners)
	assert.Empty(t, fs[0].Endpoints)
}
