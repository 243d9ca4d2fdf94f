package redact

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cryptochain-otel/cryptochain/internal/redact/redacttest"
)

// play redacts an entry the way the receiver does and returns what would be exported; an argv is
// redacted as a vector (the receiver) and as one line (a finding's command line): both are returned.
func play(r *Redactor, e redacttest.Entry) []string {
	switch {
	case len(e.Argv) > 0:
		args := append([]string(nil), e.Argv...)
		r.Args(args)
		return []string{strings.Join(args, " "), r.Text(strings.Join(e.Argv, " "))}
	case len(e.Env) > 0:
		var b strings.Builder
		for k, v := range e.Env {
			b.WriteString(k + "=" + r.Env(k, v) + "\n")
		}
		return []string{b.String()}
	case e.Payload != "":
		p, _ := r.Payload(e.Payload)
		return []string{p}
	}
	return []string{r.Text(e.File)}
}

func TestCorpus(t *testing.T) {
	corpus, err := redacttest.Load()
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(corpus), 50)
	r := Default()
	for _, e := range corpus {
		for _, out := range play(r, e) {
			assert.Empty(t, redacttest.Leaks([]redacttest.Entry{e}, out), "%s: %s", e.Name, out)
			if e.Payload != "" && !Mining(e.Payload) {
				continue
			}
			for _, k := range e.Keep {
				assert.Contains(t, out, k, e.Name)
			}
		}
	}
}

// TestCorpusNeedsEveryRule fails when a rule could be turned off without any corpus entry leaking:
// then the corpus does not test that rule.
func TestCorpusNeedsEveryRule(t *testing.T) {
	corpus, err := redacttest.Load()
	require.NoError(t, err)
	for _, rule := range Rules {
		r, err := New(Config{Disable: []string{rule}})
		require.NoError(t, err)
		leaked := 0
		for _, e := range corpus {
			if len(redacttest.Leaks([]redacttest.Entry{e}, strings.Join(play(r, e), "\n"))) > 0 {
				leaked++
			}
		}
		assert.Positive(t, leaked, "with %s off nothing leaks", rule)
	}
}

func TestShapesKept(t *testing.T) {
	r := Default()
	for in, want := range map[string]string{
		"postgres://app:pw@db:5432/prod":                      "postgres://app:[REDACTED]@db:5432/prod",
		"curl -u admin:hunter2 http://x":                      "curl -u admin:[REDACTED] http://x",
		"xmrig -o stratum+tcp://pool.example.net:3333 -u 4AB": "xmrig -o stratum+tcp://pool.example.net:3333 -u 4AB",
		"* * * * * root /tmp/x --donate-level=1 -a rx/0":      "* * * * * root /tmp/x --donate-level=1 -a rx/0",
		"ssh -p 2222 deploy@host":                             "ssh -p 2222 deploy@host",
		"mkdir -p /etc/cron.d":                                "mkdir -p /etc/cron.d",
		"docker run -p 8080:80 -u 1000:1000 img":              "docker run -p 8080:80 -u 1000:1000 img",
		"PATH=/usr/local/bin:/usr/bin:/bin":                   "PATH=/usr/local/bin:/usr/bin:/bin",
		"docker login --password-stdin -u bob reg":            "docker login --password-stdin -u bob reg",
		`{"url": "stratum+tcp://pool.example.net:3333", "user": "4AB", "pass": "x", "keepalive": true}`: `{"url": "stratum+tcp://pool.example.net:3333", "user": "4AB", "pass": "[REDACTED]", "keepalive": true}`,
	} {
		assert.Equal(t, want, r.Text(in), in)
	}
	args := []string{"/usr/bin/xmrig", "-o", "stratum+tcp://4AB.w:x@pool.example.net:3333", "--pass", "w1", "-u", "4AB"}
	assert.True(t, r.Args(args))
	assert.Equal(t, []string{"/usr/bin/xmrig", "-o", "stratum+tcp://4AB.w:[REDACTED]@pool.example.net:3333", "--pass", "[REDACTED]", "-u", "4AB"}, args)
	plain := []string{"ls", "-la", "--color=auto", "/home/user/projects"}
	assert.False(t, r.Args(plain))
}

