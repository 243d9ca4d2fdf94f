/* SPDX-License-Identifier: GPL-2.0 OR Apache-2.0 */
/* Packet reads shared by the cgroup_skb programs: where a TCP segment's payload starts, and a
 * bounded copy of the payload into a record. */
#ifndef CRYPTOCHAIN_SKB_H
#define CRYPTOCHAIN_SKB_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

/* tcp_payload_off sets *off to the first payload byte of the TCP segment whose header is at l4. */
static __always_inline bool tcp_payload_off(struct __sk_buff *skb, __u32 l4, __u32 *off)
{
	__u8 doff;
	if (bpf_skb_load_bytes(skb, l4 + 12, &doff, 1) < 0)
		return false;
	*off = l4 + (doff >> 4) * 4;
	return true;
}

/* skb_copy copies the packet's bytes from off, len clamped to [1, cap], into dst and returns how
 * many, or 0 when the packet is shorter. */
static __always_inline __u32 skb_copy(struct __sk_buff *skb, __u32 off, void *dst, __u32 len, __u32 cap)
{
	if (len > cap)
		len = cap;
	if (len < 1)
		len = 1;
	if (bpf_skb_load_bytes(skb, off, dst, len) < 0)
		return 0;
	return len;
}

#endif
