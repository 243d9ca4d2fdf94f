package cryptochainprocessor

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
)

// triageScenario is a golden replay of the records a finding's triage adds (impact updates,
// campaigns), under the processor configuration that turns them on.
type triageScenario struct {
	name   string
	mutate func(*Config)
	recs   []rec
}

// onHost moves a record to another host (resource host.name / host.id).
func onHost(host string, r rec) rec {
	res := map[string]string{"host.name": host, "host.id": "id-" + host}
	for k, v := range r.res {
		res[k] = v
	}
	r.res = res
	return r
}

func usage(ctx string, at time.Duration, pid int64, exe string, cpu float64, rss int64) rec {
	return rec{ctx: ctx, name: "cryptochain.process.usage", at: at, pid: pid, anc: sh, attrs: map[string]any{
		"process.executable.path": exe, "cryptochain.process.cpu.time": cpu, "cryptochain.process.memory.rss": rss}}
}

// withTCP adds the receiver's per-endpoint TCP byte counts to a usage record: remote "ip:port",
// bytes sent, bytes received, repeated.
func withTCP(r rec, conns ...any) rec {
	var list []any
	for i := 0; i+2 < len(conns); i += 3 {
		host, port, _ := net.SplitHostPort(conns[i].(string))
		n, _ := strconv.Atoi(port)
		list = append(list, map[string]any{"server.address": host, "server.port": int64(n),
			"bytes_sent": conns[i+1], "bytes_received": conns[i+2]})
	}
	r.attrs["cryptochain.process.tcp.connections"] = list
	return r
}

func triageScenarios() []triageScenario {
	var s []triageScenario

	// A login's miner keeps running: the first sample updates the finding at once, the next one
	// within impact.interval does not, the one after it does; another process's samples and a
	// stale (smaller) counter are no update. Its bytes with the pool count the connection to the
	// pool's address (poolA:3333) only, not one to another address.
	run := minerRun("ssh:40", 0)
	run[0] = withHash(run[0], xmrigSHA256)
	poolEP := net.JoinHostPort(poolA, "3333")
	run = append(run,
		withTCP(usage("ssh:40", 30*time.Second, 1000, xmrig, 29.5, 256<<20), poolEP, int64(4096), int64(65536), "203.0.113.9:443", int64(700), int64(900)),
		withTCP(usage("ssh:40", 30*time.Second, 1001, "/usr/bin/vim", 3, 8<<20), poolEP, int64(5), int64(5)), // same context, not a miner
		usage("ssh:40", 60*time.Second, 1000, xmrig, 59.0, 260<<20),                                          // within the interval
		usage("ssh:40", 95*time.Second, 1000, xmrig, 20.0, 260<<20),                                          // stale counter
		withTCP(usage("ssh:40", 100*time.Second, 1000, xmrig, 98.5, 262<<20), poolEP, int64(9000), int64(140000)),
	)
	s = append(s, triageScenario{"impact_running_miner", func(c *Config) {
		c.Impact.PricePerCoreHour = 0.36
		c.Impact.Currency = "EUR"
	}, run})

	// Usage of a process that never became a finding's miner updates nothing.
	s = append(s, triageScenario{"impact_no_finding_no_update", nil, []rec{
		exec("ssh:41", 0, 1100, sh, "/usr/bin/ffmpeg", "ffmpeg", "-i", "in.mkv", "out.mp4"),
		usage("ssh:41", time.Minute, 1100, "/usr/bin/ffmpeg", 58, 120<<20),
	}})

	// The same miner (wallet, pool, executable hash) on two hosts makes one campaign naming both;
	// a third host that only resolves the campaign's pool joins below Medium (basis indicator), a
	// fourth with an unrelated DNS query does not join.
	camp := func(c *Config) { c.Campaigns.Enabled = true }
	var fleet []rec
	for _, r := range minerRun("ssh:50", 0) {
		fleet = append(fleet, onHost("node-a", r))
	}
	fleet[0] = withHash(fleet[0], xmrigSHA256)
	for _, r := range minerRun("ssh:51", time.Hour) {
		fleet = append(fleet, onHost("node-b", r))
	}
	fleet[4] = withHash(fleet[4], xmrigSHA256)
	fleet = append(fleet,
		onHost("node-c", dnsQuery("daemon:52", 2*time.Hour, 4000, []int64{1}, "/usr/bin/curl", pool)),
		onHost("node-d", dnsQuery("daemon:53", 3*time.Hour, 4100, []int64{1}, "/usr/bin/curl", "deb.debian.org")),
	)
	s = append(s, triageScenario{"campaign_two_hosts_and_indicator_member", camp, fleet})

	// A campaign in containers: the same miner in a container on two hosts; the campaign names the
	// containers, and a repeat of what is known emits no new campaign record.
	ctrA := map[string]string{"container.id": "aa11bb22cc33dd44ee55ff6600112233445566778899aabbccddeeff00112233"}
	ctrB := map[string]string{"container.id": "bb22cc33dd44ee55ff660011223344556677889900aabbccddeeff0011223344"}
	inCtr := func(host string, res map[string]string, r rec) rec { r.res = res; return onHost(host, r) }
	var ctrs []rec
	for _, r := range minerRun("cgroup:54", 0) {
		ctrs = append(ctrs, inCtr("node-a", ctrA, r))
	}
	for _, r := range minerRun("cgroup:55", time.Minute) {
		ctrs = append(ctrs, inCtr("node-b", ctrB, r))
	}
	ctrs = append(ctrs, inCtr("node-b", ctrB, connect("cgroup:55", 2*time.Minute, 1000, sh, xmrig, poolA, 3333)))
	s = append(s, triageScenario{"campaign_containers_on_two_hosts", camp, ctrs})

	// Bounds: a campaign keeps two hosts and one container; the third host's and the second
	// container's observations are counted (hosts_omitted, containers_omitted), not kept.
	bounded := func(c *Config) {
		c.Campaigns.Enabled = true
		c.Campaigns.MaxHosts = 2
		c.Campaigns.MaxContainers = 1
	}
	var full []rec
	for i, host := range []string{"node-a", "node-b", "node-c"} {
		res := map[string]string{"container.id": strings.Repeat(string(rune('a'+i)), 64)}
		for _, r := range minerRun("cgroup:6"+string(rune('0'+i)), time.Duration(i)*time.Minute) {
			full = append(full, inCtr(host, res, r))
		}
	}
	s = append(s, triageScenario{"campaign_bounded_hosts_and_containers", bounded, full})
	return s
}

