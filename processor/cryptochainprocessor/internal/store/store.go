// Package store persists open chains through a storage extension client: one JSON document per
// context and per tombstone, and one for the re-spawn links, each carrying its format version.
// It must not know correlation rules or the pdata loop: it writes and reads what chain.TakeChanges hands over.
package store // import "github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/store"

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"

	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/chain"
	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/evidence"
)

const (
	keyPrefix  = "ctx/"
	tombPrefix = "tomb/"
	// AsidePrefix holds entries written by a newer format than this build reads: moved, never deleted,
	// so that the newer build, run again, or a person can still use them.
	AsidePrefix = "aside/"
	linksKey    = "links"
	// Version is the format this build writes. It reads it and the previous one (migrated on load).
	//   1: items each carry a copy of their origin; the whole resource is kept.
	//   2: origins stored once and referenced by index; tombstones; links in a versioned document.
	Version = 2
)

// FutureVersionError reports an entry written by a newer format than this build reads.
type FutureVersionError struct{ Version int }

func (e FutureVersionError) Error() string {
	return fmt.Sprintf("written in format version %d, this build reads versions 1 to %d", e.Version, Version)
}

// Store reads and writes chain contexts through a storage client.
type Store struct {
	client storage.Client
}

// New wraps a storage client.
func New(client storage.Client) *Store { return &Store{client: client} }

// snapshot is the stored form of a chain.Context (version 2).
type snapshot struct {
	Version   int            `json:"v"`
	Key       string         `json:"key"`
	ID        string         `json:"id,omitempty"`
	Resource  []byte         `json:"resource"` // OTLP protobuf of a ResourceLogs holding only the resource
	Procs     []chain.Proc   `json:"procs"`
	Origins   []chain.Origin `json:"origins"`
	Items     []item         `json:"items"`
	MaxTime   int64          `json:"max_time"`
	FindingID string         `json:"finding_id,omitempty"`
	Level     chain.Level    `json:"level"`
	Dropped   int64          `json:"dropped,omitempty"`   // evidence the context could not keep
	Concealed int32          `json:"concealed,omitempty"` // concealment items the last finding showed
}

// item is an evidence item with the index of its origin in snapshot.Origins.
type item struct {
	evidence.Evidence
	Origin  int   `json:"o"`
	Repeats int64 `json:"r,omitempty"`
}

// snapshotV1 is the stored form of version 1, read to migrate it.
type snapshotV1 struct {
	Version   int          `json:"v"`
	Key       string       `json:"key"`
	ID        string       `json:"id"`
	Resource  []byte       `json:"resource"`
	Procs     []chain.Proc `json:"procs"`
	Items     []chain.Item `json:"items"`
	MaxTime   int64        `json:"max_time"`
	FindingID string       `json:"finding_id,omitempty"`
	Level     chain.Level  `json:"level"`
}

// StorageKey returns the storage key of a context key.
func StorageKey(contextKey string) string { return keyPrefix + hashKey(contextKey) }

// TombKey returns the storage key of the tombstone of a context key.
func TombKey(contextKey string) string { return tombPrefix + hashKey(contextKey) }

func hashKey(k string) string {
	sum := sha256.Sum256([]byte(k))
	return hex.EncodeToString(sum[:16])
}

// Save writes the changes in one batch: deletes first (a key dropped and then opened again is
// written after its delete), then contexts, tombstones and links. Nothing of ch counts as saved
// unless it returns nil.
func (s *Store) Save(ctx context.Context, ch chain.Changes) error {
	links, linksChanged := ch.Links()
	if len(ch.Contexts) == 0 && len(ch.Removed) == 0 && len(ch.Tombs) == 0 && len(ch.TombsRemoved) == 0 && !linksChanged {
		return nil
	}
	ops := make([]*storage.Operation, 0, len(ch.Contexts)+len(ch.Removed)+len(ch.Tombs)+len(ch.TombsRemoved)+1)
	for _, k := range ch.Removed {
		ops = append(ops, storage.DeleteOperation(StorageKey(k)))
	}
	for _, k := range ch.TombsRemoved {
		ops = append(ops, storage.DeleteOperation(TombKey(k)))
	}
	for _, c := range ch.Contexts {
		ops = append(ops, storage.SetOperation(StorageKey(c.Key), Encode(c)))
	}
	for _, c := range ch.Tombs {
		ops = append(ops, storage.SetOperation(TombKey(c.Key), Encode(c)))
	}
	if linksChanged {
		b, err := json.Marshal(linksDoc{Version: Version, Links: sanitizeLinks(links)})
		if err != nil {
			return fmt.Errorf("links: %w", err)
		}
		ops = append(ops, storage.SetOperation(linksKey, b))
	}
	return s.client.Batch(ctx, ops...)
}

