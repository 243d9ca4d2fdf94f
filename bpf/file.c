/* SPDX-License-Identifier: GPL-2.0 OR Apache-2.0 */
/* File activity under watched prefixes, filtered in the kernel: opens with write intent, creates,
 * truncates, renames, links, symlinks, unlinks and chmods under WATCHED prefixes, and every open
 * under ALWAYS prefixes (/dev/cpu/) whatever its flags or result. Syscall-entry tracepoints, so
 * attempts that fail are seen; the record waits per thread for the syscall's result.
 *
 * A successful open with write intent is reported by the path of the file the kernel opened,
 * rebuilt at syscall exit from the new descriptor, and matched on that path: "//", "." and "..",
 * symlinked directories, /proc/self/root, /proc/<pid>/cwd and dirfd-relative spellings all give the
 * canonical path. The name operations (renames, links, symlinks, unlinks, chmods, and failed
 * opens), which leave no opened file, are canonicalised by name at entry (lib/canon.h): the lookup's
 * starting directory from kernel objects (dirfd, cwd, root, /proc/self/{root,cwd,fd/N}), the rest
 * folded. Both are marked FILE_F_RESOLVED. A symlinked directory named in that rest cannot be
 * followed; a symlink made during the run that leads to a watched place is reported instead, its
 * path watched (here at once for a link to a watched directory, by user space otherwise), and user
 * space rewrites paths through it. Read-only opens of ALWAYS prefixes keep the caller's string.
 * Paths are relative to the task's root: FILE_F_CHROOT marks a task whose root is not its mount
 * namespace's root, FILE_F_MNTNS a task in another mount namespace than the host's. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "records.h"
#include "kconst.h"
#include "lib/ring.h"
#include "lib/task.h"
#include "lib/path.h"
#include "lib/canon.h"

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, PREFIXES_MAX);
	__type(key, struct lpm_key);
	__type(value, __u32); /* PFX_* */
	__uint(map_flags, BPF_F_NO_PREALLOC);
} prefixes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 4); /* 0, 1: paths; 2: staging of joins; 3: a symlink's target */
	__type(key, __u32);
	__type(value, struct path_key);
} file_keys SEC(".maps");

/* The record waiting for its syscall's result, per thread (op == 0: none). Task storage is looked
 * up on every exit of the hooked syscalls, and is much cheaper than a hash lookup. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct file_rec);
} pending_files SEC(".maps");

/* Pre-filter: the first 8 bytes of every prefix (masked to its length), set from user space before
 * load. Most opens are read-only and not under an ALWAYS prefix: they are dropped after an 8-byte
 * read and a few compares, without the full string read and the trie lookup. A count above
 * HEAD_MAX (HEAD_ALL) turns the pre-filter off for that table. */
#define HEAD_MAX 32
#define HEAD_ALL 0xffffffff
volatile const __u32 always_heads_n = HEAD_ALL;
volatile const __u64 always_heads[HEAD_MAX];
volatile const __u64 always_masks[HEAD_MAX];
volatile const __u32 any_heads_n = HEAD_ALL;
volatile const __u64 any_heads[HEAD_MAX];
volatile const __u64 any_masks[HEAD_MAX];
/* The host's mount namespace (inode of /proc/1/ns/mnt), set from user space; 0: unknown. */
volatile const __u32 host_mnt_ns = 0;

/* head_miss says whether an absolute path certainly falls under none of the prefixes of the table
 * (always, or every prefix). Relative and unreadable paths are left to the full check. */
static __always_inline bool head_miss(const char *upath, bool always_only)
{
	__u64 head = 0;
	__u32 n = always_only ? always_heads_n : any_heads_n;

	if (n > HEAD_MAX)
		return false;
	/* a fixed-size read is cheaper than a string read; it fails only when the path ends within 8
	 * bytes of an unmapped page, and then the full check runs */
	if (bpf_probe_read_user(&head, sizeof(head), upath) < 0)
		return false;
	if ((head & 0xff) != '/')
		return always_only; /* read-only opens keep relative paths unresolved: they never match */
	/* bytes after a NUL are garbage, but a prefix's masked bytes hold no NUL: a path shorter than
	 * the head mismatches at its NUL, as it should */
	for (__u32 i = 0; i < HEAD_MAX; i++) {
		if (i >= n)
			break;
		if (always_only) {
			if ((head & always_masks[i]) == always_heads[i])
				return false;
		} else if ((head & any_masks[i]) == any_heads[i]) {
			return false;
		}
	}
	return true;
}

