//go:build linux && amd64

package ebpfreceiver

import (
	"encoding/hex"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/cryptochain-otel/cryptochain/internal/redact"
	"github.com/cryptochain-otel/cryptochain/internal/redact/redacttest"
)

// TestKernelRedactionCorpus plays every secret shape of testdata/secrets/corpus.yaml through the
// real receiver: execs with that argv or environment, connections to a loopback listener whose
// first bytes are that payload, and writes of that content to a cron file (named with a dot, which
// cron ignores, and removed at the end). No secret may appear in anything the receiver exported.
func TestKernelRedactionCorpus(t *testing.T) {
	corpus, err := redacttest.Load()
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(corpus), 50)
	k := startKernel(t, func(c *Config) {
		// CRYPTOCHAIN_REDACT_DISABLE=rule[,rule] turns rules off, to see this test fail without them.
		if d := os.Getenv("CRYPTOCHAIN_REDACT_DISABLE"); d != "" {
			c.Redaction.Disable = strings.Split(d, ",")
		}
	})
	json := playCorpus(t, k, corpus)
	assert.Empty(t, redacttest.Leaks(corpus, json), "secrets in exported records")
	for _, e := range corpus {
		for _, keep := range e.Keep {
			assert.True(t, redacttest.Contains(json, keep), "%s: %q did not survive", e.Name, keep)
		}
	}
}

// TestKernelRedactionCorpusCanFail runs part of the corpus with every rule off: the same search
// must then find the secrets, or the test above proves nothing.
func TestKernelRedactionCorpusCanFail(t *testing.T) {
	corpus, err := redacttest.Load()
	require.NoError(t, err)
	var some []redacttest.Entry
	for _, e := range corpus {
		if len(e.Argv) > 0 && len(some) < 2 || len(e.Env) > 0 && len(some) < 4 || e.File != "" && len(some) < 5 ||
			e.Payload != "" && strings.Contains(e.Payload, `"login"`) {
			some = append(some, e)
		}
	}
	k := startKernel(t, func(c *Config) {
		c.Redaction.Disable = redact.Rules
		c.Env.Values = EnvValuesAll
	})
	json := playCorpus(t, k, some)
	assert.Len(t, redacttest.Leaks(some, json), len(some), "with redaction off every secret is exported")
}

// playCorpus acts out the entries and returns every record the receiver exported, as OTLP JSON.
func playCorpus(t *testing.T, k *kernelReceiver, corpus []redacttest.Entry) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				buf := make([]byte, 4096)
				_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
				_, _ = c.Read(buf)
				_ = c.Close()
			}()
		}
	}()
	for _, e := range corpus {
		switch {
		case len(e.Argv) > 0:
			cmd := exec.Command("/bin/true")
			cmd.Args = e.Argv
			cmd.Env = []string{"PATH=/usr/bin:/bin"}
			pid, _ := runOut(t, cmd)
			k.wait(t, "exec of "+e.Name, func(f flat) bool { return f.lr.EventName() == "cryptochain.process.exec" && pidIs(f, pid) })
		case len(e.Env) > 0:
			cmd := exec.Command("/bin/true", e.Name)
			cmd.Env = []string{"PATH=/usr/bin:/bin"}
			for name, v := range e.Env {
				cmd.Env = append(cmd.Env, name+"="+v)
			}
			pid, _ := runOut(t, cmd)
			k.wait(t, "exec of "+e.Name, func(f flat) bool { return f.lr.EventName() == "cryptochain.process.exec" && pidIs(f, pid) })
		case e.Payload != "":
			pid, out := runOut(t, helper("sendhex", ln.Addr().String(), hex.EncodeToString([]byte(e.Payload))))
			require.Empty(t, out)
			k.wait(t, "payload of "+e.Name, func(f flat) bool { return f.lr.EventName() == "cryptochain.network.payload" && pidIs(f, pid) })
		default:
			path := "/etc/cron.d/" + randName("cryptochain-redact.")
			t.Cleanup(func() { _ = os.Remove(path) })
			pid, out := runOut(t, helper("writehex", path, hex.EncodeToString([]byte(e.File))))
			require.Empty(t, out)
			k.wait(t, "cron write of "+e.Name, func(f flat) bool {
				return f.lr.EventName() == "cryptochain.file.write" && pidIs(f, pid) && str(f.lr.Attributes(), "cryptochain.file.content") != ""
			})
			require.NoError(t, os.Remove(path))
		}
	}
	time.Sleep(300 * time.Millisecond) // the last batch
	return exportedJSON(t, k.sink)
}

func exportedJSON(t *testing.T, sink *consumertest.LogsSink) string {
	var b []byte
	var m plog.JSONMarshaler
	for _, ld := range sink.AllLogs() {
		j, err := m.MarshalLogs(ld)
		require.NoError(t, err)
		b = append(append(b, j...), '\n')
	}
	s, err := redacttest.Normalize(b)
	require.NoError(t, err)
	return s
}
