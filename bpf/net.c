/* SPDX-License-Identifier: GPL-2.0 OR Apache-2.0 */
/* Connect attempts, TCP and connected UDP, IPv4 and IPv6. cgroup/connect{4,6} at the cgroup2 root
 * sees the kernel's copy of the address (also for io_uring); the syscall result comes from
 * sys_exit_connect, paired by thread. A connect that fails in routing (ENETUNREACH) has passed the
 * cgroup hook already, so it is still reported. */
#include "common.h"
#include "payload.h"

#define CONNECT_F_IN_PROGRESS 1
#define CONNECT_F_NO_RESULT 2 /* not made through connect(2) (io_uring, in-kernel): result unknown */

struct connect_rec {
	struct rec_hdr hdr;
	__u16 family;
	__u8 proto;
	__u8 flags;
	__u16 port; /* host order */
	__u16 _pad;
	__s32 err;  /* positive errno, 0 on success, -1 unknown */
	__u32 _pad2;
	__u8 addr[16];
};

volatile const __u32 connect_on = 1;

struct pending_connect {
	__u32 have; /* the cgroup hook filled the address */
	__u16 family;
	__u8 proto;
	__u8 _pad;
	__u16 port;
	__u16 _pad2;
	__u8 addr[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct pending_connect);
} pending_connects SEC(".maps");

static __always_inline void emit_connect(struct pending_connect *p, __s32 err, __u8 flags, bool cg)
{
	struct connect_rec *r;
	__u64 seq = next_seq();

	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		count_lost(KIND_CONNECT);
		return;
	}
	if (cg)
		fill_hdr_cg(&r->hdr, KIND_CONNECT, seq);
	else
		fill_hdr(&r->hdr, KIND_CONNECT, seq);
	r->family = p->family;
	r->proto = p->proto;
	r->flags = flags;
	r->port = p->port;
	r->_pad = 0;
	r->_pad2 = 0;
	r->err = err;
	__builtin_memcpy(r->addr, p->addr, sizeof(r->addr));
	bpf_ringbuf_submit(r, wake_flags());
}

static __always_inline int on_sock_addr(struct bpf_sock_addr *ctx, bool v6)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct pending_connect *p, local = {};

	if (excluded(id >> 32))
		return 1;
	mark_connect(ctx);
	if (!connect_on)
		return 1;
	p = bpf_map_lookup_elem(&pending_connects, &tid);
	if (!p)
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
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct pending_connect p = {};

	if (excluded(id >> 32))
		return 0;
	bpf_map_update_elem(&pending_connects, &tid, &p, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_connect")
int handle_connect_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct pending_connect *p = bpf_map_lookup_elem(&pending_connects, &tid);
	long ret = ctx->ret;

	if (!p)
		return 0;
	if (p->have) {
		if (ret == -115) /* EINPROGRESS */
			emit_connect(p, 0, CONNECT_F_IN_PROGRESS, false);
		else
			emit_connect(p, ret < 0 ? -ret : 0, 0, false);
	}
	bpf_map_delete_elem(&pending_connects, &tid);
	return 0;
}