func TestEnvPolicies(t *testing.T) {
	none, err := New(Config{EnvValues: EnvValuesNone})
	require.NoError(t, err)
	assert.Equal(t, Mark, none.Env("HOME", "/root"))
	all, err := New(Config{EnvValues: EnvValuesAll})
	require.NoError(t, err)
	assert.Equal(t, "hunter2", all.Env("API_TOKEN", "hunter2"))
	assert.Equal(t, "http://u:[REDACTED]@h", all.Env("X", "http://u:pw@h"), "shape rules apply to every policy")
	r := Default()
	assert.Equal(t, Mark, r.Env("aws_secret_access_key", "x"), "names match case-insensitively")
	assert.Equal(t, "/root", r.Env("HOME", "/root"))
	custom, err := New(Config{SecretNames: []string{"*key*", "DB?PASS*"}})
	require.NoError(t, err)
	assert.Equal(t, Mark, custom.Env("DB_PASSWORD", "x"))
	assert.Equal(t, "x", custom.Env("API_TOKEN", "x"), "replaced names")
}

func TestConfigErrorsNameTheEntry(t *testing.T) {
	assert.ErrorContains(t, Config{Disable: []string{"argv_flags", "nope"}}.Validate(), "disable[1]")
	assert.ErrorContains(t, Config{ExtraPatterns: []string{"("}}.Validate(), "extra_patterns[0]")
	assert.ErrorContains(t, Config{SecretNames: []string{"["}}.Validate(), "secret_names[0]")
	assert.ErrorContains(t, Config{EnvValues: "some"}.Validate(), "env_values")
}

func TestExtraPatterns(t *testing.T) {
	r, err := New(Config{ExtraPatterns: []string{`corp-[0-9a-f]{8}`, `pin=(\d+)`}})
	require.NoError(t, err)
	assert.Equal(t, "tool [REDACTED] pin=[REDACTED]", r.Text("tool corp-deadbeef pin=1234"))
	args := []string{"tool", "corp-deadbeef"}
	r.Args(args)
	assert.Equal(t, Mark, args[1])
}

func TestPayload(t *testing.T) {
	r := Default()
	_, ok := r.Payload("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	assert.False(t, ok)
	p, ok := r.Payload(`{"id":1,"method":"login","params":{"login":"4AB","pass":"cut-off-pa`)
	assert.True(t, ok)
	assert.Equal(t, `{"id":1,"method":"login","params":{"login":"4AB","pass":"[REDACTED]`, p)
	off, _ := New(Config{Disable: []string{RulePayloadFilter}})
	_, ok = off.Payload("GET / HTTP/1.1\r\n")
	assert.True(t, ok)
}

// TestFloodIsLinear: inputs that repeat what the rules look for cost about as much as plain text of
// the same size (an attacker controls argv, environment and file content).
func TestFloodIsLinear(t *testing.T) {
	r := Default()
	for _, unit := range []string{"eyJ", "PASS=", "a:", "Authorization: ", "http://a:b@", "?token=", "-----BEGIN ", "ghp_", "-p ", `"pass": "`, "AKIA"} {
		s := strings.Repeat(unit, 65536/len(unit)) // the largest file content the receiver reads back
		start := time.Now()
		_ = r.Text(s)
		r.Args(strings.Fields(s))
		_ = r.Env("X", s)
		assert.Less(t, time.Since(start), 300*time.Millisecond, "%q repeated", unit)
	}
}

func FuzzText(f *testing.F) {
	f.Add("curl -u a:b http://u:p@h/?token=x -H 'Authorization: Bearer y'")
	f.Add(`{"pass":"`)
	f.Add("-----BEGIN PRIVATE KEY-----")
	r := Default()
	f.Fuzz(func(t *testing.T, s string) {
		_ = r.Text(s)
		_ = r.Env("A_KEY", s)
		_, _ = r.Payload(s)
		r.Args(strings.Fields(s))
	})
}
