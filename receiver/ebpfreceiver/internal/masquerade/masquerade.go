// Package masquerade flags how a process hides (an executable in a writable, hidden or fileless place,
// an argv[0] not its name, a kernel-thread name). It must not weigh this weak evidence: the processor does.
package masquerade // import "github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/masquerade"

import (
	"path"
	"strings"
)

// unusualDirs are world-writable or volatile places programs are not installed in.
var unusualDirs = []string{"/tmp/", "/var/tmp/", "/dev/shm/", "/run/shm/", "/dev/mqueue/", "/run/user/", "/var/run/user/"}

// UnusualLocation says whether an executable runs from a writable or volatile directory, from a
// hidden directory (a path component starting with "."), from a memfd, or was deleted.
func UnusualLocation(exe string, memfd, deleted bool) bool {
	if memfd || deleted || strings.HasPrefix(exe, "/memfd:") {
		return true
	}
	for _, d := range unusualDirs {
		if strings.HasPrefix(exe, d) {
			return true
		}
	}
	for c := range strings.SplitSeq(path.Dir(exe), "/") { // every exec asks: no slice per call
		if len(c) > 1 && c[0] == '.' && c != ".." {
			return true
		}
	}
	return false
}

// multiCall are programs whose argv[0] names an applet, not themselves.
var multiCall = map[string]bool{"busybox": true, "toybox": true, "coreutils": true, "runc": true}

// NameMismatch says whether argv[0] names neither the path handed to exec nor the executable (a
// symlink such as sh → dash is not a mismatch: the path handed to exec is "sh"). Login shells'
// leading "-" is ignored, and multi-call binaries and scripts are never flagged.
func NameMismatch(argv0, filename, exe string, script bool) bool {
	if argv0 == "" || script {
		return false
	}
	// Daemons retitle themselves ("sshd: /usr/sbin/sshd -D", "postgres: checkpointer"): the name is
	// what comes before the first space or colon.
	if i := strings.IndexAny(argv0, " :"); i > 0 {
		argv0 = argv0[:i]
	}
	a := strings.TrimPrefix(path.Base(argv0), "-")
	f, e := path.Base(filename), path.Base(exe)
	if multiCall[e] || multiCall[f] {
		return false
	}
	if a == f || a == e {
		return false
	}
	// Interpreters installed under versioned names (python3 → python3.11).
	if strings.HasPrefix(e, a) && strings.Trim(e[len(a):], "0123456789.") == "" {
		return false
	}
	return true
}

var kthreads = []string{
	"kworker", "ksoftirqd", "kthreadd", "kswapd", "migration", "rcu_sched", "rcu_preempt", "rcu_gp", "rcu_par_gp",
	"watchdog", "cpuhp", "kdevtmpfs", "kauditd", "khugepaged", "kcompactd", "jbd2", "kblockd", "ksmd",
	"kintegrityd", "writeback", "oom_reaper", "khungtaskd", "kstrp", "netns", "kcryptd", "scsi_eh", "irq",
}

// KthreadLike says whether a user process's name imitates a kernel thread: "[anything]", a kernel
// thread's name, that name with a "/" suffix (kworker/0:1) or with at most two trailing letters or
// digits (kdevtmpfsi, kworkerds). "kworker-metrics" is not flagged.
func KthreadLike(name string) bool {
	name = strings.TrimSpace(name)
	if len(name) >= 3 && name[0] == '[' && name[len(name)-1] == ']' {
		return true
	}
	for _, k := range kthreads {
		rest, ok := strings.CutPrefix(name, k)
		if !ok {
			continue
		}
		if rest == "" || rest[0] == '/' {
			return true
		}
		if len(rest) <= 2 && isAlnum(rest) {
			return true
		}
	}
	return false
}

func isAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}
