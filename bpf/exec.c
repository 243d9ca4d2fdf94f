/* SPDX-License-Identifier: GPL-2.0 OR Apache-2.0 */
/* Successful execs (tp_btf/sched_process_exec, read after the new image is in place) and failed exec
 * attempts (execve/execveat sys_exit tracepoints, emitted only when the syscall returns an error). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "records.h"
#include "lib/ring.h"
#include "lib/task.h"
#include "lib/path.h"

#define EXEC_PATH_CAP 1024
#define EXEC_NAME_CAP 256

volatile const __u32 args_max = 4096;
volatile const __u32 env_max = 4096;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct exec_buf);
} exec_heap SEC(".maps");

static __always_inline __u32 put_kstr(__u8 *data, __u32 off, const void *src)
{
	long n = bpf_probe_read_kernel_str(&data[off & EXEC_OFF_MASK], EXEC_NAME_CAP, src);
	return n > 1 ? n - 1 : 0; /* without the NUL */
}

/* Exec storms run the same binaries from the same directories: a walked path is kept for a second,
 * keyed by (dentry, vfsmount), so that most execs copy it instead of walking the dentry chain again.
 * A rename of a directory is seen at most a second late. */
#define PATH_CACHE_TTL_NS 1000000000ULL

struct path_cache_key {
	__u64 dentry;
	__u64 mnt;
};

struct path_cache_val {
	__u64 ts;
	__u32 len;
	__u32 _pad;
	char path[EXEC_PATH_CAP];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 2048);
	__type(key, struct path_cache_key);
	__type(value, struct path_cache_val);
} path_cache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct path_cache_val);
} path_cache_heap SEC(".maps");

static __always_inline __u32 put_path(__u8 *data, __u32 off, int pos);

/* now is the record's own time stamp: one clock read per exec instead of three. */
static __always_inline __u32 put_path_cached(__u8 *data, __u32 off, struct dentry *d, struct vfsmount *m, __u64 now)
{
	struct path_cache_key key = {.dentry = (__u64)d, .mnt = (__u64)m};
	struct path_cache_val *v = bpf_map_lookup_elem(&path_cache, &key);
	__u32 zero = 0, len;
	const char *src;
	int pos;

	if (v && now - v->ts < PATH_CACHE_TTL_NS) {
		len = v->len;
		if (len > EXEC_PATH_CAP)
			len = EXEC_PATH_CAP;
		bpf_probe_read_kernel(&data[off & EXEC_OFF_MASK], len & (EXEC_PATH_CAP * 2 - 1), v->path);
		return len;
	}
	pos = walk_path(d, m);
	len = put_path(data, off, pos);
	v = bpf_map_lookup_elem(&path_cache_heap, &zero);
	src = path_src(pos);
	if (v && src && len) {
		v->ts = now;
		v->len = len;
		bpf_probe_read_kernel(v->path, len & (EXEC_PATH_CAP - 1), src);
		if (len <= EXEC_PATH_CAP - 1)
			bpf_map_update_elem(&path_cache, &key, v, BPF_ANY);
	}
	return len;
}

static __always_inline __u32 put_path(__u8 *data, __u32 off, int pos)
{
	const char *src = path_src(pos);
	__u32 len;
	if (!src)
		return 0;
	len = PATH_SCRATCH - pos;
	if (len > EXEC_PATH_CAP)
		len = EXEC_PATH_CAP;
	bpf_probe_read_kernel(&data[off & EXEC_OFF_MASK], len & (EXEC_PATH_CAP * 2 - 1), src);
	return len;
}