/* read_path reads a user path into k->data and returns its length (0 when unreadable): canonical
 * (lib/canon.h) when canon, else as the caller spelled it. */
static __always_inline __u32 read_path(struct path_key *k, int dfd, const char *upath, bool canon)
{
	__u32 two = 2;
	struct path_key *stage;
	long n;

	if (canon) {
		stage = bpf_map_lookup_elem(&file_keys, &two);
		if (!stage)
			return 0;
		return canon_path(k, stage, dfd, (__u64)upath);
	}
	n = bpf_probe_read_user_str(k->data, LPM_CAP, upath);
	return n > 1 ? n - 1 : 0;
}

static __always_inline __u32 lookup_prefix(struct path_key *k, __u32 len)
{
	__u32 *v;
	k->prefixlen = (len > LPM_CAP ? LPM_CAP : len) * 8;
	v = bpf_map_lookup_elem(&prefixes, k);
	return v ? *v : 0;
}

/* Directories above watched prefixes ("/", "/etc", "/etc/cron.d" for "/etc/cron.d/"), written by
 * user space: a symlink pointing at one of them is an alias of a watched place. */
struct anc_key {
	char data[LPM_CAP]; /* NUL-padded */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ANCESTORS_MAX);
	__type(key, struct anc_key);
	__type(value, __u8); /* enum ancestor_kind */
	__uint(map_flags, BPF_F_NO_PREALLOC);
} ancestors SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct anc_key);
} anc_keys SEC(".maps");

/* alias_target says whether a new symlink at k1 (canonical, len1 bytes) points under a watched
 * prefix or at a directory of or above one: 0 no, ANC_WATCHED_DIR when the link's path followed by
 * '/' is to be watched like the target (the target is a watched directory or inside one),
 * ANC_ABOVE when a watched place lies below the target (user space adds the respelled prefixes).
 * The target is canonicalised as the link's follower would resolve it: relative to the link's
 * directory, or from the root ("/proc/self" taken as the creator's). */
static __always_inline __u8 alias_target(struct path_key *k1, __u32 len1, const char *target)
{
	__u32 zero = 0, two = 2, three = 3;
	struct path_key *stage = bpf_map_lookup_elem(&file_keys, &two);
	struct path_key *t = bpf_map_lookup_elem(&file_keys, &three);
	struct anc_key *a = bpf_map_lookup_elem(&anc_keys, &zero);
	__u32 len, off;
	char c = 0;
	long n;

	__u8 *v;

	if (!stage || !t || !a || !len1)
		return 0;
	bpf_probe_read_user(&c, 1, target);
	if (c == '/') {
		len = canon_path(t, stage, AT_FDCWD, (__u64)target);
	} else {
		n = bpf_probe_read_user_str(stage->data, LPM_CAP, target);
		if (n <= 1 || len1 > FILE_PATH_CAP - 6)
			return 0;
		/* <link>/../<target>: the fold drops the link's own name */
		bpf_probe_read_kernel(t->data, len1 & (FILE_PATH_CAP - 1), k1->data);
		off = len1;
		t->data[off & (FILE_PATH_CAP - 1)] = '/';
		t->data[(off + 1) & (FILE_PATH_CAP - 1)] = '.';
		t->data[(off + 2) & (FILE_PATH_CAP - 1)] = '.';
		t->data[(off + 3) & (FILE_PATH_CAP - 1)] = '/';
		off += 4;
		bpf_probe_read_kernel(&t->data[off & (FILE_PATH_CAP - 1)], (n - 1) & (LPM_CAP - 1), stage->data);
		len = fold(t, off + n - 1);
	}
	if (!len)
		return 0;
	if (lookup_prefix(t, len) & PFX_WATCHED)
		return ANC_WATCHED_DIR;
	if (len > LPM_CAP - 1)
		return 0;
	barrier_var(len);
	len &= LPM_CAP - 1;
	__builtin_memset(a->data, 0, LPM_CAP);
	bpf_probe_read_kernel(a->data, len, t->data);
	v = bpf_map_lookup_elem(&ancestors, a);
	return v ? *v : 0;
}

/* watch_alias adds "<link>/" to the prefixes for a symlink just made to a watched directory, so
 * that a rename, link or chmod through it right after is matched (user space, which learns of the
 * link later, does the same and also handles links to directories above watched places). A full
 * trie refuses the entry: user space counts it. */
