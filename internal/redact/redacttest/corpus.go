// Package redacttest loads the corpus of secret shapes (testdata/secrets/corpus.yaml) that tests
// play through the receiver and the processor. It must not know how records are made.
package redacttest // import "github.com/cryptochain-otel/cryptochain/internal/redact/redacttest"

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Entry is one secret shape and the one place that carries it.
type Entry struct {
	Name    string            `yaml:"name"`
	Argv    []string          `yaml:"argv"`
	Env     map[string]string `yaml:"env"`
	Payload string            `yaml:"payload"`
	File    string            `yaml:"file"`
	Secret  string            `yaml:"secret"`
	Also    []string          `yaml:"also"` // further secrets of the same entry
	Keep    []string          `yaml:"keep"`
}

// Secrets are every byte sequence of the entry that must not be exported.
func (e Entry) Secrets() []string { return append([]string{e.Secret}, e.Also...) }

// Path is the corpus file of the repository.
func Path() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "testdata", "secrets", "corpus.yaml")
}

// Load reads and checks the corpus.
func Load() ([]Entry, error) {
	b, err := os.ReadFile(Path())
	if err != nil {
		return nil, err
	}
	var out []Entry
	if err := yaml.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("%s: %w", Path(), err)
	}
	for i, e := range out {
		n := 0
		for _, has := range []bool{len(e.Argv) > 0, len(e.Env) > 0, e.Payload != "", e.File != ""} {
			if has {
				n++
			}
		}
		if n != 1 || len(e.Secret) < 8 {
			return nil, fmt.Errorf("corpus entry %d (%s): needs exactly one carrier and a secret of at least 8 bytes", i, e.Name)
		}
	}
	return out, nil
}

// Leaks returns the secrets of the corpus found in exported text (plain, or JSON from Normalize),
// naming the entries.
func Leaks(corpus []Entry, exported string) []string {
	var out []string
	for _, e := range corpus {
		for _, s := range e.Secrets() {
			if Contains(exported, s) {
				out = append(out, fmt.Sprintf("%s: %q", e.Name, s))
			}
		}
	}
	return out
}

// Contains reports s in exported, as is or JSON-escaped.
func Contains(exported, s string) bool {
	if strings.Contains(exported, s) {
		return true
	}
	q, _ := json.Marshal(s)
	return strings.Contains(exported, string(q[1:len(q)-1]))
}

// Normalize re-encodes JSON documents (one a line) with the minimal escaping of encoding/json
// without HTML escaping, so that a search for a byte sequence does not depend on how the encoder
// that produced them escapes.
func Normalize(docs []byte) (string, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	for _, line := range bytes.Split(docs, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var v any
		if err := json.Unmarshal(line, &v); err != nil {
			return "", err
		}
		if err := enc.Encode(v); err != nil {
			return "", err
		}
	}
	return b.String(), nil
}
