/* SPDX-License-Identifier: GPL-2.0 OR Apache-2.0 */
/* Canonical paths for the name-based file operations (rename, link, symlink, unlink, chmod and failed
 * opens), which leave no opened file to rebuild a path from. The directory the kernel starts the
 * lookup from is taken from kernel objects (the dirfd's file, the task's cwd or root, the file
 * behind /proc/self/fd/N), walked up to the task's root; the rest of the caller's string is folded
 * lexically ("//", ".", ".."). A symlinked directory named in that rest is not followed: BPF cannot
 * look names up (file.c reports symlinks that point into watched places instead, and user space
 * watches them). */
#ifndef CRYPTOCHAIN_CANON_H
#define CRYPTOCHAIN_CANON_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "records.h"
#include "kconst.h"
#include "path.h"

/* Key of the prefix trie; the scratch copy is FILE_PATH_CAP long, the trie looks at LPM_CAP bytes. */
struct path_key {
	__u32 prefixlen;
	char data[FILE_PATH_CAP + 2 * LPM_CAP]; /* room for a masked offset plus a masked length */
};

#define PATH_KEY_MASK (FILE_PATH_CAP + 2 * LPM_CAP - 1)
#define FOLD_MAX 1016  /* a joined path: a directory of < FILE_PATH_CAP, '/', a rest of <= REST_MAX; 8 below the key's end */
#define REST_MAX 504   /* bytes of a name kept after its directory when joined */
#define FOLD_DEPTH 512 /* power of two above FOLD_MAX / 2: "/x" components */

/* The fold's state lives in a map value (one verification of the callback, no stack limits). */
struct fold_state {
	__u32 i, w, cs, depth, len, _pad;
	__u16 stack[FOLD_DEPTH]; /* start of each kept component, for ".." */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fold_state);
} fold_heap SEC(".maps");

struct fold_arg {
	struct path_key *k;
	struct fold_state *st;
};

/* One byte per call: copies the byte down to the write position, and at each '/' (or the end)
 * decides the component just copied: empty or "." is dropped, ".." drops it and the one before. */
static long fold_step(__u32 idx, struct fold_arg *a)
{
	struct path_key *k = a->k;
	struct fold_state *st = a->st;
	__u32 i, w, cs, clen;
	char c;

	if (!k || !st)
		return 1;
	i = st->i;
	w = st->w;
	cs = st->cs;
	if (i > st->len || i >= FOLD_MAX || w > i)
		return 1;
	c = i < st->len ? k->data[i & PATH_KEY_MASK] : '/';
	st->i = i + 1;
	if (c != '/') {
		k->data[w & PATH_KEY_MASK] = c;
		st->w = w + 1;
		return 0;
	}
	clen = w - cs;
	if (clen == 0)
		return 0;
	if (clen == 1 && k->data[cs & PATH_KEY_MASK] == '.') {
		st->w = cs;
		return 0;
	}
	if (clen == 2 && k->data[cs & PATH_KEY_MASK] == '.' && k->data[(cs + 1) & PATH_KEY_MASK] == '.') {
		if (st->depth > 0) {
			st->depth--;
			cs = st->stack[st->depth & (FOLD_DEPTH - 1)];
		}
		st->w = cs; /* ".." of the root is the root */
		st->cs = cs;
		return 0;
	}
	if (st->depth < FOLD_DEPTH)
		st->stack[st->depth & (FOLD_DEPTH - 1)] = cs;
	st->depth++;
	k->data[w & PATH_KEY_MASK] = '/';
	st->w = w + 1;
	st->cs = w + 1;
	return 0;
}

/* fold rewrites the absolute path k->data[0..len) without empty, "." and ".." components and
 * without a trailing '/', NUL-terminated, and returns its length. */
static __always_inline __u32 fold(struct path_key *k, __u32 len)
{
	__u32 zero = 0;
	struct fold_state *st = bpf_map_lookup_elem(&fold_heap, &zero);
	struct fold_arg a = {.k = k, .st = st};
	__u32 w;

	if (!st || len == 0 || len >= FOLD_MAX)
		return len;
	st->i = 1;
	st->w = 1;
	st->cs = 1;
	st->depth = 0;
	st->len = len;
	bpf_loop(FOLD_MAX + 1, fold_step, &a, 0);
	w = st->w;
	if (w > 1)
		w--; /* the separator after the last component */
	if (w >= FILE_PATH_CAP)
		w = FILE_PATH_CAP - 1;
	k->data[w & PATH_KEY_MASK] = 0;
	return w;
}

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* zero_bytes flags (high bit) the zero bytes of v; a byte above a zero byte may be flagged too,
 * which only sends a path to the fold that did not need it. */
