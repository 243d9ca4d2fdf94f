/* SPDX-License-Identifier: GPL-2.0 OR Apache-2.0 */
/* Thread-group exits with exit status and the CPU time of the whole group. */
#include "common.h"

struct exit_rec {
	struct rec_hdr hdr;
	__s32 code;
	__u32 _pad;
	__u64 utime; /* ns: dead threads (signal) + the last thread */
	__u64 stime;
};

SEC("tp_btf/sched_process_exit")
int BPF_PROG(handle_exit, struct task_struct *task, bool group_dead)
{
	struct exit_rec *r;
	struct signal_struct *sig;
	__u64 seq;

	if (!group_dead)
		return 0;
	if (BPF_CORE_READ(task, flags) & PF_KTHREAD)
		return 0;
	if (excluded(BPF_CORE_READ(task, tgid)))
		return 0;
	seq = next_seq();
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		count_lost(KIND_EXIT);
		return 0;
	}
	fill_hdr(&r->hdr, KIND_EXIT, seq);
	sig = BPF_CORE_READ(task, signal);
	r->code = BPF_CORE_READ(task, exit_code);
	if (BPF_CORE_READ(sig, flags) & SIGNAL_GROUP_EXIT)
		r->code = BPF_CORE_READ(sig, group_exit_code);
	r->utime = BPF_CORE_READ(task, utime) + BPF_CORE_READ(sig, utime);
	r->stime = BPF_CORE_READ(task, stime) + BPF_CORE_READ(sig, stime);
	r->_pad = 0;
	bpf_ringbuf_submit(r, wake_flags());
	return 0;
}
