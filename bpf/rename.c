/* SPDX-License-Identifier: GPL-2.0 OR Apache-2.0 */
/* comm changes after start (prctl(PR_SET_NAME), /proc/<pid>/comm); the rename done by exec itself
 * is skipped. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "records.h"
#include "kconst.h"
#include "lib/ring.h"
#include "lib/task.h"

SEC("tp_btf/task_rename")
int BPF_PROG(handle_rename, struct task_struct *task, const char *comm)
{
	struct rename_rec *r;
	__u64 seq;

	if (BPF_CORE_READ_BITFIELD(task, in_execve))
		return 0;
	if (excluded(task->tgid))
		return 0;
	seq = next_seq();
	r = ring_reserve(sizeof(*r), KIND_RENAME);
	if (!r)
		return 0;
	/* the acting task may be another process writing /proc/<pid>/comm: report the renamed task */
	fill_hdr_lean(&r->hdr, task, KIND_RENAME, seq);
	__builtin_memcpy(r->oldcomm, task->comm, sizeof(r->oldcomm));
	bpf_probe_read_kernel_str(r->newcomm, sizeof(r->newcomm), comm);
	ring_submit(r);
	return 0;
}