static __always_inline void watch_alias(struct file_rec *r)
{
	__u32 three = 3, flags = PFX_WATCHED;
	struct path_key *k = bpf_map_lookup_elem(&file_keys, &three);
	__u32 len = r->path_len;

	if (!k || len == 0 || len > LPM_CAP - 2 || r->path[0] != '/')
		return;
	barrier_var(len);
	len &= LPM_CAP - 1;
	bpf_probe_read_kernel(k->data, len, r->path);
	k->data[len & (LPM_CAP - 1)] = '/';
	k->prefixlen = (len + 1) * 8;
	bpf_map_update_elem(&prefixes, k, &flags, BPF_ANY);
}

/* file_enter keeps a record for the thread when a path of the operation falls under a prefix.
 * Paths of operations with write intent are canonicalised (lib/canon.h) before they are matched:
 * no pre-filter on their first bytes, since ".." anywhere can climb into a watched place. */
static __always_inline int file_enter(enum file_op op, int dfd, const char *upath, int dfd2, const char *upath2,
				      bool match2, __u32 flags, __u32 mode)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 zero = 0, one = 1;
	bool write = op != FOP_OPEN || (flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC));
	/* a write open is decided again at exit on the opened file's path, whatever its spelling */
	bool at_exit = op == FOP_OPEN && write;
	struct path_key *k1, *k2;
	struct file_rec *r;
	__u32 len1 = 0, len2 = 0, m, match = 0;
	__u8 alias = 0;

	if (excluded(id >> 32))
		return 0;
	/* opens: a miss of the head ends it here (a write open is still decided at exit, on the
	 * opened file's own path) */
	if (op == FOP_OPEN && head_miss(upath, !write)) {
		if (!at_exit)
			return 0;
		goto stage; /* no string read: only the opened file's path can match */
	}
	k1 = bpf_map_lookup_elem(&file_keys, &zero);
	k2 = bpf_map_lookup_elem(&file_keys, &one);
	if (!k1 || !k2)
		return 0;
	len1 = read_path(k1, dfd, upath, write);
	if (len1) {
		m = lookup_prefix(k1, len1);
		if ((m & PFX_ALWAYS) || (write && (m & PFX_WATCHED)))
			match = m;
	}
	if (upath2) {
		len2 = read_path(k2, dfd2, upath2, match2);
		if (match2 && len2 && !match) {
			m = lookup_prefix(k2, len2);
			if (m & (PFX_ALWAYS | PFX_WATCHED))
				match = m;
		}
		if (op == FOP_SYMLINK && !match) {
			alias = alias_target(k1, len1, upath2);
			if (alias)
				match = PFX_WATCHED;
		}
	}
	if (!match && !at_exit)
		return 0;
stage:
	r = bpf_task_storage_get(&pending_files, bpf_get_current_task_btf(), 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!r)
		return 0;
	if (op == FOP_OPEN && (flags & O_TRUNC))
		op = FOP_TRUNCATE;
	else if (op == FOP_OPEN && (flags & O_CREAT))
		op = FOP_CREATE;
	r->op = op;
	r->fflags = match ? FILE_F_NAME_MATCH : 0;
	if (match && write)
		r->fflags |= FILE_F_RESOLVED; /* canonicalised by name */
	if (alias == ANC_WATCHED_DIR)
		r->fflags |= FILE_F_ALIAS;
	r->flags = flags;
	r->mode = mode;
	r->err = 0;
	r->_pad = 0;
	r->_pad2 = 0;
	r->path_len = len1 > FILE_PATH_CAP - 1 ? FILE_PATH_CAP - 1 : len1;
	r->path2_len = 0;
	if (!match)
		return 0; /* staged for the exit check only: the string is not needed */
	bpf_probe_read_kernel(r->path, FILE_PATH_CAP, k1->data);
	if (upath2) {
		r->path2_len = len2 > FILE_PATH_CAP - 1 ? FILE_PATH_CAP - 1 : len2;
		bpf_probe_read_kernel(r->path2, FILE_PATH_CAP, k2->data);
	}
	return 0;
}

/* root_flags says where the task's root is: FILE_F_CHROOT when it is not its mount namespace's
 * root, FILE_F_MNTNS when the namespace is not the host's. The namespace's root mount usually has
 * others stacked on it (the real root over the initial rootfs), so "not the namespace's root" is
 * read as: the root is a directory inside its mount, or its mount is mounted on a directory of
 * another mount (one level is checked: a chroot into a bind mount). */
