/* SPDX-License-Identifier: GPL-2.0 OR Apache-2.0 */
/* Signals sent to other processes (issue 5: miners clear the field by killing competitors).
 * Only the syscall exits are hooked: the arguments are read back from the caller's saved registers. */
#include "common.h"

struct kill_rec {
	struct rec_hdr hdr;
	__u32 target;
	__s32 sig;
	__s32 err; /* positive errno, 0 success */
	__u32 _pad;
};

static __always_inline int kill_exit(long ret, __s64 target, __s64 sig)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct kill_rec *r;
	__u64 seq;

	if (sig <= 0 || target <= 0 || target == (id >> 32))
		return 0; /* probes (signal 0), process groups and oneself are not "clearing the field" */
	if (excluded(id >> 32))
		return 0;
	seq = next_seq();
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		count_lost(KIND_KILL);
		return 0;
	}
	fill_hdr_lean(&r->hdr, bpf_get_current_task_btf(), KIND_KILL, seq);
	r->target = target;
	r->sig = sig;
	r->err = ret < 0 ? -ret : 0;
	r->_pad = 0;
	bpf_ringbuf_submit(r, wake_flags());
	return 0;
}

static __always_inline struct pt_regs *user_regs(void)
{
	return (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
}

SEC("tracepoint/syscalls/sys_exit_kill")
int handle_kill_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = user_regs(); /* kill(pid, sig) */
	return kill_exit(ctx->ret, (int)BPF_CORE_READ(regs, di), (int)BPF_CORE_READ(regs, si));
}

SEC("tracepoint/syscalls/sys_exit_tgkill")
int handle_tgkill_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = user_regs(); /* tgkill(tgid, tid, sig) */
	return kill_exit(ctx->ret, (int)BPF_CORE_READ(regs, di), (int)BPF_CORE_READ(regs, dx));
}
