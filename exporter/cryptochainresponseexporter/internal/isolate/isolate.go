// Package isolate freezes a container's cgroup v2 (cgroup.freeze) and thaws it again. It refuses
// the root cgroup and any cgroup that holds the caller; it knows nothing of findings.
package isolate // import "github.com/cryptochain-otel/cryptochain/exporter/cryptochainresponseexporter/internal/isolate"

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// Dir resolves a cgroup v2 path ("/libpod_parent/libpod-…") under the cgroup2 mount root and
// refuses the root itself, relative or unclean paths, and a cgroup that holds the caller.
func Dir(root, cgroup string) (string, error) {
	clean := path.Clean("/" + cgroup)
	switch {
	case cgroup == "" || clean == "/":
		return "", errors.New("refused: the root cgroup is never isolated")
	case clean != cgroup || strings.Contains(cgroup, ".."):
		return "", fmt.Errorf("refused: unclean cgroup path %q", cgroup)
	}
	if self, err := selfCgroup(); err == nil && (self == clean || strings.HasPrefix(self, clean+"/")) {
		return "", fmt.Errorf("refused: cgroup %s holds the collector itself", clean)
	}
	dir := filepath.Join(root, clean)
	fi, err := os.Lstat(dir)
	if err != nil {
		return "", err
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("%s is not a cgroup directory", dir)
	}
	return dir, nil
}

// Freeze freezes every process of the cgroup (and below) and waits up to wait until the kernel
// reports it frozen.
func Freeze(dir string, wait time.Duration) error {
	if err := os.WriteFile(filepath.Join(dir, "cgroup.freeze"), []byte("1"), 0); err != nil {
		return fmt.Errorf("freeze %s: %w", dir, err)
	}
	deadline := time.Now().Add(wait)
	for {
		frozen, err := Frozen(dir)
		if err != nil || frozen {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not frozen after %s", dir, wait)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Thaw undoes Freeze.
func Thaw(dir string) error {
	if err := os.WriteFile(filepath.Join(dir, "cgroup.freeze"), []byte("0"), 0); err != nil {
		return fmt.Errorf("thaw %s: %w", dir, err)
	}
	return nil
}

// Frozen reads the "frozen" key of cgroup.events.
func Frozen(dir string) (bool, error) {
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.events"))
	if err != nil {
		return false, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "frozen "); ok {
			return strings.TrimSpace(v) == "1", nil
		}
	}
	return false, fmt.Errorf("%s/cgroup.events has no frozen key", dir)
}

func selfCgroup() (string, error) {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if p, ok := strings.CutPrefix(l, "0::"); ok {
			return p, nil
		}
	}
	return "", errors.New("no cgroup v2 line in /proc/self/cgroup")
}
