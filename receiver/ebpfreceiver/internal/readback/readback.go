// Package readback reads host files after an event, off the event path: a persistence file once its
// writer is done and the miner config files of a suspicious exec. Every read is confined to the root
// of the process the event is about, bounded in bytes and time, and never opens anything but a
// regular file. It must not know log records or how processes are resolved.
package readback // import "github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/readback"

import "time"

// Where a file was read from (the cryptochain.file.read_root values).
const (
	// RootWriter is the root of the process the event is about, held from the moment the event was
	// handled: the file is the one that process saw, even when it exited before the read.
	RootWriter = "writer"
	// RootHost is the host's root: the process was gone before its root could be held, and it ran
	// on the host (not in a container), so its files are the host's.
	RootHost = "host"
)

// Outcome of a read (the cryptochain.file.read_status values).
const (
	StatusOK         = "ok"          // content read (possibly empty)
	StatusMissing    = "missing"     // no such file (removed before the read)
	StatusNotRegular = "not_regular" // a fifo, device, socket or directory: refused without opening it
	StatusSymlink    = "symlink"     // the last component is a symlink: not followed
	StatusOwner      = "owner"       // owned by another user than the unprivileged writer: not read
	StatusTimeout    = "timeout"     // the file system did not answer in time (or too many reads hang)
	StatusGone       = "gone"        // the process and its root were gone before they could be held
	StatusDropped    = "dropped"     // the read-back queue was full
	StatusError      = "error"       // any other failure (escape attempt, permission, I/O)
)

// Bounds of the read-back machinery.
const (
	// ReadTimeout bounds one file's lookup, open and read.
	ReadTimeout = 500 * time.Millisecond
	// QueueSize bounds the reads waiting for a worker; more are counted as dropped.
	QueueSize = 512
	// Workers read in parallel, so one slow file does not hold the others up.
	Workers = 2
	// maxHung is how many reads may hang on a stalled file system at once; beyond it reads give up
	// at once (StatusTimeout) until one returns.
	maxHung = 8
)

// AnyOwner disables the owner check of a read.
const AnyOwner = -1
