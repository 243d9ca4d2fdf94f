package chain

import (
	"testing"
	"time"

	"github.com/cryptochain-otel/cryptochain/internal/contract"
	ev "github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/evidence"
)

// BenchmarkFloodCriticalChain: a chain at Critical gets records from new miner processes, each
// with its own pool evidence (a fork bomb of miners): every kept item re-evaluates the chain. The
// cost per record is what an attacker can make the processor pay for one exec.
func BenchmarkFloodCriticalChain(b *testing.B) {
	const n = 10000
	miner, shell := proc{pid: 100, ancestors: []int64{10, 1}}, proc{pid: 10, ancestors: []int64{1}}
	events := make([]*ev.Event, n)
	for i := range n {
		events[i] = event(contract.EventExec, proc{pid: int64(1000 + i), ancestors: []int64{10, 1}}, time.Minute+time.Duration(i)*time.Millisecond)
	}
	b.ResetTimer()
	for range b.N {
		tr := New(Config{Window: time.Hour, MaxContexts: 10, MaxEvidence: 64})
		ingest(tr, "c", "", event(contract.EventExec, miner, 0), minerStrong)
		ingest(tr, "c", "", event(contract.EventDNSQuery, miner, time.Second), poolStrong)
		ingest(tr, "c", "", event(contract.EventFileWrite, shell, 2*time.Second), persist)
		ingest(tr, "c", "", event(contract.EventSysctlWrite, shell, 3*time.Second), optim)
		for i := range n {
			ingest(tr, "c", "", events[i], minerStrong, poolStrong)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
}

// BenchmarkShellStorm: one context runs "sh -c" commands (make -j, a script loop, or an attacker
// flushing candidates): each is a re-spawn candidate, and once the budgets are full each costs a
// search for the one to push out.
func BenchmarkShellStorm(b *testing.B) {
	const n = 20000
	events := make([]*ev.Event, n)
	for i := range n {
		events[i] = shellExec(proc{pid: int64(1000 + i), ancestors: []int64{10, 1}}, time.Duration(i)*time.Microsecond, "true")
	}
	b.ResetTimer()
	for range b.N {
		tr := New(Config{Window: time.Hour, MaxContexts: 10, MaxEvidence: 64})
		for i := range n {
			ingest(tr, "c", "", events[i])
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
}