static __always_inline __u64 zero_bytes(__u64 v)
{
	return (v - ONES) & ~v & HIGHS;
}

struct scan_arg {
	struct path_key *k;
	__u32 len;
	__u32 found;
};

static long scan_step(__u32 idx, struct scan_arg *a)
{
	__u32 off = idx * 6;
	__u64 w, s, d, e;

	if (!a->k || off >= a->len || off >= FOLD_MAX)
		return 1;
	w = *(__u64 *)&a->k->data[off];
	s = zero_bytes(w ^ (ONES * '/'));
	d = zero_bytes(w ^ (ONES * '.'));
	e = s | d | zero_bytes(w);
	if ((s & (s >> 8)) || (s & (d >> 8) & (e >> 16))) {
		a->found = 1;
		return 1;
	}
	return 0;
}

/* needs_fold says whether k->data[0..len) may hold "//", "/./", "/../" or ends in "/." or "/..":
 * eight bytes at a time, words six bytes apart so that every three-byte window is inside one. */
static __always_inline bool needs_fold(struct path_key *k, __u32 len)
{
	struct scan_arg a = {.k = k, .len = len};

	bpf_loop(FOLD_MAX / 6 + 1, scan_step, &a, 0);
	return a.found;
}

/* fd_file returns t's open file fd, or 0 (not a BTF pointer: read its fields with BPF_CORE_READ). */
static __always_inline struct file *fd_file(struct task_struct *t, long fd)
{
	struct file **fds = t->files->fdt->fd;
	unsigned int max = t->files->fdt->max_fds;
	struct file *f = 0;

	if (fd < 0 || fd >= max)
		return 0;
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	return f;
}

/* A start of lookup: a directory (or, for /proc/self/fd/N, any file) and where the rest of the
 * caller's string begins. */
struct lookup_base {
	struct dentry *d;
	struct vfsmount *m;
	__u32 skip;
};

/* read_num reads decimal digits at k->data[*off..] (at most 10) and leaves *off after them. */
static __always_inline bool read_num(struct path_key *k, __u32 *off, __u64 *v)
{
	__u32 o = *off, n = 0;
	__u64 x = 0;

	for (int j = 0; j < 10; j++) {
		char c = k->data[(o + j) & PATH_KEY_MASK];
		if (c < '0' || c > '9')
			break;
		x = x * 10 + (c - '0');
		n++;
	}
	*off = o + n;
	*v = x;
	return n > 0;
}

static __always_inline bool word_at(struct path_key *k, __u32 off, const char *w, __u32 n)
{
	for (__u32 j = 0; j < 12; j++) {
		if (j >= n)
			break;
		if (k->data[(off + j) & PATH_KEY_MASK] != w[j])
			return false;
	}
	return true;
}

/* end_of_name says whether the name at off ends there ('/' or the end of the string). */
static __always_inline bool end_of_name(struct path_key *k, __u32 off, __u32 len)
{
	return off >= len || k->data[off & PATH_KEY_MASK] == '/';
}

/* proc_base recognises /proc/{self,thread-self,<own pid or tid>}/{root,cwd,fd/N} at the start of
 * the absolute path k->data[0..len) and sets the object the kernel resolves it to. Another
 * process's /proc/<pid> entries are left as spelled. A global function (verified once). */
