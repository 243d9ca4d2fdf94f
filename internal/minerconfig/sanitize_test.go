package minerconfig

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const redactConfig = `{
    "autosave": true,
    "cpu": {"enabled": true, "huge-pages": true, "1gb-pages": true},
    "randomx": {"init": -1, "wrmsr": true},
    "http": {"enabled": true, "access-token": "s3cret"},
    "donate-level": 1,
    "pools": [{"url": "pool.cryptochain-test.invalid:443", "user": "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A", "pass": "worker1", "tls": true}]
}`

func TestSanitize(t *testing.T) {
	out, ok := Sanitize([]byte(redactConfig))
	require.True(t, ok)
	s := string(out)
	assert.Contains(t, s, `"user":"44AFFq5kSiGB`)
	assert.Contains(t, s, `"url":"pool.cryptochain-test.invalid:443"`)
	assert.Contains(t, s, `"wrmsr":true`)
	assert.Contains(t, s, `"1gb-pages":true`)
	assert.NotContains(t, s, "s3cret")
	assert.NotContains(t, s, "worker1")
	assert.Contains(t, s, Redacted)

	_, ok = Sanitize([]byte(`{"url": "stratum+tcp://1.2.3.4:3333", "user": "4abc"}`))
	assert.True(t, ok, "minimal forks")
	for _, bad := range []string{`{"name": "left-pad", "version": "1.0.0"}`, `not json`, `[1,2,3]`, redactConfig[:100], ``,
		strings.Repeat("[", 100000)} {
		_, ok := Sanitize([]byte(bad))
		assert.False(t, ok, bad[:min(len(bad), 40)])
	}
}

func FuzzSanitize(f *testing.F) {
	f.Add([]byte(redactConfig))
	f.Add([]byte(`{"pools":[{"pass":1}]}`))
	f.Fuzz(func(_ *testing.T, b []byte) { _, _ = Sanitize(b) })
}
