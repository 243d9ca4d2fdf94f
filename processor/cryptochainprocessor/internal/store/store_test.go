package store

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/storagetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/chain"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/evidence"
)

func testContext() (*chain.Context, pcommon.Resource) {
	res := pcommon.NewResource()
	res.Attributes().PutStr("host.id", "h")
	res.Attributes().PutInt("k8s.pod.restarts", 3)
	o := &chain.Origin{Time: 41, Seen: 41, PID: 7, Start: "s", Exe: "/x"}
	c := &chain.Context{Key: "h\x00\x00ctx", ID: "ctx", Resource: chain.EncodeResource(res), MaxTime: 42, FindingID: "id-1", Level: chain.High,
		Procs: []chain.Proc{{PID: 7, Start: "s", Ancestors: []int64{1}, Exited: true, CPU: 1.5, HasCPU: true}},
		Items: []chain.Item{
			{Evidence: evidence.Evidence{Group: evidence.Pool, Strength: evidence.Strong, Kind: "pool_domain", Indicator: "p.example"}, Origin: o},
			{Evidence: evidence.Evidence{Group: evidence.Miner, Strength: evidence.Strong, Kind: "wallet", Indicator: "4W"}, Origin: o},
		}}
	return c, res
}

func newClient(t *testing.T) *Store {
	client := storagetest.NewFileBackedClient(component.KindProcessor, component.MustNewID("cryptochain"), "", t.TempDir())
	s := New(client)
	t.Cleanup(func() { require.NoError(t, s.Close(context.Background())) })
	return s
}

func TestRoundTripAndCorruptEntries(t *testing.T) {
	ctx := context.Background()
	s := newClient(t)
	c, res := testContext()
	require.NoError(t, s.Save(ctx, chain.Changes{Contexts: []*chain.Context{c}, Tombs: []*chain.Context{{Key: "gone", FindingID: "id-2", Level: chain.Medium}}}))
	require.NoError(t, s.client.Set(ctx, "ctx/broken", []byte("{not json")))
	require.NoError(t, s.client.Set(ctx, "unrelated", []byte("x")))

	got, err := s.Load(ctx)
	require.ErrorContains(t, err, "ctx/broken")
	require.Len(t, got.Contexts, 1)
	g := got.Contexts[0]
	assert.Equal(t, c.Key, g.Key)
	assert.Equal(t, c.Items[0].Indicator, g.Items[0].Indicator)
	assert.Equal(t, int64(41), g.Items[0].Time)
	assert.Same(t, g.Items[0].Origin, g.Items[1].Origin, "items of one record share their origin again")
	assert.Equal(t, chain.High, g.Level)
	assert.Equal(t, c.Procs, g.Procs)
	back := pcommon.NewResource()
	require.NoError(t, chain.DecodeResource(g.Resource, back))
	assert.Equal(t, res.Attributes().AsRaw(), back.Attributes().AsRaw())
	require.Len(t, got.Tombs, 1)
	assert.Equal(t, "id-2", got.Tombs[0].FindingID)

	// The corrupt entry was deleted (and reported); the context is deleted when removed.
	b, err := s.client.Get(ctx, "ctx/broken")
	require.NoError(t, err)
	assert.Nil(t, b)
	require.NoError(t, s.Save(ctx, chain.Changes{Removed: []string{c.Key}, TombsRemoved: []string{"gone"}}))
	got, err = s.Load(ctx)
	require.NoError(t, err)
	assert.Empty(t, got.Contexts)
	assert.Empty(t, got.Tombs)
}

// v1 encodes c as version 1 of the format did.
func v1(t testing.TB, c *chain.Context) []byte {
	b, err := json.Marshal(snapshotV1{Version: 1, Key: c.Key, ID: c.ID, Resource: c.Resource, Procs: c.Procs,
		Items: c.Items, MaxTime: c.MaxTime, FindingID: c.FindingID, Level: c.Level})
	require.NoError(t, err)
	return b
}

