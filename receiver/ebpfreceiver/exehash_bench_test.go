//go:build linux

package ebpfreceiver

import (
	"os"
	"testing"
	"time"

	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/exehash"
)

// BenchmarkPipelineExecFlagged is an exec storm of one binary the miner pre-filter flags (run from a
// hidden directory): each exec pays an open and fstat of /proc/<pid>/exe and a cache hit.
func BenchmarkPipelineExecFlagged(b *testing.B) {
	p := benchPipeline(b)
	p.hashes = exehash.New("/proc", exehash.DefaultMaxBytes, exehash.DefaultBytesPerSec)
	cg := benchCgroupID(b)
	self, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	ev := execEv(uint32(os.Getpid()), 100, 0, 1e9, "xmrig", self, "/tmp/.x/xmrig", "-o", "stratum+tcp://127.0.0.1:1")
	ev.Exec.ExePath = self
	ev.Proc.CgroupID = cg
	now := time.Now()
	p.handle(ev, now)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		ev.Proc.StartBootNS = uint64(2e9 + i)
		if p.handle(ev, now) >= 512 {
			p.take()
		}
	}
	if hits, _, _ := p.hashes.Stats(); hits == 0 {
		b.Fatal("no cache hit: the flagged exec was not hashed")
	}
}