static __always_inline __u8 root_flags(struct task_struct *t)
{
	struct fs_struct *fs = t->fs;
	struct dentry *rd = fs->root.dentry;
	struct vfsmount *rm = fs->root.mnt;
	struct mount *m = (struct mount *)((void *)rm - bpf_core_field_offset(struct mount, mnt));
	struct mount *parent = BPF_CORE_READ(m, mnt_parent);
	__u8 f = 0;

	if (rd != BPF_CORE_READ(rm, mnt_root) ||
	    (parent != m && BPF_CORE_READ(m, mnt_mountpoint) != BPF_CORE_READ(parent, mnt.mnt_root)))
		f |= FILE_F_CHROOT;
	if (host_mnt_ns && BPF_CORE_READ(t, nsproxy, mnt_ns, ns.inum) != host_mnt_ns)
		f |= FILE_F_MNTNS;
	return f;
}

/* resolve_fd rebuilds the path of descriptor fd of t, relative to t's root, into r->path and
 * returns what the prefixes say of it (0 when it matches none or cannot be read). */
static __always_inline __u32 resolve_fd(struct file_rec *r, struct task_struct *t, long fd)
{
	__u32 zero = 0;
	struct file **fds = t->files->fdt->fd;
	unsigned int max = t->files->fdt->max_fds;
	struct file *f = 0;
	struct path_key *k;
	const char *src;
	__u32 len, m;
	int pos;

	if (fd < 0 || fd >= max)
		return 0;
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	if (!f)
		return 0;
	pos = walk_path_from(BPF_CORE_READ(f, f_path.dentry), BPF_CORE_READ(f, f_path.mnt), t->fs->root.dentry,
			     t->fs->root.mnt);
	src = path_src(pos);
	k = bpf_map_lookup_elem(&file_keys, &zero);
	if (!src || !k)
		return 0;
	len = PATH_SCRATCH - pos;
	bpf_probe_read_kernel(k->data, LPM_CAP, src);
	m = lookup_prefix(k, len);
	if (!(m & (PFX_ALWAYS | PFX_WATCHED)))
		return 0;
	if (len > FILE_PATH_CAP - 1)
		len = FILE_PATH_CAP - 1;
	bpf_probe_read_kernel(r->path, len & (FILE_PATH_CAP - 1), src);
	r->path[len & (FILE_PATH_CAP - 1)] = 0;
	r->path_len = len;
	return m;
}

static __always_inline int file_exit(long ret, bool opened)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct file_rec *r = bpf_task_storage_get(&pending_files, t, 0, 0);
	__u8 fl;
	__u64 seq;

	if (!r || !r->op)
		return 0;
	fl = root_flags(t);
	if (opened && ret >= 0) {
		/* the opened file's own path decides, whatever the caller's string looked like (a
		 * symlink planted under a watched directory is seen when it is made, as a symlink) */
		if (!resolve_fd(r, t, ret)) {
			r->op = 0;
			return 0;
		}
		fl |= FILE_F_RESOLVED;
	} else if (!(r->fflags & FILE_F_NAME_MATCH)) {
		r->op = 0; /* staged for the exit check only, and nothing was opened */
		return 0;
	} else {
		fl |= r->fflags & FILE_F_RESOLVED;
		if ((r->fflags & FILE_F_ALIAS) && ret == 0)
			watch_alias(r);
	}
	r->fflags = fl;
	seq = next_seq();
	fill_hdr_lean(&r->hdr, bpf_get_current_task_btf(), KIND_FILE, seq);
	r->err = ret < 0 ? -ret : 0;
	ring_output(r, sizeof(*r), KIND_FILE);
	r->op = 0;
	return 0;
}

#define ARG(i) (ctx->args[i])
#define STR(i) ((const char *)ctx->args[i])

SEC("tracepoint/syscalls/sys_enter_open")
int handle_open_enter(struct trace_event_raw_sys_enter *ctx)
{
	return file_enter(FOP_OPEN, AT_FDCWD, STR(0), 0, 0, false, ARG(1), ARG(2));
}

SEC("tracepoint/syscalls/sys_enter_openat")
int handle_openat_enter(struct trace_event_raw_sys_enter *ctx)
{
	return file_enter(FOP_OPEN, ARG(0), STR(1), 0, 0, false, ARG(2), ARG(3));
}

SEC("tracepoint/syscalls/sys_enter_openat2")
int handle_openat2_enter(struct trace_event_raw_sys_enter *ctx)
{
	struct open_how how = {};
	bpf_probe_read_user(&how, sizeof(how), (void *)ARG(2));
	return file_enter(FOP_OPEN, ARG(0), STR(1), 0, 0, false, how.flags, how.mode);
}