/* put_block copies [start, end) of user memory, at most max bytes; *trunc is set when cut. */
static __always_inline __u32 put_block(__u8 *data, __u32 off, unsigned long start, unsigned long end, __u32 max,
				       bool *trunc)
{
	__u64 len = end > start ? end - start : 0;
	if (max > ARGS_CAP)
		max = ARGS_CAP;
	if (len > max) {
		len = max;
		*trunc = true;
	}
	if (len > ARGS_CAP)
		len = ARGS_CAP;
	if (bpf_probe_read_user(&data[off & EXEC_OFF_MASK], len, (const void *)start) < 0)
		return 0;
	return len;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(handle_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 zero = 0;
	struct exec_buf *b;
	struct exec_rec *r;
	__u8 *data;
	__u64 seq, size;
	__u32 off = 0, n;
	bool trunc = false;
	struct file *exe;
	struct mm_struct *mm;
	struct dentry *d;
	const char *filename, *interp;

	/* task, bprm and what hangs off them are BTF pointers: plain loads, not a helper call each */
	if (excluded(task->tgid))
		return 0;
	b = bpf_map_lookup_elem(&exec_heap, &zero);
	if (!b)
		return 0;
	r = &b->rec;
	data = b->data;
	seq = next_seq();
	fill_hdr(&r->hdr, KIND_EXEC, seq);
	r->argc = bprm->argc;
	r->sid = pid_nr(task->signal->pids[PIDTYPE_SID]);
	r->pgid = pid_nr(task->signal->pids[PIDTYPE_PGID]);
	r->flags = 0;
	take_creator(r, task);

	filename = bprm->filename;
	interp = bprm->interp;
	n = put_kstr(data, off, filename);
	r->filename_len = n;
	off += n;
	n = 0;
	if (interp != filename)
		n = put_kstr(data, off, interp);
	r->interp_len = n;
	off += n;

	mm = task->mm;
	exe = mm->exe_file;
	n = 0;
	if (exe) {
		d = exe->f_path.dentry;
		if (exe->f_inode->__i_nlink == 0)
			r->flags |= EXEC_F_DELETED;
		if (d == d->d_parent) {
			char pfx[6] = {};
			bpf_probe_read_kernel(pfx, sizeof(pfx), BPF_CORE_READ(d, d_name.name));
			if (pfx[0] == 'm' && pfx[1] == 'e' && pfx[2] == 'm' && pfx[3] == 'f' && pfx[4] == 'd' && pfx[5] == ':')
				r->flags |= EXEC_F_MEMFD;
		}
		n = put_path_cached(data, off, d, exe->f_path.mnt, r->hdr.ktime);
	}
	r->exe_len = n;
	off += n;

	n = put_path_cached(data, off, task->fs->pwd.dentry, task->fs->pwd.mnt, r->hdr.ktime);
	r->cwd_len = n;
	off += n;

	n = 0;
	{
		struct tty_struct *tty = task->signal->tty;
		if (tty)
			n = put_kstr(data, off, &tty->name);
	}
	r->tty_len = n;
	off += n;

	n = put_kstr(data, off, task->cgroups->dfl_cgrp->kn->name);
	r->cgname_len = n;
	off += n;

	/* argv: its first args_max bytes, and when it is longer than args_max + ARGS_TAIL its last
	 * ARGS_TAIL bytes too, so that flags placed after filler are still seen */
	n = put_block(data, off, mm->arg_start, mm->arg_end, args_max, &trunc);
	r->args_len = n;
	off += n;
	r->args_tail_len = 0;
	r->args_skipped = 0;
	if (trunc) {
		unsigned long total = mm->arg_end - mm->arg_start;
		unsigned long tail_start = mm->arg_end - ARGS_TAIL;
		bool tail_trunc = false;

		if (total > (unsigned long)n + ARGS_TAIL) {
			n = put_block(data, off, tail_start, mm->arg_end, ARGS_TAIL, &tail_trunc);
			if (n) {
				r->flags |= EXEC_F_ARGS_GAP;
				r->args_tail_len = n;
				r->args_skipped = total - r->args_len - n;
				off += n;
			} else {
				r->flags |= EXEC_F_ARGS_TRUNC;
			}
		} else {
			/* head and tail overlap: one read of the whole block, which is at most
			 * args_max + ARGS_TAIL bytes */
			off -= r->args_len;
			n = put_block(data, off, mm->arg_start, mm->arg_end, args_max + ARGS_TAIL, &tail_trunc);
			if (tail_trunc) /* args_max near ARGS_CAP */
				r->flags |= EXEC_F_ARGS_TRUNC;
			r->args_len = n;
			off += n;
		}
	}

	trunc = false;
	n = put_block(data, off, mm->env_start, mm->env_end, env_max, &trunc);
	if (trunc)
		r->flags |= EXEC_F_ENV_TRUNC;
	r->env_len = n;
	off += n;

	size = sizeof(*r) + (__u64)off;
	if (size > sizeof(*b))
		size = sizeof(*b);
	ring_output(b, size, KIND_EXEC);
	return 0;
}

/* ---- failed attempts ---- */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct exec_failed_buf);
} exec_failed_heap SEC(".maps");

