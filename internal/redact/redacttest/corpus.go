// Package redacttest loads the corpus of secret shapes (testdata/secrets/corpus.yaml) that tests
// play through the receiver and the processor. It must not know how records are made.
package redacttest // import "github.com/cryptochain-otel/cryptochain/internal/redact/redacttest"

import (
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

// Leaks returns the secrets of the corpus found in exported (JSON), naming the entries.
func Leaks(corpus []Entry, exported string) []string {
	var out []string
	for _, e := range corpus {
		for _, s := range e.Secrets() {
			if strings.Contains(exported, s) || strings.Contains(exported, jsonEscaped(s)) {
				out = append(out, fmt.Sprintf("%s: %q", e.Name, s))
			}
		}
	}
	return out
}

func jsonEscaped(s string) string {
	r := strings.NewReplacer(`"`, `\"`, `\`, `\\`, "<", `\u003c`, ">", `\u003e`, "&", `\u0026`, "=", `\u003d`)
	return r.Replace(s)
}
