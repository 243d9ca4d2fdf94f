// Package quarantine moves persistence files (cron tables, units, scripts) into a quarantine
// directory with a manifest per item, lists them and restores them byte for byte. It knows
// nothing of findings or the Collector; the caller decides which paths may be moved.
package quarantine // import "github.com/cryptochain-otel/cryptochain/exporter/cryptochainresponseexporter/quarantine"

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// MaxSize bounds the file a quarantine takes (persistence files are small; a huge one is not ours to move).
const MaxSize = 4 << 20

// Item is the manifest of one quarantined file.
type Item struct {
	ID           string `json:"id"`
	FindingID    string `json:"finding_id"`
	OriginalPath string `json:"original_path"`
	// Mode holds the permission bits plus setuid, setgid and sticky.
	Mode          uint32     `json:"mode"`
	UID           int        `json:"uid"`
	GID           int        `json:"gid"`
	Size          int64      `json:"size"`
	SHA256        string     `json:"sha256"`
	ModTime       time.Time  `json:"mod_time"`
	QuarantinedAt time.Time  `json:"quarantined_at"`
	RestoredAt    *time.Time `json:"restored_at,omitempty"`
}

// Store is a quarantine directory: <id>.json (manifest) and <id>.data (content) per item.
type Store struct{ Dir string }

// Quarantine moves path into the store. The path is opened without following any symlink, must be
// a regular file, and is removed only if it is still the file that was copied.
func (s Store) Quarantine(path, findingID string) (Item, error) {
	if !filepath.IsAbs(path) || filepath.Clean(path) != path {
		return Item{}, fmt.Errorf("refused: %q is not a clean absolute path", path)
	}
	fd, err := unix.Openat2(unix.AT_FDCWD, path, &unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_NOFOLLOW | unix.O_CLOEXEC | unix.O_NONBLOCK,
		Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	})
	if err != nil {
		return Item{}, fmt.Errorf("open %s: %w", path, err)
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return Item{}, fmt.Errorf("stat %s: %w", path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return Item{}, fmt.Errorf("refused: %s is not a regular file", path)
	}
	if st.Size > MaxSize {
		return Item{}, fmt.Errorf("refused: %s is %d bytes, more than %d", path, st.Size, MaxSize)
	}
	content, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return Item{}, fmt.Errorf("read %s: %w", path, err)
	}
	sum := sha256.Sum256(content)
	it := Item{
		ID: newID(), FindingID: findingID, OriginalPath: path,
		Mode: st.Mode & 0o7777, UID: int(st.Uid), GID: int(st.Gid), Size: int64(len(content)),
		SHA256: hex.EncodeToString(sum[:]), ModTime: time.Unix(st.Mtim.Unix()).UTC(), QuarantinedAt: time.Now().UTC(),
	}
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return Item{}, err
	}
	if err := writeNew(s.dataPath(it.ID), content, 0o600); err != nil {
		return Item{}, err
	}
	if err := s.writeManifest(it); err != nil {
		_ = os.Remove(s.dataPath(it.ID))
		return Item{}, err
	}
	// Remove the original only if the name still points at the file that was copied.
	var now unix.Stat_t
	if err := unix.Lstat(path, &now); err != nil || now.Dev != st.Dev || now.Ino != st.Ino {
		s.discard(it.ID)
		return Item{}, fmt.Errorf("refused: %s changed while it was being quarantined", path)
	}
	if err := os.Remove(path); err != nil {
		s.discard(it.ID)
		return Item{}, fmt.Errorf("remove %s: %w", path, err)
	}
	return it, nil
}

// List returns every item, oldest first.
func (s Store) List() ([]Item, error) {
	paths, err := filepath.Glob(filepath.Join(s.Dir, "*.json"))
	if err != nil {
		return nil, err
	}
	var out []Item
	for _, p := range paths {
		it, err := s.read(strings.TrimSuffix(filepath.Base(p), ".json"))
		if err != nil {
			return out, err
		}
		out = append(out, it)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].QuarantinedAt.Before(out[j].QuarantinedAt) })
	return out, nil
}

// Restore writes the item back to its original path with its owner, mode and modification time,
// after checking its content hash. It refuses to overwrite an existing file unless force is set.
func (s Store) Restore(id string, force bool) (Item, error) {
	it, err := s.read(id)
	if err != nil {
		return Item{}, err
	}
	content, err := os.ReadFile(s.dataPath(id))
	if err != nil {
		return Item{}, err
	}
	if sum := sha256.Sum256(content); hex.EncodeToString(sum[:]) != it.SHA256 {
		return Item{}, fmt.Errorf("quarantined content of %s does not match its manifest hash", id)
	}
	if _, err := os.Lstat(it.OriginalPath); err == nil {
		if !force {
			return Item{}, fmt.Errorf("%s exists; restore --force replaces it", it.OriginalPath)
		}
		if err := os.Remove(it.OriginalPath); err != nil {
			return Item{}, err
		}
	}
	tmp := it.OriginalPath + ".cryptochain-restore"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return Item{}, err
	}
	_, werr := f.Write(content)
	err = errors.Join(werr, f.Chown(it.UID, it.GID), f.Chmod(os.FileMode(it.Mode&0o777)|modeBits(it.Mode)), f.Sync(), f.Close(),
		os.Chtimes(tmp, it.ModTime, it.ModTime))
	if err == nil {
		err = os.Rename(tmp, it.OriginalPath)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return Item{}, fmt.Errorf("restore %s: %w", it.OriginalPath, err)
	}
	now := time.Now().UTC()
	it.RestoredAt = &now
	return it, s.writeManifest(it)
}

func modeBits(m uint32) os.FileMode {
	var out os.FileMode
	if m&unix.S_ISUID != 0 {
		out |= os.ModeSetuid
	}
	if m&unix.S_ISGID != 0 {
		out |= os.ModeSetgid
	}
	if m&unix.S_ISVTX != 0 {
		out |= os.ModeSticky
	}
	return out
}

func (s Store) read(id string) (Item, error) {
	if id == "" || strings.ContainsAny(id, "/.") {
		return Item{}, fmt.Errorf("bad quarantine id %q", id)
	}
	b, err := os.ReadFile(filepath.Join(s.Dir, id+".json"))
	if err != nil {
		return Item{}, err
	}
	var it Item
	if err := json.Unmarshal(b, &it); err != nil {
		return Item{}, fmt.Errorf("manifest %s: %w", id, err)
	}
	return it, nil
}

func (s Store) writeManifest(it Item) error {
	b, err := json.MarshalIndent(it, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(s.Dir, it.ID+".json.tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(s.Dir, it.ID+".json"))
}

func (s Store) dataPath(id string) string { return filepath.Join(s.Dir, id+".data") }

func (s Store) discard(id string) {
	_ = os.Remove(s.dataPath(id))
	_ = os.Remove(filepath.Join(s.Dir, id+".json"))
}

func writeNew(path string, b []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	_, werr := f.Write(b)
	return errors.Join(werr, f.Sync(), f.Close())
}

// newID is a sortable, unique item id: UTC time plus random bits.
func newID() string {
	var r [4]byte
	_, _ = rand.Read(r[:])
	t := time.Now().UTC()
	return fmt.Sprintf("%sZ%09d-%s", t.Format("20060102T150405"), t.Nanosecond(), hex.EncodeToString(r[:]))
}