// replayWith replays in like replay, under the configuration mutate gives, and returns every record
// emitted (findings, impact updates, campaigns) with the volatile fields blanked. An impact update
// must name the finding id of its context.
func replayWith(t *testing.T, in plog.Logs, mutate func(*Config)) plog.Logs {
	h := newHarness(t, func(c *Config) {
		c.Forward = ForwardNone
		if mutate != nil {
			mutate(c)
		}
	}, nil, false)
	defer h.shutdown()
	for i := 0; i < in.ResourceLogs().Len(); i++ {
		one := plog.NewLogs()
		in.ResourceLogs().At(i).CopyTo(one.ResourceLogs().AppendEmpty())
		require.NoError(t, h.proc.ConsumeLogs(context.Background(), one))
	}
	out := plog.NewLogs()
	ids := map[string]string{} // context id → finding id
	for _, ld := range h.sink.AllLogs() {
		for i := 0; i < ld.ResourceLogs().Len(); i++ {
			rl := ld.ResourceLogs().At(i)
			ctxID := ""
			if v, ok := rl.Resource().Attributes().Get("cryptochain.context.id"); ok {
				ctxID = v.Str()
			}
			eachRecordOf(rl, func(lr plog.LogRecord) {
				id := attrStr(lr, "cryptochain.finding.id")
				switch lr.EventName() {
				case "cryptochain.finding":
					if prev, ok := ids[ctxID]; ok {
						assert.Equal(t, prev, id, "finding id must be stable across escalations")
					}
					ids[ctxID] = id
				case ImpactEventName:
					assert.Equal(t, ids[ctxID], id, "an impact update names its context's finding")
				}
				if id != "" {
					lr.Attributes().PutStr("cryptochain.finding.id", "<volatile>")
					lr.Body().SetStr(strings.ReplaceAll(lr.Body().AsString(), id, "<volatile>"))
				}
				lr.SetObservedTimestamp(0)
			})
			rl.CopyTo(out.ResourceLogs().AppendEmpty())
		}
	}
	return out
}

func eachRecordOf(rl plog.ResourceLogs, fn func(plog.LogRecord)) {
	for j := 0; j < rl.ScopeLogs().Len(); j++ {
		lrs := rl.ScopeLogs().At(j).LogRecords()
		for k := 0; k < lrs.Len(); k++ {
			fn(lrs.At(k))
		}
	}
}

// TestGoldenTriage compares impact updates and campaign records with testdata/golden, like TestGolden.
func TestGoldenTriage(t *testing.T) {
	for _, sc := range triageScenarios() {
		t.Run(sc.name, func(t *testing.T) {
			checkGolden(t, sc.name, sc.recs, func(in plog.Logs) plog.Logs { return replayWith(t, in, sc.mutate) },
				"triage records changed; if intended, review the diff and regenerate: "+
					"go test ./processor/cryptochainprocessor -run TestGoldenTriage -update")
		})
	}
}
