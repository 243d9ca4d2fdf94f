/* SPDX-License-Identifier: GPL-2.0 OR Apache-2.0 */
/* Writes to /proc/sys, whichever tool made them (cgroup/sysctl at the cgroup2 root; always allows). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "records.h"
#include "kconst.h"
#include "lib/ring.h"
#include "lib/task.h"

SEC("cgroup/sysctl")
int handle_sysctl(struct bpf_sysctl *ctx)
{
	struct sysctl_rec *r;
	__u64 seq;
	long n;

	if (!ctx->write)
		return 1;
	if (excluded(bpf_get_current_pid_tgid() >> 32))
		return 1;
	seq = next_seq();
	r = ring_reserve(sizeof(*r), KIND_SYSCTL);
	if (!r)
		return 1;
	fill_hdr_cg(&r->hdr, KIND_SYSCTL, seq);
	n = bpf_sysctl_get_name(ctx, r->name, sizeof(r->name), 0);
	r->name_len = n > 0 ? n : 0;
	n = bpf_sysctl_get_new_value(ctx, r->new_value, sizeof(r->new_value));
	r->new_len = n > 0 ? n : 0;
	n = bpf_sysctl_get_current_value(ctx, r->old_value, sizeof(r->old_value));
	r->old_len = n > 0 ? n : 0;
	r->_pad = 0;
	ring_submit(r);
	return 1;
}