// Loaded is what Load read: open contexts and tombstones.
type Loaded struct {
	Contexts []*chain.Context
	Tombs    []*chain.Context
}

// Load reads every stored context and tombstone. An entry of the previous format is migrated (and
// rewritten by the next save of its context); one of a newer format is moved under AsidePrefix and
// reported; one that does not decode is deleted and reported. The other entries load either way.
func (s *Store) Load(ctx context.Context) (Loaded, error) {
	var out Loaded
	w, ok := s.client.(storage.Walker)
	if !ok {
		return out, errors.New("storage client cannot list entries (no Walk): open chains are not restored")
	}
	var errs []error
	err := w.Walk(ctx, func(key string, value []byte) ([]*storage.Operation, error) {
		tomb := strings.HasPrefix(key, tombPrefix)
		if !tomb && !strings.HasPrefix(key, keyPrefix) {
			return nil, nil
		}
		c, err := Decode(value)
		var fv FutureVersionError
		switch {
		case errors.As(err, &fv):
			errs = append(errs, fmt.Errorf("stored chain %s: %w; kept as %s%s", key, err, AsidePrefix, key))
			return []*storage.Operation{storage.SetOperation(AsidePrefix+key, value), storage.DeleteOperation(key)}, nil
		case err != nil:
			errs = append(errs, fmt.Errorf("stored chain %s: %w (deleted)", key, err))
			return []*storage.Operation{storage.DeleteOperation(key)}, nil
		case tomb:
			out.Tombs = append(out.Tombs, c)
		default:
			out.Contexts = append(out.Contexts, c)
		}
		return nil, nil
	})
	return out, errors.Join(append(errs, err)...)
}

// Close closes the client.
func (s *Store) Close(ctx context.Context) error { return s.client.Close(ctx) }

// Encode returns the stored form of c (the current version). It cannot fail: values JSON cannot
// hold (a non-finite CPU time) are stored as absent.
func Encode(c *chain.Context) []byte {
	sn := snapshot{Version: Version, Key: c.Key, ID: c.ID, Resource: c.Resource, Procs: c.Procs,
		MaxTime: c.MaxTime, FindingID: c.FindingID, Level: c.Level, Dropped: c.Dropped, Concealed: c.Concealed}
	if hasBadFloat(c.Procs) {
		sn.Procs = append([]chain.Proc(nil), c.Procs...)
		for i := range sn.Procs {
			if p := &sn.Procs[i]; math.IsNaN(p.CPU) || math.IsInf(p.CPU, 0) {
				p.CPU, p.HasCPU = 0, false
			}
		}
	}
	index := make(map[*chain.Origin]int, 2)
	sn.Items = make([]item, len(c.Items))
	for i := range c.Items {
		it := &c.Items[i]
		o := it.Origin
		if o == nil {
			o = &chain.Origin{}
		}
		n, ok := index[o]
		if !ok {
			n = len(sn.Origins)
			index[o] = n
			sn.Origins = append(sn.Origins, *o)
		}
		sn.Items[i] = item{Evidence: it.Evidence, Origin: n, Repeats: it.Repeats}
	}
	b, err := json.Marshal(sn)
	if err != nil { // unreachable: every field is a string, an integer or a finite float
		panic(fmt.Sprintf("store: encoding a context: %v", err))
	}
	return b
}

func hasBadFloat(ps []chain.Proc) bool {
	for i := range ps {
		if math.IsNaN(ps[i].CPU) || math.IsInf(ps[i].CPU, 0) {
			return true
		}
	}
	return false
}

