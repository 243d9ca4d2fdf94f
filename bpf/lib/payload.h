/* SPDX-License-Identifier: GPL-2.0 OR Apache-2.0 */
/* First bytes a process sends on a new TCP connection (stratum on the wire). In
 * cgroup_skb/egress a data segment is the connection's first when the socket's bytes_sent equals the
 * segment's payload (the counter is bumped just before the segment goes down the stack; a
 * retransmission adds to it again). No per-socket state: the check costs one load. Both ends'
 * first bytes are seen (a server's banner too); TLS payloads are opaque. */
#ifndef CRYPTOCHAIN_PAYLOAD_H
#define CRYPTOCHAIN_PAYLOAD_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "records.h"
#include "ring.h"
#include "task.h"
#include "skb.h"

volatile const __u32 payload_on = 0;

/* first_payload runs in cgroup_skb/egress for TCP segments that carry data. */
static __always_inline void first_payload(struct __sk_buff *skb, __u16 family, __u8 *daddr, __u16 sport, __u16 dport,
					  __u32 off)
{
	struct bpf_sock *sk = skb->sk;
	struct tcp_sock *tp;
	struct payload_rec *r;
	__u32 len;
	__u64 seq;

	if (!payload_on || !sk || skb->len <= off)
		return;
	len = skb->len - off;
	tp = bpf_skc_to_tcp_sock(sk);
	if (!tp || tp->bytes_sent != len)
		return;
	seq = next_seq();
	r = ring_reserve(sizeof(*r), KIND_PAYLOAD);
	if (!r)
		return;
	len = skb_copy(skb, off, r->data, len, PAYLOAD_CAP);
	if (!len) {
		ring_discard(r, KIND_PAYLOAD);
		return;
	}
	fill_hdr_light(&r->hdr, KIND_PAYLOAD, seq);
	r->family = family;
	r->dport = dport;
	r->sport = sport;
	r->len = len;
	__builtin_memcpy(r->daddr, daddr, 16);
	ring_submit(r);
}

#endif
