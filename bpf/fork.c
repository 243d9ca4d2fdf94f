/* SPDX-License-Identifier: GPL-2.0 OR Apache-2.0 */
/* Lineage recorded at fork. A process that forks without exec'ing runs its creator's image; when it
 * execs, the exec record names that creator (the last process of the chain that exec'd), so user
 * space can give it its creator's context even after a reparenting (a double fork whose middle
 * process exited leaves the orphan with pid 1 or a subreaper as its parent). No record per fork:
 * the creator is kept in the new task's local storage, which the exec reads and the kernel frees
 * with the task (no clean-up at exit, no table to fill or evict). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "records.h"
#include "kconst.h"
#include "lib/ring.h"

struct creator {
	__u64 start; /* the creator's start time */
	__u32 tgid;  /* the creator; 0 once the process exec'd (its own image since) */
	__u32 _pad;
};

/* forked process's main thread -> creator */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct creator);
} creators SEC(".maps");

SEC("tp_btf/sched_process_fork")
int BPF_PROG(handle_fork, struct task_struct *parent, struct task_struct *child)
{
	struct creator *pc, *cc;
	__u32 tgid = parent->tgid;
	__u64 start;

	if (child->tgid == tgid || (child->flags & PF_KTHREAD))
		return 0; /* a thread, or a kernel thread */
	cc = bpf_task_storage_get(&creators, child, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!cc)
		return 0;
	start = parent->group_leader->start_boottime;
	/* the forking thread is the main thread of a process that never exec'd since its own fork:
	 * the child runs the same creator's image */
	pc = bpf_task_storage_get(&creators, parent, 0, 0);
	if (pc && pc->tgid) {
		tgid = pc->tgid;
		start = pc->start;
	}
	cc->tgid = tgid;
	cc->start = start;
	return 0;
}

/* take_creator moves the recorded creator of the exec'ing process into r; from now on the process
 * runs its own image and is the creator of what it forks. */
static __always_inline void take_creator(struct exec_rec *r, struct task_struct *task)
{
	struct creator *c = bpf_task_storage_get(&creators, task, 0, 0);

	r->creator_tgid = 0;
	r->creator_start = 0;
	r->_pad2 = 0;
	if (!c || !c->tgid)
		return;
	r->creator_tgid = c->tgid;
	r->creator_start = c->start;
	r->flags |= EXEC_F_CREATOR;
	c->tgid = 0;
}