// Decode reads a stored context of the current or the previous version.
func Decode(b []byte) (*chain.Context, error) {
	var head struct {
		Version int `json:"v"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return nil, err
	}
	var c *chain.Context
	var err error
	switch {
	case head.Version == Version:
		c, err = decodeV2(b)
	case head.Version == 1:
		c, err = decodeV1(b)
	case head.Version > Version:
		return nil, FutureVersionError{Version: head.Version}
	default:
		return nil, fmt.Errorf("no format version (v=%d)", head.Version)
	}
	if err != nil {
		return nil, err
	}
	if c.Key == "" {
		return nil, errors.New("no context key")
	}
	if err := chain.DecodeResource(c.Resource, pcommon.NewResource()); err != nil {
		return nil, fmt.Errorf("resource: %w", err)
	}
	return c, nil
}

func decodeV2(b []byte) (*chain.Context, error) {
	var s snapshot
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, err
	}
	origins := make([]*chain.Origin, len(s.Origins))
	for i := range s.Origins {
		origins[i] = &s.Origins[i]
	}
	items := make([]chain.Item, len(s.Items))
	for i := range s.Items {
		n := s.Items[i].Origin
		if n < 0 || n >= len(origins) {
			return nil, fmt.Errorf("item %d: origin %d out of range", i, n)
		}
		items[i] = chain.Item{Evidence: s.Items[i].Evidence, Origin: origins[n], Repeats: max(s.Items[i].Repeats, 0)}
	}
	return &chain.Context{Key: s.Key, ID: s.ID, Resource: s.Resource, Procs: s.Procs, Items: items,
		MaxTime: s.MaxTime, FindingID: s.FindingID, Level: s.Level, Dropped: max(s.Dropped, 0), Concealed: max(s.Concealed, 0)}, nil
}

// decodeV1 migrates a version 1 snapshot: each item had its own copy of its origin.
func decodeV1(b []byte) (*chain.Context, error) {
	var s snapshotV1
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, err
	}
	for i := range s.Items {
		if s.Items[i].Origin == nil {
			s.Items[i].Origin = &chain.Origin{}
		}
	}
	return &chain.Context{Key: s.Key, ID: s.ID, Resource: s.Resource, Procs: s.Procs, Items: s.Items,
		MaxTime: s.MaxTime, FindingID: s.FindingID, Level: s.Level}, nil
}

// linksDoc is the stored form of the re-spawn links (version 2; version 1 was the bare list).
type linksDoc struct {
	Version int          `json:"v"`
	Links   []chain.Link `json:"links"`
}

func sanitizeLinks(ls []chain.Link) []chain.Link {
	for i := range ls {
		if ls[i].Item.Origin == nil {
			ls[i].Item.Origin = &chain.Origin{}
		}
	}
	return ls
}

// LoadLinks reads the re-spawn link table (nil when none was stored). A table of a newer format is
// moved under AsidePrefix; one that does not decode is deleted; both are reported.
func (s *Store) LoadLinks(ctx context.Context) ([]chain.Link, error) {
	b, err := s.client.Get(ctx, linksKey)
	if err != nil || b == nil {
		return nil, err
	}
	links, err := DecodeLinks(b)
	var fv FutureVersionError
	switch {
	case errors.As(err, &fv):
		return nil, errors.Join(fmt.Errorf("stored links: %w; kept as %s%s", err, AsidePrefix, linksKey),
			s.client.Batch(ctx, storage.SetOperation(AsidePrefix+linksKey, b), storage.DeleteOperation(linksKey)))
	case err != nil:
		return nil, errors.Join(fmt.Errorf("stored links: %w (deleted)", err), s.client.Delete(ctx, linksKey))
	}
	return links, nil
}

// DecodeLinks reads a stored link table of the current or the previous version.
func DecodeLinks(b []byte) ([]chain.Link, error) {
	var links []chain.Link
	if t := bytes.TrimLeft(b, " \t\r\n"); len(t) > 0 && t[0] == '[' { // version 1: the bare list
		if err := json.Unmarshal(b, &links); err != nil {
			return nil, err
		}
		return sanitizeLinks(links), nil
	}
	var d linksDoc
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, err
	}
	if d.Version > Version {
		return nil, FutureVersionError{Version: d.Version}
	}
	if d.Version != Version {
		return nil, fmt.Errorf("no format version (v=%d)", d.Version)
	}
	return sanitizeLinks(d.Links), nil
}
