/* SPDX-License-Identifier: GPL-2.0 OR Apache-2.0 */
/* Bounded dentry walk: bpf_d_path is refused in tp_btf and tracepoint programs, so paths are rebuilt
 * from the dentry chain, crossing mounts, into a per-CPU scratch buffer filled from the end. */
#ifndef CRYPTOCHAIN_PATH_H
#define CRYPTOCHAIN_PATH_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#define PATH_SCRATCH 4096 /* the path ends at buf[PATH_SCRATCH] */
#define PATH_DEPTH 32     /* components, mount crossings included */
#define NAME_CAP 255

struct walk_ctx;

/* Field offsets are resolved (CO-RE) in the calling program and handed to the loop callback: the
 * callback is shared by many programs and cilium/ebpf v0.22 mis-relocates CO-RE reads inside it.
 * The walk state lives in the map value, not on the stack, so the verifier sees the same state at
 * every iteration and verifies the callback once. */
struct walk_ctx {
	__u64 dentry;
	__u64 mnt; /* struct mount * */
	__u64 mnt_root;
	__u64 stop_dentry; /* the task's root (dentry, struct vfsmount *) when the walk stops there; 0: none */
	__u64 stop_mnt;
	__s32 pos;
	__u32 o_mnt_parent, o_mnt_mountpoint, o_mnt_vfs, o_vfs_root;
	__u32 o_d_parent, o_d_name, o_qstr_name, o_qstr_len;
	__u32 _pad; /* set: d_parent and d_name are contiguous */
};

struct path_scratch {
	struct walk_ctx c;
	char buf[PATH_SCRATCH + NAME_CAP + 1];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct path_scratch);
} path_heap SEC(".maps");

static __always_inline __u64 read_ptr(__u64 base, __u32 off)
{
	__u64 v = 0;
	bpf_probe_read_kernel(&v, sizeof(v), (void *)(base + off));
	return v;
}

struct walk_arg {
	struct path_scratch *s;
};

/* dentry_head mirrors d_parent followed by d_name (qstr: hash, len, name), read with one helper call
 * when the kernel lays them out contiguously (checked once per walk). */
struct dentry_head {
	__u64 parent;
	__u32 hash;
	__u32 len;
	__u64 name;
};

/* One component per call; bpf_loop keeps the verifier from unrolling the walk. */
static long walk_step(__u32 i, struct walk_arg *arg)
{
	struct path_scratch *s = arg->s;
	struct walk_ctx *c;
	struct dentry_head dh = {};
	__u64 dentry;
	int pos;
	__u32 len;

	if (!s)
		return 1;
	c = &s->c;
	dentry = c->dentry;
	pos = c->pos;
	if (pos <= 0 || pos > PATH_SCRATCH)
		return 1;
	if (dentry == c->stop_dentry && c->mnt + c->o_mnt_vfs == c->stop_mnt)
		return 1; /* the task's root (a chroot): the path is relative to it, as d_path gives it */
	if (dentry == c->mnt_root) {
		__u64 mp = read_ptr(c->mnt, c->o_mnt_parent);
		if (mp == c->mnt || !mp)
			return 1; /* the namespace root */
		c->dentry = read_ptr(c->mnt, c->o_mnt_mountpoint);
		c->mnt = mp;
		c->mnt_root = read_ptr(mp + c->o_mnt_vfs, c->o_vfs_root);
		return 0;
	}
	if (c->_pad) { /* contiguous layout */
		bpf_probe_read_kernel(&dh, sizeof(dh), (void *)(dentry + c->o_d_parent));
	} else {
		dh.parent = read_ptr(dentry, c->o_d_parent);
		dh.name = read_ptr(dentry + c->o_d_name, c->o_qstr_name);
		bpf_probe_read_kernel(&dh.len, sizeof(dh.len), (void *)(dentry + c->o_d_name + c->o_qstr_len));
	}
	len = dh.len;
	if (len > NAME_CAP)
		len = NAME_CAP;
	if (pos < (int)len + 1)
		return 1;
	pos -= len;
	bpf_probe_read_kernel(&s->buf[pos & (PATH_SCRATCH - 1)], len & NAME_CAP, (void *)dh.name);
	pos -= 1;
	s->buf[pos & (PATH_SCRATCH - 1)] = '/';
	c->pos = pos;
	if (dh.parent == dentry || !dh.parent)
		return 1; /* pseudo file system root (memfd, pipes): its own parent */
	c->dentry = dh.parent;
	return 0;
}

/* walk_path_from writes the path of (dentry, vfsmnt) into the per-CPU scratch and returns its start
 * offset (the path is buf[start..PATH_SCRATCH)), or -1. A path deeper than PATH_DEPTH loses its top.
 * The walk stops at the mount namespace's root, or earlier at (root_dentry, root_mnt) when given. */
static __always_inline int walk_path_from(struct dentry *dentry, struct vfsmount *vfsmnt, struct dentry *root_dentry,
					  struct vfsmount *root_mnt)
{
	__u32 zero = 0;
	struct path_scratch *s = bpf_map_lookup_elem(&path_heap, &zero);
	struct walk_ctx *cp;
	int pos;

	if (!s || !dentry || !vfsmnt)
		return -1;
	cp = &s->c;
	cp->o_mnt_parent = bpf_core_field_offset(struct mount, mnt_parent);
	cp->o_mnt_mountpoint = bpf_core_field_offset(struct mount, mnt_mountpoint);
	cp->o_mnt_vfs = bpf_core_field_offset(struct mount, mnt);
	cp->o_vfs_root = bpf_core_field_offset(struct vfsmount, mnt_root);
	cp->o_d_parent = bpf_core_field_offset(struct dentry, d_parent);
	cp->o_d_name = bpf_core_field_offset(struct dentry, d_name);
	cp->o_qstr_name = bpf_core_field_offset(struct qstr, name);
	cp->o_qstr_len = bpf_core_field_offset(struct qstr, len);
	cp->dentry = (__u64)dentry;
	cp->mnt = (__u64)vfsmnt - cp->o_mnt_vfs;
	cp->mnt_root = (__u64)BPF_CORE_READ(vfsmnt, mnt_root);
	cp->stop_dentry = (__u64)root_dentry;
	cp->stop_mnt = (__u64)root_mnt;
	cp->pos = PATH_SCRATCH;
	cp->_pad = cp->o_d_name == cp->o_d_parent + 8 && cp->o_qstr_len == 4 && cp->o_qstr_name == 8;
	{
		struct walk_arg arg = {.s = s};
		bpf_loop(PATH_DEPTH, walk_step, &arg, 0);
	}
	pos = cp->pos;
	if (pos >= PATH_SCRATCH || pos <= 0) {
		pos = PATH_SCRATCH - 1;
		s->buf[PATH_SCRATCH - 1] = '/';
	}
	return pos;
}

/* walk_path walks up to the mount namespace's root (exe and cwd paths, dirfd joins). */
static __always_inline int walk_path(struct dentry *dentry, struct vfsmount *vfsmnt)
{
	return walk_path_from(dentry, vfsmnt, 0, 0);
}

/* path_src returns the scratch address of a walk result. */
static __always_inline const char *path_src(int pos)
{
	__u32 zero = 0;
	struct path_scratch *s = bpf_map_lookup_elem(&path_heap, &zero);
	if (!s || pos < 0)
		return 0;
	return &s->buf[pos & (PATH_SCRATCH - 1)];
}

#endif
