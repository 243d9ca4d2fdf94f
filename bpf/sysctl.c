/* SPDX-License-Identifier: GPL-2.0 OR Apache-2.0 */
/* Writes to /proc/sys, whichever tool made them (cgroup/sysctl at the cgroup2 root; always allows). */
#include "common.h"

#define SYSCTL_NAME_CAP 128
#define SYSCTL_VALUE_CAP 64

struct sysctl_rec {
	struct rec_hdr hdr;
	__u16 name_len;
	__u16 new_len;
	__u16 old_len;
	__u16 _pad;
	char name[SYSCTL_NAME_CAP];
	char new_value[SYSCTL_VALUE_CAP];
	char old_value[SYSCTL_VALUE_CAP];
};

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
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		count_lost(KIND_SYSCTL);
		return 1;
	}
	fill_hdr_cg(&r->hdr, KIND_SYSCTL, seq);
	n = bpf_sysctl_get_name(ctx, r->name, sizeof(r->name), 0);
	r->name_len = n > 0 ? n : 0;
	n = bpf_sysctl_get_new_value(ctx, r->new_value, sizeof(r->new_value));
	r->new_len = n > 0 ? n : 0;
	n = bpf_sysctl_get_current_value(ctx, r->old_value, sizeof(r->old_value));
	r->old_len = n > 0 ? n : 0;
	r->_pad = 0;
	bpf_ringbuf_submit(r, wake_flags());
	return 1;
}