// TestPreviousVersionMigrates: a version 1 entry and link table load as they were.
func TestPreviousVersionMigrates(t *testing.T) {
	ctx := context.Background()
	s := newClient(t)
	c, _ := testContext()
	require.NoError(t, s.client.Set(ctx, StorageKey(c.Key), v1(t, c)))
	links := []chain.Link{{Item: chain.Item{Evidence: evidence.Evidence{Group: evidence.Persistence, Kind: "cron", Command: "/tmp/x"},
		Origin: &chain.Origin{Time: 5}}, FromKey: "w", From: "writer"}}
	lb, err := json.Marshal(links)
	require.NoError(t, err)
	require.NoError(t, s.client.Set(ctx, linksKey, lb))

	got, err := s.Load(ctx)
	require.NoError(t, err)
	require.Len(t, got.Contexts, 1)
	g := got.Contexts[0]
	assert.Equal(t, c.FindingID, g.FindingID)
	assert.Equal(t, c.Level, g.Level)
	require.Len(t, g.Items, 2)
	assert.Equal(t, c.Items[1].Evidence, g.Items[1].Evidence)
	assert.Equal(t, *c.Items[1].Origin, *g.Items[1].Origin)
	gl, err := s.LoadLinks(ctx)
	require.NoError(t, err)
	require.Len(t, gl, 1)
	assert.Equal(t, "/tmp/x", gl[0].Item.Command)
	assert.Equal(t, int64(5), gl[0].Item.Time)
}

// TestFutureVersionKeptAside: an entry of a newer format is reported by version and moved aside,
// never deleted.
func TestFutureVersionKeptAside(t *testing.T) {
	ctx := context.Background()
	s := newClient(t)
	future := []byte(`{"v":3,"key":"k","something":"new"}`)
	require.NoError(t, s.client.Set(ctx, "ctx/abc", future))
	require.NoError(t, s.client.Set(ctx, linksKey, []byte(`{"v":7,"links":[]}`)))
	got, err := s.Load(ctx)
	require.ErrorContains(t, err, "format version 3")
	require.ErrorContains(t, err, "aside/ctx/abc")
	assert.Empty(t, got.Contexts)
	b, err := s.client.Get(ctx, "ctx/abc")
	require.NoError(t, err)
	assert.Nil(t, b)
	b, err = s.client.Get(ctx, "aside/ctx/abc")
	require.NoError(t, err)
	assert.Equal(t, future, b)

	_, err = s.LoadLinks(ctx)
	require.ErrorContains(t, err, "format version 7")
	b, err = s.client.Get(ctx, "aside/links")
	require.NoError(t, err)
	assert.NotNil(t, b)
}

// TestEncodeNonFiniteCPU: a value JSON cannot hold does not make a context unsavable (a save that
// fails for ever would be retried for ever).
func TestEncodeNonFiniteCPU(t *testing.T) {
	c, _ := testContext()
	c.Procs[0].CPU = posInf()
	got, err := Decode(Encode(c))
	require.NoError(t, err)
	assert.False(t, got.Procs[0].HasCPU)
	assert.Equal(t, posInf(), c.Procs[0].CPU, "the live context is not changed")
}

func posInf() float64 {
	var zero float64
	return 1 / zero
}

// Repeats, drops and the concealment a finding showed survive a round trip.
func TestRoundTripKeepsCounts(t *testing.T) {
	o := &chain.Origin{Time: 1, Seen: 2, PID: 3}
	c := &chain.Context{Key: "k", Resource: chain.EncodeResource(pcommon.NewResource()), Dropped: 7, Concealed: 2,
		Items: []chain.Item{{Evidence: evidence.Evidence{Group: evidence.Concealment, Kind: "preload", Delegated: true}, Origin: o, Repeats: 5}}}
	got, err := Decode(Encode(c))
	require.NoError(t, err)
	assert.EqualValues(t, 7, got.Dropped)
	assert.EqualValues(t, 2, got.Concealed)
	require.Len(t, got.Items, 1)
	assert.EqualValues(t, 5, got.Items[0].Repeats)
	assert.True(t, got.Items[0].Delegated)
	assert.Equal(t, evidence.Concealment, got.Items[0].Group)
}
