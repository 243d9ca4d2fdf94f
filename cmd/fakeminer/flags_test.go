package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseFlags(t *testing.T) {
	o, err := parseFlags([]string{"-o", "stratum+tcp://pool:3333", "--user=W", "-p", "rig", "--donate-level", "1", "--tls", "-a", "rx/0", "--unknown"})
	require.NoError(t, err)
	assert.Equal(t, &options{URL: "stratum+tcp://pool:3333", User: "W", Pass: "rig", Algo: "rx/0", TLS: true}, o)

	_, err = parseFlags([]string{"-o"})
	assert.ErrorContains(t, err, "-o needs a value")
}

func TestConfigFileFillsWhatFlagsLeaveEmpty(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.json")
	require.NoError(t, os.WriteFile(cfg, []byte(`{"pools":[{"url":"gulf.moneroocean.stream:10128","user":"W2","pass":"p","tls":true}]}`), 0o644))
	o, err := parseFlags([]string{"-c", cfg})
	require.NoError(t, err)
	require.NoError(t, loadConfigFile(o))
	assert.Equal(t, "gulf.moneroocean.stream:10128", o.URL)
	assert.Equal(t, "W2", o.User)
	assert.True(t, o.TLS)

	o, err = parseFlags([]string{"-c", cfg, "-u", "flagwins"})
	require.NoError(t, err)
	require.NoError(t, loadConfigFile(o))
	assert.Equal(t, "flagwins", o.User)

	require.NoError(t, os.WriteFile(cfg, []byte(`{"pools":`), 0o644))
	o, _ = parseFlags([]string{"-c", cfg})
	assert.ErrorContains(t, loadConfigFile(o), "c.json")
}

// TestRefusesOutsideNamespace is the safety interlock: on a host with any
// non-loopback interface the miner does not even try to connect.
func TestRefusesOutsideNamespace(t *testing.T) {
	err := requireLoopbackOnly()
	ifs, _ := os.ReadDir("/sys/class/net")
	if len(ifs) <= 1 {
		t.Skip("this machine has only loopback")
	}
	assert.ErrorContains(t, err, "refusing to run")
	assert.ErrorContains(t, run([]string{"-o", "127.0.0.1:1", "-u", "x"}), "refusing to run")
}

func TestDialRefusesNonLoopback(t *testing.T) {
	_, err := dialPool("stratum+tcp://192.0.2.1:3333", false)
	assert.ErrorContains(t, err, "not a loopback address")
}

func TestBurnRestoresMXCSR(t *testing.T) {
	before := getMXCSR()
	burn(50_000_000, true) // 50ms
	assert.Equal(t, before, getMXCSR())
}
