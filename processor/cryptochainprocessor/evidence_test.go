package cryptochainprocessor

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// failedWrite is a write-open the kernel refused (EACCES on an MSR device, ENOENT in a missing
// cron directory): reported, whatever its result.
func failedWrite(ctx string, at time.Duration, pid int64, exe, path string) rec {
	r := fileWrite(ctx, at, pid, sh, exe, path, "open", "")
	r.attrs["cryptochain.file.result"] = "error"
	r.attrs["error.type"] = "EACCES"
	return r
}

// The chain after a flood of failing MSR opens and writes into a missing cron directory is still
// graded in full (Critical), and the finding says evidence was dropped.
func TestEvidenceFloodThenChain(t *testing.T) {
	h := newHarness(t, nil, nil, false)
	defer h.shutdown()
	var flood []rec
	for i := range 400 {
		pid := int64(5000 + i)
		at := time.Duration(i) * time.Millisecond
		flood = append(flood, failedWrite("ssh:40", at, pid, "/usr/bin/dd", fmt.Sprintf("/dev/cpu/%d/msr", i%97)),
			failedWrite("ssh:40", at, pid, "/usr/bin/tee", fmt.Sprintf("/etc/cron.d/x%d", i)),
			exit("ssh:40", at+time.Microsecond, pid, 0))
	}
	h.consume(flood...)
	require.Empty(t, h.findings(), "failed attempts alone are no chain")
	chain := []rec{
		fileWrite("ssh:40", time.Second, 950, sh, "/usr/bin/tee", "/etc/cron.d/0systemd", "create", "* * * * * root "+xmrig+" -B\n"),
		sysctl("ssh:40", time.Second+time.Millisecond, 970, sh, "vm.nr_hugepages", "1280"),
	}
	chain = append(chain, minerRun("ssh:40", 2*time.Second)...)
	h.consume(chain...)
	fs := h.findings()
	require.NotEmpty(t, fs)
	last := fs[len(fs)-1]
	assert.Equal(t, "CRITICAL", last.SeverityText())
	dropped, ok := last.Attributes().Get("cryptochain.finding.evidence_dropped")
	require.True(t, ok, "the finding states that evidence was dropped")
	assert.Positive(t, dropped.Int())
}

// A concealment added to a Medium chain keeps it Medium and is shown: the finding is reported again
// under the same id.
func TestConcealmentOnMedium(t *testing.T) {
	h := newHarness(t, nil, nil, false)
	defer h.shutdown()
	h.consume(minerRun("ssh:41", 0)...)
	h.consume(fileWrite("ssh:41", time.Second, 960, sh, "/usr/bin/tee", "/etc/ld.so.preload", "open", "/usr/local/lib/libprocesshider.so\n"),
		exec("ssh:41", 2*time.Second, 961, sh, "/usr/bin/chattr", "chattr", "+i", "/etc/ld.so.preload"))
	fs := h.findings()
	require.GreaterOrEqual(t, len(fs), 2)
	first, last := fs[0], fs[len(fs)-1]
	assert.Equal(t, "MEDIUM", first.SeverityText())
	assert.Equal(t, "MEDIUM", last.SeverityText())
	assert.Equal(t, attrStr(first, "cryptochain.finding.id"), attrStr(last, "cryptochain.finding.id"))
	assert.Equal(t, []any{"miner", "pool"}, groupsOf(t, last))
	assert.Equal(t, `["preload","immutable"]`, attrStr(last, "cryptochain.finding.concealment"))
	hidden, ok := last.Attributes().Get("cryptochain.finding.evidence.concealment")
	require.True(t, ok)
	assert.Equal(t, 2, hidden.Slice().Len())
	assert.Contains(t, last.Body().Str(), "concealment preload /etc/ld.so.preload")
	_, ok = first.Attributes().Get("cryptochain.finding.concealment")
	assert.False(t, ok)
}

