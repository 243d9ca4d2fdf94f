package store

import (
	"context"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/storagetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/chain"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/evidence"
)

func TestRoundTripAndCorruptEntries(t *testing.T) {
	ctx := context.Background()
	client := storagetest.NewFileBackedClient(component.KindProcessor, component.MustNewID("cryptochain"), "", t.TempDir())
	s := New(client)
	defer func() { require.NoError(t, s.Close(ctx)) }()

	res := pcommon.NewResource()
	res.Attributes().PutStr("host.id", "h")
	res.Attributes().PutInt("k8s.pod.restarts", 3)
	c := &chain.Context{Key: "h\x00\x00ctx", ID: "ctx", Resource: chain.EncodeResource(res), MaxTime: 42, FindingID: "id-1", Level: chain.High,
		Procs: []chain.Proc{{PID: 7, Start: "s", Ancestors: []int64{1}, Exited: true, CPU: 1.5, HasCPU: true}},
		Items: []chain.Item{{Evidence: evidence.Evidence{Group: evidence.Pool, Strength: evidence.Strong, Kind: "pool_domain", Indicator: "p.example"},
			Origin: &chain.Origin{Time: 41, Seen: 41, PID: 7, Start: "s", Exe: "/x"}}}}
	require.NoError(t, s.Save(ctx, []*chain.Context{c}, nil))
	require.NoError(t, client.Set(ctx, "ctx/broken", []byte("{not json")))
	require.NoError(t, client.Set(ctx, "unrelated", []byte("x")))

	var got []*chain.Context
	err := s.Load(ctx, func(c *chain.Context) { got = append(got, c) })
	require.ErrorContains(t, err, "ctx/broken")
	require.Len(t, got, 1)
	assert.Equal(t, c.Key, got[0].Key)
	assert.Equal(t, c.Items[0].Indicator, got[0].Items[0].Indicator)
	assert.Equal(t, int64(41), got[0].Items[0].Time)
	assert.Equal(t, chain.High, got[0].Level)
	assert.Equal(t, c.Procs, got[0].Procs)
	back := pcommon.NewResource()
	require.NoError(t, chain.DecodeResource(got[0].Resource, back))
	assert.Equal(t, res.Attributes().AsRaw(), back.Attributes().AsRaw())

	// The corrupt entry was deleted; the context is deleted when removed.
	b, err := client.Get(ctx, "ctx/broken")
	require.NoError(t, err)
	assert.Nil(t, b)
	require.NoError(t, s.Save(ctx, nil, []string{c.Key}))
	got = nil
	require.NoError(t, s.Load(ctx, func(c *chain.Context) { got = append(got, c) }))
	assert.Empty(t, got)
}
