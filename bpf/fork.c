/* SPDX-License-Identifier: GPL-2.0 OR Apache-2.0 */
/* Lineage recorded at fork. A process that forks without exec'ing runs its creator's image; when it
 * execs, the exec record names that creator (the last process of the chain that exec'd), so user
 * space can give it its creator's context even after a reparenting (a double fork whose middle
 * process exited leaves the orphan with pid 1 or a subreaper as its parent). No record per fork: a
 * fork writes one LRU hash entry, the exec reads and deletes it, and the exit deletes what is left. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "records.h"
#include "kconst.h"
#include "lib/ring.h"

#define CREATORS_MAX 32768

struct creator {
	__u64 child_start; /* the forked process's start time: a reused pid does not match */
	__u64 start;       /* the creator's start time */
	__u32 tgid;        /* the creator */
	__u32 _pad;
};

/* forked-but-not-exec'd process (tgid) -> creator. LRU: a fork storm evicts the oldest entries
 * instead of failing; an evicted entry only costs the fallback to the parent at exec. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, CREATORS_MAX);
	__type(key, __u32);
	__type(value, struct creator);
} creators SEC(".maps");

SEC("tp_btf/sched_process_fork")
int BPF_PROG(handle_fork, struct task_struct *parent, struct task_struct *child)
{
	struct creator c = {}, *pc;
	__u32 ptgid = parent->tgid, ctgid = child->tgid;
	__u64 pstart;

	if (ctgid == ptgid || (child->flags & PF_KTHREAD))
		return 0; /* a thread, or a kernel thread (its exit is not seen) */
	pstart = parent->group_leader->start_boottime;
	c.tgid = ptgid;
	c.start = pstart;
	pc = bpf_map_lookup_elem(&creators, &ptgid);
	if (pc) {
		struct creator prev = *pc;
		/* the parent never exec'd since its own fork: the child runs the same creator's image */
		if (prev.child_start == pstart) {
			c.tgid = prev.tgid;
			c.start = prev.start;
		}
	}
	c.child_start = child->start_boottime;
	bpf_map_update_elem(&creators, &ctgid, &c, BPF_ANY);
	return 0;
}

/* take_creator moves the recorded creator of the exec'ing process into r and forgets it. */
static __always_inline void take_creator(struct exec_rec *r, struct task_struct *task)
{
	__u32 tgid = task->tgid;
	struct creator *c = bpf_map_lookup_elem(&creators, &tgid);

	r->creator_tgid = 0;
	r->creator_start = 0;
	r->_pad2 = 0;
	if (!c)
		return;
	if (c->child_start == task->group_leader->start_boottime) {
		r->creator_tgid = c->tgid;
		r->creator_start = c->start;
		r->flags |= EXEC_F_CREATOR;
	}
	bpf_map_delete_elem(&creators, &tgid);
}

/* forget_creator drops the entry of an exiting process that never exec'd. */
static __always_inline void forget_creator(__u32 tgid)
{
	bpf_map_delete_elem(&creators, &tgid);
}
