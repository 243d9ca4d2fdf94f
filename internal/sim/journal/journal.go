// Package journal records every host change the simulator makes, on disk after each entry, and undoes
// them in reverse order (also after a crash, via `chainsim restore`); it must not know scenarios.
package journal // import "github.com/cryptochain-otel/cryptochain/internal/sim/journal"

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// Kind names what an entry restores.
type Kind string

// Entry kinds.
const (
	// KindFile restores a file to its previous content, or removes it if it did not exist.
	KindFile Kind = "file"
	// KindProcWrite writes the previous value back into a /proc/sys file.
	KindProcWrite Kind = "proc_write"
	// KindCrontab restores a user's crontab through the crontab program.
	KindCrontab Kind = "crontab"
	// KindRemoveAll removes a directory tree the simulator created.
	KindRemoveAll Kind = "remove_all"
	// KindNetns deletes a network namespace the simulator created.
	KindNetns Kind = "netns"
	// KindCommand runs an undo command (e.g. `podman rmi`).
	KindCommand Kind = "command"
)

// Entry is one recorded host change and what is needed to undo it.
type Entry struct {
	Kind    Kind     `json:"kind"`
	Path    string   `json:"path,omitempty"`
	Existed bool     `json:"existed,omitempty"`
	Old     []byte   `json:"old,omitempty"`
	Mode    uint32   `json:"mode,omitempty"`
	User    string   `json:"user,omitempty"`
	Argv    []string `json:"argv,omitempty"`
}

// Journal is an append-only list of host changes, persisted to Path.
type Journal struct {
	mu      sync.Mutex
	path    string
	entries []Entry
}

// Open creates a journal persisted at path. An existing journal at path
// means an earlier run did not restore: it is refused so nothing is lost.
func Open(path string) (*Journal, error) {
	if _, err := os.Stat(path); err == nil {
		return nil, fmt.Errorf("journal %s exists: an earlier run did not finish; run `chainsim restore` first", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	j := &Journal{path: path}
	return j, j.save()
}

// Load reads a journal left on disk by an earlier run.
func Load(path string) (*Journal, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	j := &Journal{path: path}
	if err := json.Unmarshal(b, &j.entries); err != nil {
		return nil, fmt.Errorf("journal %s: %w", path, err)
	}
	return j, nil
}

// Entries returns a copy of the recorded entries.
func (j *Journal) Entries() []Entry {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]Entry(nil), j.entries...)
}

func (j *Journal) add(e Entry) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.entries = append(j.entries, e)
	return j.save()
}

func (j *Journal) save() error {
	b, err := json.Marshal(j.entries)
	if err != nil {
		return err
	}
	tmp := j.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, j.path)
}

// WriteFile records the current state of path, then writes data to it.
func (j *Journal) WriteFile(path string, data []byte, mode os.FileMode) error {
	if err := j.Track(path); err != nil {
		return err
	}
	return os.WriteFile(path, data, mode)
}

// Track records the current state of path (content, or absence) before
// something else — a child process — changes it; Restore puts it back.
func (j *Journal) Track(path string) error {
	e := Entry{Kind: KindFile, Path: path}
	if old, err := os.ReadFile(path); err == nil {
		st, _ := os.Stat(path)
		e.Existed, e.Old, e.Mode = true, old, uint32(st.Mode().Perm())
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return j.add(e)
}

// WriteProc records the current value of a /proc/sys file and writes value.
func (j *Journal) WriteProc(path, value string) error {
	old, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := j.add(Entry{Kind: KindProcWrite, Path: path, Old: bytes.TrimSpace(old)}); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(value), 0)
}

// Created records a directory tree the caller is about to create.
func (j *Journal) Created(path string) error {
	return j.add(Entry{Kind: KindRemoveAll, Path: path})
}

// Netns records a network namespace the caller is about to create.
func (j *Journal) Netns(name string) error {
	return j.add(Entry{Kind: KindNetns, Path: name})
}

// Undo records a command that undoes a change the caller is about to make.
func (j *Journal) Undo(argv ...string) error {
	return j.add(Entry{Kind: KindCommand, Argv: argv})
}

// CrontabSave records user's current crontab (or its absence) before a change.
func (j *Journal) CrontabSave(user string) error {
	out, err := exec.Command("crontab", "-u", user, "-l").Output()
	e := Entry{Kind: KindCrontab, User: user}
	if err == nil {
		e.Existed, e.Old = true, out
	} else if ee := (*exec.ExitError)(nil); !errors.As(err, &ee) {
		return fmt.Errorf("crontab -l: %w", err)
	}
	return j.add(e)
}

// Restore undoes every entry, newest first. It keeps going after an error and
// returns all of them; the on-disk journal is removed only when all succeeded.
func (j *Journal) Restore() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	var errs []error
	var failed []Entry
	for i := len(j.entries) - 1; i >= 0; i-- {
		if err := undo(j.entries[i]); err != nil {
			errs = append(errs, fmt.Errorf("restore %s %s: %w", j.entries[i].Kind, j.entries[i].Path, err))
			failed = append([]Entry{j.entries[i]}, failed...)
		}
	}
	j.entries = failed
	if len(errs) > 0 {
		_ = j.save()
		return errors.Join(errs...)
	}
	if err := os.Remove(j.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

func undo(e Entry) error {
	switch e.Kind {
	case KindFile:
		if !e.Existed {
			if err := os.Remove(e.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
			return nil
		}
		return os.WriteFile(e.Path, e.Old, os.FileMode(e.Mode))
	case KindProcWrite:
		return os.WriteFile(e.Path, e.Old, 0)
	case KindRemoveAll:
		return os.RemoveAll(e.Path)
	case KindNetns:
		if _, err := os.Stat(filepath.Join("/run/netns", e.Path)); errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return run("ip", "netns", "delete", e.Path)
	case KindCommand:
		return run(e.Argv...)
	case KindCrontab:
		if !e.Existed {
			// crontab -r fails when there is none: that is the state we want.
			_ = exec.Command("crontab", "-u", e.User, "-r").Run()
			return nil
		}
		cmd := exec.Command("crontab", "-u", e.User, "-")
		cmd.Stdin = bytes.NewReader(e.Old)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%w: %s", err, strings.TrimSpace(string(out)))
		}
		return nil
	}
	return fmt.Errorf("unknown journal entry kind %q", e.Kind)
}

func run(argv ...string) error {
	if len(argv) == 0 {
		return errors.New("empty command")
	}
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", strings.Join(argv, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