// The cron table's content arrives with its read-back after cron already ran the new entry: the
// re-spawned miner is still linked to its writer, and the escalation keeps the finding id.
func TestCronRunsBeforeReadback(t *testing.T) {
	h := newHarness(t, nil, nil, false)
	defer h.shutdown()
	cmd := "/var/tmp/.sys/kthreadd -c /var/tmp/.sys/c.json"
	cronAnc, minerAnc := []int64{1999, 1}, []int64{2000, 1999, 1}
	kt := "/var/tmp/.sys/kthreadd"
	h.consume(
		exec("cron:42", 200*time.Millisecond, 2000, cronAnc, "/bin/dash", "/bin/sh", "-c", cmd),
		exec("cron:42", 210*time.Millisecond, 2001, minerAnc, kt, kt, "-c", "/var/tmp/.sys/c.json", "-o", "stratum+tcp://"+pool+":443", "-u", wallet),
		dnsQuery("cron:42", 220*time.Millisecond, 2001, minerAnc, kt, pool),
	)
	// The write happened at 0; its record (with the content read back) arrives now.
	h.consume(fileWrite("ssh:43", 0, 950, sh, "/usr/bin/tee", "/etc/cron.d/0systemd", "open", "* * * * * root "+cmd+"\n"))
	fs := h.findings()
	require.Len(t, fs, 2)
	assert.Equal(t, "MEDIUM", fs[0].SeverityText())
	assert.Equal(t, "HIGH", fs[1].SeverityText())
	assert.Equal(t, attrStr(fs[0], "cryptochain.finding.id"), attrStr(fs[1], "cryptochain.finding.id"))
	assert.Equal(t, `["ssh:43"]`, attrStr(fs[1], "cryptochain.finding.linked_contexts"))
}

// Same, but the context of the re-spawn holds no state yet when the write arrives (cron's shell
// gave no evidence): the link is made when its miner shows.
func TestCronRunsBeforeReadbackContextLater(t *testing.T) {
	h := newHarness(t, nil, nil, false)
	defer h.shutdown()
	cmd := "/var/tmp/.sys/upd"
	h.consume(exec("cron:44", 200*time.Millisecond, 2000, []int64{1999, 1}, "/bin/dash", "/bin/sh", "-c", cmd))
	h.consume(fileWrite("ssh:45", 0, 950, sh, "/usr/bin/tee", "/etc/cron.d/upd", "open", "* * * * * root "+cmd+"\n"))
	h.consume(minerRun("cron:44", 300*time.Millisecond)...)
	fs := h.findings()
	require.NotEmpty(t, fs)
	assert.Equal(t, "HIGH", fs[len(fs)-1].SeverityText())
}

// A container runtime unpacking an image writes the image's cron table; a miner later in a context
// opened from the runtime's context does not inherit it. With the receiver's chroot marker the
// write is no evidence at all.
func TestInheritanceOnlyFromSameActor(t *testing.T) {
	for _, tc := range []struct {
		name, exe string
		chroot    bool
		want      string
	}{
		{"runtime write, unmarked", "/usr/bin/podman", false, "MEDIUM"},
		{"runtime write in a chroot", "/usr/bin/podman", true, "MEDIUM"},
		{"package manager", "/usr/bin/dpkg", false, "MEDIUM"},
		{"the session's own write", "/usr/bin/tee", false, "HIGH"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil, nil, false)
			defer h.shutdown()
			w := fileWrite("ssh:46", 0, 950, sh, tc.exe, "/var/spool/cron/crontabs/root", "create", "* * * * * /usr/local/bin/job\n")
			if tc.chroot {
				w.attrs["cryptochain.file.root"] = "chroot"
			}
			h.consume(w)
			var recs []rec
			for _, r := range minerRun("daemonized:47", time.Second) {
				r.parent = "ssh:46"
				recs = append(recs, r)
			}
			h.consume(recs...)
			fs := h.findings()
			require.NotEmpty(t, fs)
			assert.Equal(t, tc.want, fs[len(fs)-1].SeverityText())
		})
	}
}

// Every golden chain, replayed with its records shuffled within a 5 s window, ends at the same
// severity per context with one finding id per context (replay checks the id).
func TestGoldenShuffled(t *testing.T) {
	const window = 5 * time.Second
	for _, sc := range scenarios() {
		t.Run(sc.name, func(t *testing.T) {
			want := finalSeverities(replay(t, stream(sc.recs)))
			for seed := range uint64(25) {
				r := rand.New(rand.NewPCG(seed, 7))
				recs := append([]rec(nil), sc.recs...)
				// Arrival = record time plus a random delay below the window: any two records less
				// than the window apart may swap.
				delay := make(map[int]time.Duration, len(recs))
				idx := make([]int, len(recs))
				for i := range recs {
					idx[i] = i
					delay[i] = time.Duration(r.Int64N(int64(window)))
				}
				sort.SliceStable(idx, func(a, b int) bool {
					return recs[idx[a]].at+delay[idx[a]] < recs[idx[b]].at+delay[idx[b]]
				})
				shuffled := make([]rec, len(recs))
				for i, j := range idx {
					shuffled[i] = recs[j]
				}
				assert.Equal(t, want, finalSeverities(replay(t, stream(shuffled))), "seed %d", seed)
			}
		})
	}
}

func finalSeverities(ld plog.Logs) map[string]string {
	out := map[string]string{}
	eachRecord(ld, func(_ pcommon.Resource, lr plog.LogRecord) {
		out[attrStr(lr, "cryptochain.finding.context.id")] = lr.SeverityText()
	})
	return out
}
