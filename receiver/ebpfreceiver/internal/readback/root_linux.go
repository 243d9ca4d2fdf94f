//go:build linux

package readback

import (
	"errors"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// Root is a held root directory (an O_PATH descriptor) that reads are confined to. Holding it keeps
// the writer's file system reachable after the writer exits.
type Root struct {
	fd  int
	Via string // RootWriter or RootHost
	// identity of the root directory: two roots with the same identity see the same files
	dev, ino uint64
}

// HoldRoot holds the root of pid (procfsRoot/<pid>/root); when the process is already gone and
// onHost says it ran on the host, the host root instead. nil when neither can be held.
func HoldRoot(procfsRoot, hostRoot string, pid uint32, onHost bool) *Root {
	if r := holdDir(filepath.Join(procfsRoot, strconv.FormatUint(uint64(pid), 10), "root"), RootWriter); r != nil {
		return r
	}
	if onHost {
		return holdDir(hostRoot, RootHost)
	}
	return nil
}

func holdDir(dir, via string) *Root {
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		_ = unix.Close(fd)
		return nil
	}
	return &Root{fd: fd, Via: via, dev: st.Dev, ino: st.Ino}
}

// Close releases the root; a nil root is fine.
func (r *Root) Close() {
	if r != nil && r.fd >= 0 {
		_ = unix.Close(r.fd)
		r.fd = -1
	}
}

// dup returns a descriptor of the root the caller must close (a read that hangs keeps its own).
func (r *Root) dup() (int, error) {
	return unix.FcntlInt(uintptr(r.fd), unix.F_DUPFD_CLOEXEC, 0)
}

// resolveInRoot resolves every path as if rootfd were "/": absolute symlinks and ".." stay inside
// it, and procfs magic links (which could point anywhere) are refused.
const resolveInRoot = unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS

// readIn reads at most n bytes of the regular file p inside the root rootfd. The file is looked up
// with O_PATH (which opens nothing: no fifo, device or FUSE open is started) and checked with fstat
// before it is opened for reading, through the descriptor already held, so what is read is what was
// checked. A last-component symlink is not followed; owner >= 0 requires the file to belong to that
// user (an unprivileged writer cannot point the read at someone else's file).
func readIn(rootfd int, p string, n int, owner int64) ([]byte, string) {
	rel := path.Clean("/" + p)[1:]
	if rel == "" {
		return nil, StatusNotRegular
	}
	pfd, err := unix.Openat2(rootfd, rel, &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_NOFOLLOW | unix.O_CLOEXEC,
		Resolve: resolveInRoot,
	})
	if err != nil {
		return nil, statusOf(err)
	}
	defer unix.Close(pfd)
	var st unix.Stat_t
	if err := unix.Fstat(pfd, &st); err != nil {
		return nil, StatusError
	}
	switch {
	case st.Mode&unix.S_IFMT == unix.S_IFLNK:
		return nil, StatusSymlink
	case st.Mode&unix.S_IFMT != unix.S_IFREG:
		return nil, StatusNotRegular
	case owner >= 0 && int64(st.Uid) != owner:
		return nil, StatusOwner
	}
	// Re-open the very inode checked above (the O_PATH descriptor pins it) for reading.
	f, err := os.OpenFile("/proc/self/fd/"+strconv.Itoa(pfd), os.O_RDONLY|unix.O_NONBLOCK|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, statusOf(err)
	}
	defer f.Close()
	var st2 unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st2); err != nil || st2.Dev != st.Dev || st2.Ino != st.Ino {
		return nil, StatusError
	}
	b, err := io.ReadAll(io.LimitReader(f, int64(n)))
	if err != nil {
		return nil, StatusError
	}
	return b, StatusOK
}

func statusOf(err error) string {
	switch {
	case errors.Is(err, unix.ENOENT), errors.Is(err, unix.ENOTDIR):
		return StatusMissing
	case errors.Is(err, unix.ELOOP):
		return StatusSymlink
	default:
		return StatusError
	}
}

func closeFd(fd int) { _ = unix.Close(fd) }

// rootKey names the directory a root is: held roots with the same key see the same files.
func rootKey(r *Root) string {
	return strconv.FormatUint(r.dev, 10) + ":" + strconv.FormatUint(r.ino, 10)
}
