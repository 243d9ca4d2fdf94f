package store

import (
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/chain"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/evidence"
)

// FuzzRestore feeds arbitrary stored entries through the restore path: decoding (either version, a
// link table), restoring into a tracker as context and as tombstone, then the record path, a sweep,
// a retry and a save of what changed. Nothing may panic, the bounds must hold, and whatever is saved
// must decode again. The seeds are in testdata/fuzz/FuzzRestore besides the ones added here.
func FuzzRestore(f *testing.F) {
	c, _ := testContext()
	f.Add(Encode(c))
	f.Add(v1(f, c))
	f.Add([]byte(`{"v":3,"key":"k"}`))
	f.Add([]byte(`{"v":2,"key":"k","origins":[],"items":[{"Group":0,"o":0}]}`))
	f.Add([]byte(`[{"item":{"Group":2,"Command":"/tmp/x"},"from_key":"a","from":"b"}]`))
	f.Add([]byte(`{"v":2,"links":[{"item":{"Group":2,"Command":"/tmp/x","Time":1},"from_key":"a","from":"b"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg := chain.Config{Window: time.Hour, MaxContexts: 4, MaxEvidence: 8, MaxBytes: 1 << 20, MaxTombstones: 4}
		tr := chain.New(cfg)
		if links, err := DecodeLinks(b); err == nil {
			tr.RestoreLinks(links)
		}
		c, err := Decode(b)
		if err != nil {
			return
		}
		tr.Restore(c)
		if tomb, err := Decode(b); err == nil {
			tomb.Key += "\x00tomb"
			tr.RestoreTomb(tomb)
		}
		for _, oc := range tr.Snapshot() {
			if len(oc.Items) > cfg.MaxEvidence || oc.Level > chain.Critical {
				t.Fatalf("restored context out of bounds: %d items, level %d", len(oc.Items), oc.Level)
			}
		}
		res := pcommon.NewResource()
		_ = chain.DecodeResource(c.Resource, res)
		ref := tr.Resolve([]byte(c.Key), res)
		ev := &evidence.Event{Name: "cryptochain.sysctl.write", Time: time.Unix(0, c.MaxTime).Add(time.Second), PID: 9}
		tr.Ingest(&ref, ev, []evidence.Evidence{{Group: evidence.Optimization, Strength: evidence.Strong, Kind: "hugepages"}})
		tr.Sweep()
		for _, f := range tr.Retry(time.Now().UnixNano()) {
			tr.Accepted(f.Context.Key, f.Level)
		}
		ch := tr.TakeChanges()
		for _, s := range append(ch.Contexts, ch.Tombs...) {
			if _, err := Decode(Encode(s)); err != nil {
				t.Fatalf("a saved context does not decode: %v", err)
			}
		}
		if tr.Bytes() > cfg.MaxBytes && tr.Len() > 1 {
			t.Fatalf("state of %d bytes over the budget with %d contexts", tr.Bytes(), tr.Len())
		}
	})
}
