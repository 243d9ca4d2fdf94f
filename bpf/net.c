/* SPDX-License-Identifier: GPL-2.0 OR Apache-2.0 */
/* Connect attempts, TCP and connected UDP, IPv4 and IPv6. cgroup/connect{4,6} at the cgroup2 root
 * sees the kernel's copy of the address (also for io_uring); the syscall result comes from
 * sys_exit_connect, paired by thread. A connect that fails in routing (ENETUNREACH) has passed the
 * cgroup hook already, so it is still reported. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "records.h"
#include "kconst.h"
#include "lib/ring.h"
#include "lib/task.h"

volatile const __u32 connect_on = 1;

struct pending_connect {
	__u16 in_connect; /* between sys_enter_connect and sys_exit_connect */
	__u16 have;       /* the cgroup hook filled the address */
	__u16 family;
	__u8 proto;
	__u8 _pad;
	__u16 port;
	__u16 _pad2;
	__u8 addr[16];
};

/* Per-thread state of a connect(2) in flight: task storage is far cheaper than a hash update on
 * every connect, and dies with the thread. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct pending_connect);
} pending_connects SEC(".maps");

static __always_inline void emit_connect(struct pending_connect *p, __s32 err, enum connect_flag flags, bool cg)
{
	struct connect_rec *r;
	__u64 seq = next_seq();

	r = ring_reserve(sizeof(*r), KIND_CONNECT);
	if (!r)
		return;
	if (cg)
		fill_hdr_cg(&r->hdr, KIND_CONNECT, seq);
	else
		fill_hdr_lean(&r->hdr, bpf_get_current_task_btf(), KIND_CONNECT, seq);
	r->family = p->family;
	r->proto = p->proto;
	r->flags = flags;
	r->port = p->port;
	r->_pad = 0;
	r->_pad2 = 0;
	r->err = err;
	__builtin_memcpy(r->addr, p->addr, sizeof(r->addr));
	ring_submit(r);
}

static __always_inline int on_sock_addr(struct bpf_sock_addr *ctx, bool v6)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct pending_connect *p, local = {};

	if (excluded(id >> 32))
		return 1;
	if (!connect_on)
		return 1;
	p = bpf_task_storage_get(&pending_connects, bpf_get_current_task_btf(), 0, 0);
	if (!p || !p->in_connect)
		p = &local;
	p->have = 1;
	p->family = v6 ? AF_INET6 : AF_INET;
	p->proto = ctx->protocol;
	p->port = bpf_ntohs((__u16)ctx->user_port);
	if (v6) {
		__u32 a[4];
		a[0] = ctx->user_ip6[0];
		a[1] = ctx->user_ip6[1];
		a[2] = ctx->user_ip6[2];
		a[3] = ctx->user_ip6[3];
		__builtin_memcpy(p->addr, a, 16);
	} else {
		__u32 a = ctx->user_ip4;
		__builtin_memset(p->addr, 0, 16);
		__builtin_memcpy(p->addr, &a, 4);
	}
	if (p == &local)
		emit_connect(p, -1, CONNECT_F_NO_RESULT, true);
	return 1;
}

SEC("cgroup/connect4")
int handle_connect4(struct bpf_sock_addr *ctx)
{
	return on_sock_addr(ctx, false);
}

SEC("cgroup/connect6")
int handle_connect6(struct bpf_sock_addr *ctx)
{
	return on_sock_addr(ctx, true);
}

SEC("tracepoint/syscalls/sys_enter_connect")
int handle_connect_enter(struct trace_event_raw_sys_enter *ctx)
{
	struct pending_connect *p;

	if (excluded(bpf_get_current_pid_tgid() >> 32))
		return 0;
	p = bpf_task_storage_get(&pending_connects, bpf_get_current_task_btf(), 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (p) {
		p->in_connect = 1;
		p->have = 0;
	}
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_connect")
int handle_connect_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct pending_connect *p = bpf_task_storage_get(&pending_connects, bpf_get_current_task_btf(), 0, 0);
	long ret = ctx->ret;

	if (!p || !p->in_connect)
		return 0;
	if (p->have) {
		if (ret == -EINPROGRESS)
			emit_connect(p, 0, CONNECT_F_IN_PROGRESS, false);
		else
			emit_connect(p, ret < 0 ? -ret : 0, 0, false);
	}
	p->in_connect = 0;
	p->have = 0;
	return 0;
}
