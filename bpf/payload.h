/* SPDX-License-Identifier: GPL-2.0 OR Apache-2.0 */
/* First bytes a process sends on a new TCP connection (issue 5: stratum on the wire). A socket is
 * marked in socket storage when connect(2) passes cgroup/connect{4,6}; the first data segment that
 * leaves it through cgroup_skb/egress is copied (≤ 256 bytes) and the mark is cleared. Only client
 * connections made while the collector runs are covered; TLS payloads are opaque. */
#ifndef CRYPTOCHAIN_PAYLOAD_H
#define CRYPTOCHAIN_PAYLOAD_H

#include "common.h"

#define PAYLOAD_CAP 256
#define SOCK_STREAM 1

volatile const __u32 payload_on = 0;

struct payload_mark {
	__u32 tgid;
	__u32 tid;
	__u32 want;
	__u32 _pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct payload_mark);
} payload_socks SEC(".maps");

struct payload_rec {
	struct rec_hdr hdr;
	__u16 family;
	__u16 dport;
	__u16 sport;
	__u16 len;
	__u8 daddr[16];
	__u8 data[PAYLOAD_CAP];
};

/* mark_connect runs in cgroup/connect{4,6}. */
static __always_inline void mark_connect(struct bpf_sock_addr *ctx)
{
	struct payload_mark *m;
	__u64 id;

	if (!payload_on || ctx->type != SOCK_STREAM || !ctx->sk)
		return;
	m = bpf_sk_storage_get(&payload_socks, ctx->sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!m)
		return;
	id = bpf_get_current_pid_tgid();
	m->tgid = id >> 32;
	m->tid = (__u32)id;
	m->want = 1;
}

/* first_payload runs in cgroup_skb/egress for TCP segments that carry data. */
static __always_inline void first_payload(struct __sk_buff *skb, __u16 family, __u8 *daddr, __u16 sport, __u16 dport,
					  __u32 off)
{
	struct bpf_sock *sk = skb->sk;
	struct payload_mark *m;
	struct payload_rec *r;
	__u32 len;
	__u64 seq;

	if (!payload_on || !sk)
		return;
	sk = bpf_sk_fullsock(sk);
	if (!sk)
		return;
	m = bpf_sk_storage_get(&payload_socks, sk, 0, 0);
	if (!m || !m->want)
		return;
	m->want = 0;
	if (skb->len <= off)
		return;
	len = skb->len - off;
	seq = next_seq();
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		count_lost(KIND_PAYLOAD);
		return;
	}
	if (len > PAYLOAD_CAP)
		len = PAYLOAD_CAP;
	if (len < 1)
		len = 1;
	if (bpf_skb_load_bytes(skb, off, r->data, len) < 0) {
		bpf_ringbuf_discard(r, BPF_RB_NO_WAKEUP);
		count_lost(KIND_PAYLOAD);
		return;
	}
	fill_hdr_light(&r->hdr, KIND_PAYLOAD, seq);
	r->hdr.tgid = m->tgid; /* the connecting process, whoever's context sends the segment */
	r->hdr.tid = m->tid;
	r->family = family;
	r->dport = dport;
	r->sport = sport;
	r->len = len;
	__builtin_memcpy(r->daddr, daddr, 16);
	bpf_ringbuf_submit(r, wake_flags());
}

#endif