SEC("tracepoint/syscalls/sys_enter_creat")
int handle_creat_enter(struct trace_event_raw_sys_enter *ctx)
{
	return file_enter(FOP_OPEN, AT_FDCWD, STR(0), 0, 0, false, O_CREAT | O_WRONLY | O_TRUNC, ARG(1));
}

SEC("tracepoint/syscalls/sys_enter_rename")
int handle_rename_enter(struct trace_event_raw_sys_enter *ctx)
{
	return file_enter(FOP_RENAME, AT_FDCWD, STR(1), AT_FDCWD, STR(0), true, 0, 0);
}

SEC("tracepoint/syscalls/sys_enter_renameat")
int handle_renameat_enter(struct trace_event_raw_sys_enter *ctx)
{
	return file_enter(FOP_RENAME, ARG(2), STR(3), ARG(0), STR(1), true, 0, 0);
}

SEC("tracepoint/syscalls/sys_enter_renameat2")
int handle_renameat2_enter(struct trace_event_raw_sys_enter *ctx)
{
	return file_enter(FOP_RENAME, ARG(2), STR(3), ARG(0), STR(1), true, ARG(4), 0);
}

SEC("tracepoint/syscalls/sys_enter_link")
int handle_link_enter(struct trace_event_raw_sys_enter *ctx)
{
	return file_enter(FOP_LINK, AT_FDCWD, STR(1), AT_FDCWD, STR(0), true, 0, 0);
}

SEC("tracepoint/syscalls/sys_enter_linkat")
int handle_linkat_enter(struct trace_event_raw_sys_enter *ctx)
{
	return file_enter(FOP_LINK, ARG(2), STR(3), ARG(0), STR(1), true, ARG(4), 0);
}

SEC("tracepoint/syscalls/sys_enter_symlink")
int handle_symlink_enter(struct trace_event_raw_sys_enter *ctx)
{
	return file_enter(FOP_SYMLINK, AT_FDCWD, STR(1), AT_FDCWD, STR(0), false, 0, 0);
}

SEC("tracepoint/syscalls/sys_enter_symlinkat")
int handle_symlinkat_enter(struct trace_event_raw_sys_enter *ctx)
{
	return file_enter(FOP_SYMLINK, ARG(1), STR(2), AT_FDCWD, STR(0), false, 0, 0);
}

SEC("tracepoint/syscalls/sys_enter_unlink")
int handle_unlink_enter(struct trace_event_raw_sys_enter *ctx)
{
	return file_enter(FOP_UNLINK, AT_FDCWD, STR(0), 0, 0, false, 0, 0);
}

SEC("tracepoint/syscalls/sys_enter_unlinkat")
int handle_unlinkat_enter(struct trace_event_raw_sys_enter *ctx)
{
	return file_enter(FOP_UNLINK, ARG(0), STR(1), 0, 0, false, ARG(2), 0);
}

SEC("tracepoint/syscalls/sys_enter_chmod")
int handle_chmod_enter(struct trace_event_raw_sys_enter *ctx)
{
	return file_enter(FOP_CHMOD, AT_FDCWD, STR(0), 0, 0, false, 0, ARG(1));
}

SEC("tracepoint/syscalls/sys_enter_fchmodat")
int handle_fchmodat_enter(struct trace_event_raw_sys_enter *ctx)
{
	return file_enter(FOP_CHMOD, ARG(0), STR(1), 0, 0, false, 0, ARG(2));
}

SEC("tracepoint/syscalls/sys_enter_fchmodat2")
int handle_fchmodat2_enter(struct trace_event_raw_sys_enter *ctx)
{
	return file_enter(FOP_CHMOD, ARG(0), STR(1), 0, 0, false, ARG(3), ARG(2));
}

#define FILE_EXIT(name, opened)                                           \
	SEC("tracepoint/syscalls/sys_exit_" #name)                        \
	int handle_##name##_exit(struct trace_event_raw_sys_exit *ctx)    \
	{                                                                 \
		return file_exit(ctx->ret, opened);                       \
	}

FILE_EXIT(open, true)
FILE_EXIT(openat, true)
FILE_EXIT(openat2, true)
FILE_EXIT(creat, true)
FILE_EXIT(rename, false)
FILE_EXIT(renameat, false)
FILE_EXIT(renameat2, false)
FILE_EXIT(link, false)
FILE_EXIT(linkat, false)
FILE_EXIT(symlink, false)
FILE_EXIT(symlinkat, false)
FILE_EXIT(unlink, false)
FILE_EXIT(unlinkat, false)
FILE_EXIT(chmod, false)
FILE_EXIT(fchmodat, false)
FILE_EXIT(fchmodat2, false)