__noinline int proc_base(struct path_key *k, __u32 len, struct lookup_base *b)
{
	struct task_struct *t = bpf_get_current_task_btf();
	__u32 off = 6;
	__u64 pid;

	if (!k || !b || len < 10 || !word_at(k, 0, "/proc/", 6))
		return 0;
	if (word_at(k, off, "self/", 5)) {
		off += 5;
	} else if (word_at(k, off, "thread-self/", 12)) {
		off += 12;
	} else if (read_num(k, &off, &pid) && k->data[off & PATH_KEY_MASK] == '/' &&
		   (pid == (__u64)t->tgid || pid == (__u64)t->pid)) {
		off += 1;
	} else {
		return 0;
	}
	if (word_at(k, off, "root", 4) && end_of_name(k, off + 4, len)) {
		b->d = t->fs->root.dentry;
		b->m = t->fs->root.mnt;
		b->skip = off + 4;
		return 1;
	}
	if (word_at(k, off, "cwd", 3) && end_of_name(k, off + 3, len)) {
		b->d = t->fs->pwd.dentry;
		b->m = t->fs->pwd.mnt;
		b->skip = off + 3;
		return 1;
	}
	if (word_at(k, off, "fd/", 3)) {
		struct file *f;
		__u64 fd;
		off += 3;
		if (!read_num(k, &off, &fd) || !end_of_name(k, off, len))
			return 0;
		f = fd_file(t, fd);
		if (!f)
			return 0;
		b->d = BPF_CORE_READ(f, f_path.dentry);
		b->m = BPF_CORE_READ(f, f_path.mnt);
		b->skip = off;
		return 1;
	}
	return 0;
}

/* join replaces k->data[0..len) by the path of b (up to t's root) followed by '/' and the rest of
 * the string from b->skip, and returns the new length (0 when the base cannot be walked). The
 * result may hold "//" or "." and ".." components: the caller folds it. */
static __always_inline __u32 join(struct path_key *k, struct path_key *stage, __u32 len, struct task_struct *t,
				  struct lookup_base *b)
{
	const char *dir;
	__u32 dlen, off, rest;
	int pos;

	pos = walk_path_from(b->d, b->m, t->fs->root.dentry, t->fs->root.mnt);
	dir = path_src(pos);
	if (!dir)
		return 0;
	dlen = PATH_SCRATCH - pos;
	if (dlen > FILE_PATH_CAP - 2)
		return 0; /* too deep to join (the walk keeps at most PATH_DEPTH components anyway) */
	rest = len > b->skip ? len - b->skip : 0;
	if (rest > REST_MAX)
		rest = REST_MAX;
	bpf_probe_read_kernel(stage->data, rest & (FILE_PATH_CAP - 1), &k->data[b->skip & (FILE_PATH_CAP - 1)]);
	bpf_probe_read_kernel(k->data, dlen & (FILE_PATH_CAP - 1), dir);
	off = dlen;
	k->data[off & (FILE_PATH_CAP - 1)] = '/';
	off++;
	bpf_probe_read_kernel(&k->data[off & (FILE_PATH_CAP - 1)], rest & (FILE_PATH_CAP - 1), stage->data);
	off += rest;
	if (off > FOLD_MAX - 1)
		off = FOLD_MAX - 1;
	k->data[off & PATH_KEY_MASK] = 0;
	return off;
}

/* canon_path reads the user path into k->data as the kernel will resolve it for the current task
 * (see the top of this file) and returns its length, 0 when unreadable. stage is scratch. A global
 * function: the verifier checks it once, not at every call site of every hook. */
__noinline int canon_path(struct path_key *k, struct path_key *stage, int dfd, __u64 uptr)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct lookup_base b = {};
	const char *upath = (const char *)uptr;
	long n;
	__u32 len;

	if (!k || !stage)
		return 0;
	/* names up to FILE_PATH_CAP - 1 bytes: padding ("/./" repeated) must not push a watched
	 * directory out of what is read; the trie looks at the first LPM_CAP bytes of the result */
	n = bpf_probe_read_user_str(k->data, FILE_PATH_CAP, upath);
	if (n <= 1)
		return 0;
	len = n - 1;
	if (k->data[0] != '/') {
		if (dfd == AT_FDCWD) {
			b.d = t->fs->pwd.dentry;
			b.m = t->fs->pwd.mnt;
		} else {
			struct file *f = fd_file(t, dfd);
			if (!f)
				return len; /* the syscall fails with EBADF: keep the string */
			b.d = BPF_CORE_READ(f, f_path.dentry);
			b.m = BPF_CORE_READ(f, f_path.mnt);
		}
	} else if (!proc_base(k, len, &b)) {
		if (!needs_fold(k, len))
			return len;
		len = fold(k, len);
		/* a respelled /proc prefix ("/proc//self/root") is recognised once folded */
		if (!proc_base(k, len, &b))
			return len;
	}
	len = join(k, stage, len, t, &b);
	if (!len)
		return 0;
	if (needs_fold(k, len))
		len = fold(k, len);
	return len;
}

#endif