/* attempt_exit reports an exec whose syscall failed. Nothing is kept at syscall entry: a failed
 * exec leaves the caller's registers as they were at entry (a successful one replaces them), so the
 * filename and argv pointers are read back from pt_regs, and the strings from the unchanged image. */
static __always_inline int attempt_exit(long ret, bool at)
{
	__u32 zero = 0;
	struct exec_failed_buf *b;
	struct exec_failed_rec *r;
	struct pt_regs *regs;
	const char *filename;
	const char *const *argv;
	__u32 off = 0;
	long n;
	__u64 size;

	if (ret >= 0)
		return 0;
	if (excluded(bpf_get_current_pid_tgid() >> 32))
		return 0;
	regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	if (at) { /* execveat(dirfd, filename, argv, envp, flags) */
		filename = (const char *)BPF_CORE_READ(regs, si);
		argv = (const char *const *)BPF_CORE_READ(regs, dx);
	} else { /* execve(filename, argv, envp) */
		filename = (const char *)BPF_CORE_READ(regs, di);
		argv = (const char *const *)BPF_CORE_READ(regs, si);
	}
	b = bpf_map_lookup_elem(&exec_failed_heap, &zero);
	if (!b)
		return 0;
	r = &b->rec;
	fill_hdr(&r->hdr, KIND_EXEC_FAILED, next_seq());
	r->err = -ret;
	r->flags = 0;
	r->argc = 0;
	n = bpf_probe_read_user_str(&b->data[0], FAILED_ARG_CAP, filename);
	r->filename_len = n > 1 ? n - 1 : 0;
	off = r->filename_len;
	for (int i = 0; i < FAILED_ARGS; i++) {
		const char *p = 0;
		if (!argv || bpf_probe_read_user(&p, sizeof(p), &argv[i]) < 0 || !p)
			break;
		if (off > FAILED_OFF_MASK + 1 - FAILED_ARG_CAP) {
			r->flags |= EXEC_F_ARGS_TRUNC;
			break;
		}
		n = bpf_probe_read_user_str(&b->data[off & FAILED_OFF_MASK], FAILED_ARG_CAP, p);
		if (n < 1)
			break;
		off += n; /* keeps the NUL as separator */
		r->argc++;
		if (i == FAILED_ARGS - 1) {
			const char *more = 0;
			bpf_probe_read_user(&more, sizeof(more), &argv[i + 1]);
			if (more)
				r->flags |= EXEC_F_ARGS_TRUNC;
		}
	}
	r->args_len = off - r->filename_len;
	size = sizeof(*r) + (__u64)off;
	if (size > sizeof(*b))
		size = sizeof(*b);
	ring_output(b, size, KIND_EXEC_FAILED);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_execve")
int handle_execve_exit(struct trace_event_raw_sys_exit *ctx)
{
	return attempt_exit(ctx->ret, false);
}

SEC("tracepoint/syscalls/sys_exit_execveat")
int handle_execveat_exit(struct trace_event_raw_sys_exit *ctx)
{
	return attempt_exit(ctx->ret, true);
}
