/* SPDX-License-Identifier: GPL-2.0 OR Apache-2.0 */
/* Thread-group exits with exit status and the CPU time of the whole group. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "records.h"
#include "kconst.h"
#include "lib/ring.h"
#include "lib/task.h"

#define EXIT_THREADS_MAX 64

/* group_times sums what thread_group_cputime() sums: the released threads (signal) plus every
 * thread still on the group's list (the exiting threads are released only after this tracepoint).
 * The precise runtime is split by the tick-sampled user/system ratio. */
static __always_inline void group_times(struct task_struct *task, struct signal_struct *sig, __u64 *utime,
					__u64 *stime)
{
	__u64 ut = sig->utime, st = sig->stime; /* sig is a BTF pointer: plain loads */
	__u64 rt = sig->sum_sched_runtime;
	struct list_head *head = (struct list_head *)((void *)sig + bpf_core_field_offset(struct signal_struct, thread_head));
	struct list_head *pos = sig->thread_head.next;
	__u32 node_off = bpf_core_field_offset(struct task_struct, thread_node);

	/* The common case, a single-threaded process: its only thread is the exiting task, read with
	 * plain loads instead of the helper calls the list walk needs. */
	if (pos == &task->thread_node && task->thread_node.next == head) {
		ut += task->utime;
		st += task->stime;
		rt += task->se.sum_exec_runtime;
		pos = head;
	}
	for (int i = 0; i < EXIT_THREADS_MAX && pos && pos != head; i++) {
		struct task_struct *t = (struct task_struct *)((void *)pos - node_off);
		ut += BPF_CORE_READ(t, utime);
		st += BPF_CORE_READ(t, stime);
		rt += BPF_CORE_READ(t, se.sum_exec_runtime);
		pos = BPF_CORE_READ(pos, next);
	}
	if (ut + st == 0 || rt == 0) {
		*utime = ut;
		*stime = st;
		return;
	}
	/* rt * ut / (ut + st) in 1/1024 steps, so that nothing overflows */
	*utime = (rt >> 10) * ((ut << 10) / (ut + st));
	*utime = *utime > rt ? rt : *utime;
	*stime = rt - *utime;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(handle_exit, struct task_struct *task, bool group_dead)
{
	struct exit_rec *r;
	struct signal_struct *sig;
	__u64 seq;

	if (!group_dead)
		return 0;
	/* task is a BTF pointer: plain loads, not one helper call per field */
	if (task->flags & PF_KTHREAD)
		return 0;
	if (excluded(task->tgid))
		return 0;
	seq = next_seq();
	r = ring_reserve(sizeof(*r), KIND_EXIT);
	if (!r)
		return 0;
	fill_hdr_lean(&r->hdr, task, KIND_EXIT, seq);
	sig = task->signal;
	r->code = task->exit_code;
	if (sig->flags & SIGNAL_GROUP_EXIT)
		r->code = sig->group_exit_code;
	group_times(task, sig, &r->utime, &r->stime);
	r->_pad = 0;
	ring_submit(r);
	return 0;
}
