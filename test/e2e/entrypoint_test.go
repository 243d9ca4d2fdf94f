package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cryptochain-otel/cryptochain/internal/sim/scenario"
)

// sha256sum is the digest the coreutils tool prints for path: what an analyst compares a finding's
// hash with.
func sha256sum(t *testing.T, path string) string {
	t.Helper()
	out, err := exec.Command("sha256sum", path).Output()
	require.NoError(t, err, "sha256sum %s", path)
	f := strings.Fields(string(out))
	require.NotEmpty(t, f)
	return f[0]
}

// entryPointOf returns the entry point map of a finding, with its context kinds and inferred technique.
func entryPointOf(t *testing.T, f finding) (ep map[string]any, kinds []string, technique string) {
	t.Helper()
	ep, _ = f.Attrs["cryptochain.finding.entry_point"].(map[string]any)
	require.NotNil(t, ep, "no entry point in %v", f)
	kinds = anyStrs(ep["context.kinds"])
	technique, _ = ep["initial_access.technique.id"].(string)
	return ep, kinds, technique
}

// TestEntryPointServiceShellAndLogin starts the fake miner (installed as xmrig under a hidden /tmp
// directory) the two ways in that the scenario files do not play: from a shell of a web server (a
// copy of sh named php-fpm runs `sh -c`), and in a new login session (the shell sets its loginuid,
// as pam_loginuid does at login, then execs the miner). Each finding names its way in, and its
// miner hash is what sha256sum prints for the miner's file.
func TestEntryPointServiceShellAndLogin(t *testing.T) {
	s := startStack(t)
	dir, err := os.MkdirTemp("/tmp", ".e2e-entry-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	miner := filepath.Join(dir, "xmrig")
	b, err := os.ReadFile(filepath.Join(filepath.Dir(simTools(t)), "fakeminer"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(miner, b, 0o755))
	want := sha256sum(t, miner)

	const wallet = "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A"
	// The miner's arguments come from a file, so that only the miner's own exec (which carries its
	// hash) shows the pool URL and wallet: a shell whose command line shows them is Miner evidence of
	// its own, and the chain may then be reported before the miner's exec record is read (see the
	// README of the processor, "Limits").
	args := filepath.Join(dir, "args")
	require.NoError(t, os.WriteFile(args, []byte("-o pool.supportxmr.com:3333 -u "+wallet+" -p x\n"), 0o644))
	run := `exec $MINER $(cat $ARGS)` // no quotes: it sits in YAML
	for _, c := range []struct {
		name, kind, technique string
		exec                  string // the scenario's exec step
	}{
		// The web server's shell forks the miner (a command follows it). With `exec` in its place the
		// miner replaces the shell within the service_shell context, and the finding then names no
		// miner hash: the context keeps the first image's path beside the last image's hash.
		{"service-shell", "service_shell", "T1190",
			`{name: php-fpm, argv: [/bin/sh, -c, "/bin/sh -c '` + strings.TrimPrefix(run, "exec ") + `; exit $?'"]`},
		{"login", "login_session", "T1078",
			`{argv: [/bin/sh, -c, "echo 4242 > /proc/self/loginuid && ` + run + `"]`},
	} {
		t.Run(c.name, func(t *testing.T) {
			s.requireRunning(t)
			yaml := "name: entry-" + c.name + "\n" +
				"description: the fake miner started from a " + c.kind + "\n" +
				"network:\n  dns:\n    pool.supportxmr.com: {a: [127.0.8.1]}\n  pool_ports: [3333]\n" +
				"steps:\n  - exec: " + c.exec + ", netns: true, env: [MINER=" + miner + ", ARGS=" + args + ", CHAINSIM_DURATION=2s]}\n" +
				"expect:\n  severity: medium\n  case: Active Cryptomining\n  groups: [miner, pool]\n  escalations: [medium]\n" +
				"  evidence:\n    wallet: " + wallet + "\n"
			path := filepath.Join(t.TempDir(), c.name+".yaml")
			require.NoError(t, os.WriteFile(path, []byte(yaml), 0o644))
			sc, err := scenario.Load(path)
			require.NoError(t, err, "%s", yaml)
			view := s.findings.since() // the subtests share the wallet: judge only what follows this play
			res := play(t, sc, nil)
			fs := view.waitFor(sc, res, findingTimeout, hasSeverity("medium"))
			require.NotEmpty(t, fs, "no finding for the miner started from a %s", c.kind)
			final := fs[len(fs)-1]
			ep, kinds, technique := entryPointOf(t, final)
			t.Logf("entry point: %v", ep["summary"])
			require.NotEmpty(t, kinds)
			assert.Equal(t, c.kind, kinds[0], "the chain's own context: %v", ep)
			assert.Equal(t, c.technique, technique, "%v", ep)
			assert.Equal(t, true, ep["initial_access.inferred"])
			if !assert.Equal(t, []string{want}, final.strs("cryptochain.response.miner_sha256"), "the miner's hash is its sha256sum; findings: %v", fs) {
				// What the agent forwarded of the miner's exec: its hash, or why it is absent.
				for _, r := range recordsIn(t, filepath.Join(s.dir, "peer", "findings.jsonl"), "cryptochain.process.exec") {
					if r["process.executable.path"] == miner {
						t.Logf("miner exec record: hash %v, skipped %v", r["cryptochain.process.executable.hash.sha256"], r["cryptochain.process.executable.hash.skipped"])
					}
				}
			}
		})
	}
}
