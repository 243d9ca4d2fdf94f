// Package store persists open chains through a storage extension client, one JSON document per context.
// It must not know correlation rules or the pdata loop: it writes and reads what chain.TakeChanges hands over.
package store // import "github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/store"

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/chain"
)

const (
	keyPrefix = "ctx/"
	linksKey  = "links"
	version   = 1
)

// Store reads and writes chain contexts through a storage client.
type Store struct {
	client storage.Client
}

// New wraps a storage client.
func New(client storage.Client) *Store { return &Store{client: client} }

// snapshot is the stored form of a chain.Context.
type snapshot struct {
	Version   int          `json:"v"`
	Key       string       `json:"key"`
	ID        string       `json:"id"`
	Resource  []byte       `json:"resource"` // OTLP protobuf of a ResourceLogs holding only the resource
	Procs     []chain.Proc `json:"procs"`
	Items     []chain.Item `json:"items"`
	MaxTime   int64        `json:"max_time"`
	FindingID string       `json:"finding_id,omitempty"`
	Level     chain.Level  `json:"level"`
}

// StorageKey returns the storage key of a context key.
func StorageKey(contextKey string) string {
	sum := sha256.Sum256([]byte(contextKey))
	return keyPrefix + hex.EncodeToString(sum[:16])
}

// Save writes the changed contexts and deletes the removed ones in one batch.
func (s *Store) Save(ctx context.Context, changed []*chain.Context, removed []string) error {
	if len(changed) == 0 && len(removed) == 0 {
		return nil
	}
	ops := make([]*storage.Operation, 0, len(changed)+len(removed))
	for _, k := range removed {
		ops = append(ops, storage.DeleteOperation(StorageKey(k)))
	}
	var errs []error
	for _, c := range changed {
		b, err := encode(c)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ops = append(ops, storage.SetOperation(StorageKey(c.Key), b))
	}
	if err := s.client.Batch(ctx, ops...); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Load calls fn with every stored context. Entries that do not decode are deleted and reported in
// the returned error (the other entries still load).
func (s *Store) Load(ctx context.Context, fn func(*chain.Context)) error {
	w, ok := s.client.(storage.Walker)
	if !ok {
		return errors.New("storage client cannot list entries (no Walk): open chains are not restored")
	}
	var errs []error
	err := w.Walk(ctx, func(key string, value []byte) ([]*storage.Operation, error) {
		if !strings.HasPrefix(key, keyPrefix) {
			return nil, nil
		}
		c, err := decode(value)
		if err != nil {
			errs = append(errs, fmt.Errorf("stored chain %s: %w", key, err))
			return []*storage.Operation{storage.DeleteOperation(key)}, nil
		}
		fn(c)
		return nil, nil
	})
	return errors.Join(append(errs, err)...)
}

// Close closes the client.
func (s *Store) Close(ctx context.Context) error { return s.client.Close(ctx) }

func encode(c *chain.Context) ([]byte, error) {
	return json.Marshal(snapshot{
		Version: version, Key: c.Key, ID: c.ID, Resource: c.Resource, Procs: c.Procs, Items: c.Items,
		MaxTime: c.MaxTime, FindingID: c.FindingID, Level: c.Level,
	})
}

func decode(b []byte) (*chain.Context, error) {
	var s snapshot
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, err
	}
	if s.Version != version || s.Key == "" {
		return nil, fmt.Errorf("unsupported snapshot version %d", s.Version)
	}
	if err := chain.DecodeResource(s.Resource, pcommon.NewResource()); err != nil {
		return nil, fmt.Errorf("resource: %w", err)
	}
	for i := range s.Items {
		if s.Items[i].Origin == nil {
			s.Items[i].Origin = &chain.Origin{}
		}
	}
	c := &chain.Context{Key: s.Key, ID: s.ID, Resource: s.Resource, Procs: s.Procs, Items: s.Items,
		MaxTime: s.MaxTime, FindingID: s.FindingID, Level: s.Level}
	return c, nil
}

// SaveLinks writes the re-spawn link table.
func (s *Store) SaveLinks(ctx context.Context, links []chain.Link) error {
	b, err := json.Marshal(links)
	if err != nil {
		return err
	}
	return s.client.Set(ctx, linksKey, b)
}

// LoadLinks reads the re-spawn link table (nil when none was stored).
func (s *Store) LoadLinks(ctx context.Context) ([]chain.Link, error) {
	b, err := s.client.Get(ctx, linksKey)
	if err != nil || b == nil {
		return nil, err
	}
	var links []chain.Link
	if err := json.Unmarshal(b, &links); err != nil {
		_ = s.client.Delete(ctx, linksKey)
		return nil, fmt.Errorf("stored links: %w", err)
	}
	return links, nil
}
