/* SPDX-License-Identifier: GPL-2.0 OR Apache-2.0 */
/* Task reads that fill a record header: the acting process's identity, parent, cgroup, credentials
 * and comm, for each kind of program context (BTF pointers, untrusted pointers, cgroup programs). */
#ifndef CRYPTOCHAIN_TASK_H
#define CRYPTOCHAIN_TASK_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "records.h"

static __always_inline __u32 pid_nr(struct pid *p)
{
	if (!p)
		return 0;
	return BPF_CORE_READ(p, numbers[0].nr);
}

/* fill_task fills the acting process from a task pointer that is not BTF-trusted (cgroup programs,
 * where bpf_get_current_task() is all there is): every field through bpf_probe_read_kernel. */
static __always_inline void fill_task(struct rec_hdr *h, struct task_struct *t)
{
	struct task_struct *leader = BPF_CORE_READ(t, group_leader);
	struct task_struct *parent = BPF_CORE_READ(t, real_parent);
	struct pid *tp;
	unsigned int level;

	h->tgid = BPF_CORE_READ(t, tgid);
	h->tid = BPF_CORE_READ(t, pid);
	h->start_boottime = BPF_CORE_READ(leader, start_boottime);
	h->ppid = BPF_CORE_READ(parent, tgid);
	h->parent_start = BPF_CORE_READ(parent, group_leader, start_boottime);
	tp = BPF_CORE_READ(leader, thread_pid);
	level = BPF_CORE_READ(tp, level);
	h->vpid = BPF_CORE_READ(tp, numbers[level & 3].nr);
	h->uid = BPF_CORE_READ(t, cred, uid.val);
	h->euid = BPF_CORE_READ(t, cred, euid.val);
	if (bpf_core_field_exists(t->loginuid)) {
		h->loginuid = BPF_CORE_READ(t, loginuid.val);
		h->sessionid = BPF_CORE_READ(t, sessionid);
	} else {
		h->loginuid = 0xffffffff;
		h->sessionid = 0xffffffff;
	}
	BPF_CORE_READ_STR_INTO(&h->comm, t, comm);
}

/* fill_task_btf does the same from a BTF pointer (tp_btf arguments, bpf_get_current_task_btf()):
 * plain loads that the verifier turns into fault-safe loads, much cheaper than a helper call each. */
static __always_inline void fill_task_btf(struct rec_hdr *h, struct task_struct *t)
{
	struct task_struct *leader = t->group_leader;
	struct task_struct *parent = t->real_parent;
	struct pid *tp = leader->thread_pid;
	const struct cred *cred = t->cred;

	h->tgid = t->tgid;
	h->tid = t->pid;
	h->start_boottime = leader->start_boottime;
	h->ppid = parent->tgid;
	h->parent_start = parent->group_leader->start_boottime;
	h->vpid = BPF_CORE_READ(tp, numbers[tp->level & 3].nr);
	h->uid = cred->uid.val;
	h->euid = cred->euid.val;
	if (bpf_core_field_exists(t->loginuid)) {
		h->loginuid = t->loginuid.val;
		h->sessionid = t->sessionid;
	} else {
		h->loginuid = 0xffffffff;
		h->sessionid = 0xffffffff;
	}
	__builtin_memcpy(h->comm, t->comm, sizeof(h->comm));
}

static __always_inline void fill_common(struct rec_hdr *h, enum record_kind kind, __u64 seq)
{
	h->kind = kind;
	h->flags = 0;
	h->_pad = 0;
	h->seq = seq;
	h->ktime = bpf_ktime_get_boot_ns();
	h->cgroup_id = bpf_get_current_cgroup_id();
}

/* fill_hdr: header for tracing programs (tp_btf, tracepoints). */
static __always_inline void fill_hdr(struct rec_hdr *h, enum record_kind kind, __u64 seq)
{
	fill_common(h, kind, seq);
	fill_task_btf(h, bpf_get_current_task_btf());
}

/* fill_hdr_lean: the header of records about a process that user space already knows from its exec
 * or the start-up snapshot (exit, connect, file, rename, kill, FPU): identity, parent, cgroup,
 * comm and time. Credentials, login/session ids and the namespaced pid are left out (HDR_F_LEAN) and
 * taken from the process table; reading them cost a few cold cache lines (~0.1-0.3 µs) per record. */
static __always_inline void fill_hdr_lean(struct rec_hdr *h, struct task_struct *t, enum record_kind kind, __u64 seq)
{
	struct task_struct *leader = t->group_leader;
	struct task_struct *parent = t->real_parent;

	fill_common(h, kind, seq);
	h->flags = HDR_F_LEAN;
	h->tgid = t->tgid;
	h->tid = t->pid;
	h->start_boottime = leader->start_boottime;
	h->ppid = parent->tgid;
	h->parent_start = parent->group_leader->start_boottime;
	h->vpid = 0;
	h->uid = 0;
	h->euid = 0;
	h->loginuid = 0xffffffff;
	h->sessionid = 0xffffffff;
	__builtin_memcpy(h->comm, t->comm, sizeof(h->comm));
}

/* fill_hdr_cg: header for cgroup programs. */
static __always_inline void fill_hdr_cg(struct rec_hdr *h, enum record_kind kind, __u64 seq)
{
	fill_common(h, kind, seq);
	fill_task(h, (struct task_struct *)bpf_get_current_task());
}

/* Header for hooks where only pid/tgid and cgroup are to be trusted (cgroup programs). */
static __always_inline void fill_hdr_light(struct rec_hdr *h, enum record_kind kind, __u64 seq)
{
	__u64 id = bpf_get_current_pid_tgid();
	h->kind = kind;
	h->flags = 0;
	h->_pad = 0;
	h->seq = seq;
	h->ktime = bpf_ktime_get_boot_ns();
	h->tgid = id >> 32;
	h->tid = (__u32)id;
	h->start_boottime = 0;
	h->ppid = 0;
	h->vpid = 0;
	h->parent_start = 0;
	h->uid = 0;
	h->euid = 0;
	h->cgroup_id = bpf_get_current_cgroup_id();
	h->loginuid = 0xffffffff;
	h->sessionid = 0xffffffff;
	bpf_get_current_comm(&h->comm, sizeof(h->comm));
}

#endif
