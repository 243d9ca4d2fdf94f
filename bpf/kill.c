/* SPDX-License-Identifier: GPL-2.0 OR Apache-2.0 */
/* Signals sent to other processes (miners clear the field by killing competitors).
 * Only the syscall exits are hooked: the arguments are read back from the caller's saved registers. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "records.h"
#include "kconst.h"
#include "lib/ring.h"
#include "lib/task.h"

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
	r = ring_reserve(sizeof(*r), KIND_KILL);
	if (!r)
		return 0;
	fill_hdr_lean(&r->hdr, bpf_get_current_task_btf(), KIND_KILL, seq);
	r->target = target;
	r->sig = sig;
	r->err = ret < 0 ? -ret : 0;
	r->_pad = 0;
	ring_submit(r);
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
