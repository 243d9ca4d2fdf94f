/* SPDX-License-Identifier: GPL-2.0 OR Apache-2.0 */
/* Shared by every hook: record header, kind numbers, the one ring buffer, loss counters and the
 * helpers that fill the acting process. Kind numbers match event.Kind in
 * receiver/ebpfreceiver/internal/event/event.go; keep them in step. */
#ifndef CRYPTOCHAIN_COMMON_H
#define CRYPTOCHAIN_COMMON_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>

#define KIND_EXEC 1
#define KIND_EXEC_FAILED 2
#define KIND_EXIT 3
#define KIND_RENAME 4
#define KIND_CONNECT 5
#define KIND_DNS 6
#define KIND_FILE 7
#define KIND_SYSCTL 8
#define KIND_KILL 9
#define KIND_FPU 10
#define KIND_PAYLOAD 11
#define KIND_COUNT 12

/* rec_hdr.flags */
#define HDR_F_TASK_UNRELIABLE 1 /* the hook ran in a context that need not be the acting task */
#define HDR_F_LEAN 2 /* fill_hdr_lean: credentials, login/session ids and namespaced pid are left zero */

#define EXCLUDE_MAX 8

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define AT_FDCWD -100
#define PF_KTHREAD 0x00200000
#define SIGNAL_GROUP_EXIT 0x00000004

/* Every record starts with this header. 96 bytes. */
struct rec_hdr {
	__u16 kind;
	__u16 flags;
	__u32 cpu;
	__u64 seq;            /* global, stamped before the reserve so a failed reserve leaves a gap */
	__u64 ktime;          /* bpf_ktime_get_boot_ns() */
	__u32 tgid;
	__u32 tid;
	__u64 start_boottime; /* group leader's start_boottime: with tgid, the process identity */
	__u32 ppid;
	__u32 vpid;
	__u64 parent_start;
	__u64 cgroup_id;
	__u32 uid;
	__u32 euid;
	__u32 loginuid;
	__u32 sessionid;
	char comm[16];
};

/* Set from user space before load (frozen .rodata, so the verifier sees constants). */
volatile const __u32 exclude_tgids[EXCLUDE_MAX];
volatile const __u64 wakeup_bytes = 64 * 1024;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 * 1024 * 1024); /* resized from user space */
} events SEC(".maps");

/* Records dropped because the ring was full, per kind, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, KIND_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} seqno SEC(".maps");

static __always_inline bool excluded(__u32 tgid)
{
#pragma unroll
	for (int i = 0; i < EXCLUDE_MAX; i++) {
		__u32 x = exclude_tgids[i];
		if (x == 0)
			break;
		if (x == tgid)
			return true;
	}
	return false;
}

static __always_inline __u64 next_seq(void)
{
	__u32 zero = 0;
	__u64 *s = bpf_map_lookup_elem(&seqno, &zero);
	if (!s)
		return 0;
	return __sync_fetch_and_add(s, 1) + 1;
}

static __always_inline void count_lost(__u32 kind)
{
	__u64 *c = bpf_map_lookup_elem(&lost, &kind);
	if (c)
		*c += 1;
}

/* Producers do not wake the reader (it polls) unless a backlog builds up: a wakeup per record costs
 * several microseconds of IPI on these VMs. */
static __always_inline __u64 wake_flags(void)
{
	__u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	return avail >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

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

static __always_inline void fill_common(struct rec_hdr *h, __u16 kind, __u64 seq)
{
	h->kind = kind;
	h->flags = 0;
	h->cpu = bpf_get_smp_processor_id();
	h->seq = seq;
	h->ktime = bpf_ktime_get_boot_ns();
	h->cgroup_id = bpf_get_current_cgroup_id();
}

/* fill_hdr: header for tracing programs (tp_btf, tracepoints). */
static __always_inline void fill_hdr(struct rec_hdr *h, __u16 kind, __u64 seq)
{
	fill_common(h, kind, seq);
	fill_task_btf(h, bpf_get_current_task_btf());
}

/* fill_hdr_lean: the header of records about a process that user space already knows from its exec
 * or the start-up snapshot (exit, connect, file, rename, kill, FPU): identity, parent, cgroup,
 * comm and time. Credentials, login/session ids and the namespaced pid are left out (HDR_F_LEAN) and
 * taken from the process table; reading them cost a few cold cache lines (~0.1-0.3 µs) per record. */
static __always_inline void fill_hdr_lean(struct rec_hdr *h, struct task_struct *t, __u16 kind, __u64 seq)
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
static __always_inline void fill_hdr_cg(struct rec_hdr *h, __u16 kind, __u64 seq)
{
	fill_common(h, kind, seq);
	fill_task(h, (struct task_struct *)bpf_get_current_task());
}

/* Header for hooks where only pid/tgid and cgroup are to be trusted (cgroup programs). */
static __always_inline void fill_hdr_light(struct rec_hdr *h, __u16 kind, __u64 seq)
{
	__u64 id = bpf_get_current_pid_tgid();
	h->kind = kind;
	h->flags = 0;
	h->cpu = bpf_get_smp_processor_id();
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
