/* SPDX-License-Identifier: GPL-2.0 OR Apache-2.0 */
/* DNS messages on port 53, UDP and TCP, IPv4 and IPv6, copied raw (≤ 512 bytes) for parsing in user
 * space. Egress queries carry the sending process; on ingress the task is whoever ran the softirq,
 * so answers carry addresses and ports for user space to pair them with their query. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "records.h"
#include "kconst.h"
#include "lib/ring.h"
#include "lib/task.h"
#include "lib/skb.h"
#include "lib/payload.h"

#define DNS_PORT 53

volatile const __u32 dns_on = 1;

static __always_inline void on_skb(struct __sk_buff *skb, bool egress)
{
	struct dns_rec *r;
	__u8 saddr[16] = {}, daddr[16] = {};
	__u32 l4, off, len;
	__u16 family;
	__u8 proto;
	__u16 ports[2];
	__u16 sport, dport;
	__u64 seq, id;
	struct bpf_sock *sk = skb->sk;

	/* Most packets are TCP segments of other protocols: the socket says so without parsing the
	 * packet (a connected TCP socket knows its peer port). A segment can only be a connection's
	 * first payload while bytes_sent is non-zero and not beyond this segment's length. UDP keeps
	 * the packet parse: an unconnected socket (musl's resolver) has no peer port. */
	if (sk)
		sk = bpf_sk_fullsock(sk);
	if (sk && sk->protocol == IPPROTO_TCP && sk->dst_port != bpf_htons(DNS_PORT)) {
		struct tcp_sock *tp;
		if (!egress || !payload_on)
			return;
		tp = bpf_skc_to_tcp_sock(sk);
		if (!tp || tp->bytes_sent == 0 || tp->bytes_sent > skb->len)
			return;
	}
	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr ip;
		if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)) < 0)
			return;
		if (ip.frag_off & bpf_htons(0x1fff))
			return;
		proto = ip.protocol;
		l4 = ip.ihl * 4;
		family = AF_INET;
		__builtin_memcpy(saddr, &ip.saddr, 4);
		__builtin_memcpy(daddr, &ip.daddr, 4);
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6;
		if (bpf_skb_load_bytes(skb, 0, &ip6, sizeof(ip6)) < 0)
			return;
		proto = ip6.nexthdr; /* extension headers are not followed */
		l4 = sizeof(ip6);
		family = AF_INET6;
		__builtin_memcpy(saddr, &ip6.saddr, 16);
		__builtin_memcpy(daddr, &ip6.daddr, 16);
	} else {
		return;
	}
	if (proto != IPPROTO_UDP && proto != IPPROTO_TCP)
		return;
	if (bpf_skb_load_bytes(skb, l4, ports, sizeof(ports)) < 0)
		return;
	sport = bpf_ntohs(ports[0]);
	dport = bpf_ntohs(ports[1]);
	if (egress && proto == IPPROTO_TCP && dport != DNS_PORT && payload_on) {
		if (!tcp_payload_off(skb, l4, &off))
			return;
		if (skb->len > off)
			first_payload(skb, family, daddr, sport, dport, off);
		return;
	}
	if (!dns_on || (egress ? dport != DNS_PORT : sport != DNS_PORT))
		return;
	if (proto == IPPROTO_UDP) {
		off = l4 + 8;
	} else if (!tcp_payload_off(skb, l4, &off)) {
		return;
	}
	if (skb->len <= off)
		return; /* no payload (TCP handshake, ACKs) */
	len = skb->len - off;
	if (proto == IPPROTO_TCP && len > 2) {
		__u16 pfx;
		/* the 2-byte length prefix of DNS over TCP, when this segment starts a message */
		if (bpf_skb_load_bytes(skb, off, &pfx, 2) == 0 && bpf_ntohs(pfx) == len - 2) {
			off += 2;
			len -= 2;
		}
	}
	id = bpf_get_current_pid_tgid();
	if (excluded(id >> 32))
		return;
	seq = next_seq();
	r = ring_reserve(sizeof(*r), KIND_DNS);
	if (!r)
		return;
	len = skb_copy(skb, off, r->data, len, DNS_CAP);
	if (!len) {
		ring_discard(r, KIND_DNS);
		return;
	}
	fill_hdr_light(&r->hdr, KIND_DNS, seq);
	if (!egress)
		r->hdr.flags |= HDR_F_TASK_UNRELIABLE;
	r->family = family;
	r->proto = proto;
	r->egress = egress;
	r->sport = sport;
	r->dport = dport;
	r->len = len;
	__builtin_memcpy(r->saddr, saddr, 16);
	__builtin_memcpy(r->daddr, daddr, 16);
	ring_submit(r);
}

SEC("cgroup_skb/egress")
int handle_dns_egress(struct __sk_buff *skb)
{
	on_skb(skb, true);
	return 1;
}

SEC("cgroup_skb/ingress")
int handle_dns_ingress(struct __sk_buff *skb)
{
	on_skb(skb, false);
	return 1;
}
