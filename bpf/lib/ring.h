/* SPDX-License-Identifier: GPL-2.0 OR Apache-2.0 */
/* The one ring buffer every record goes through, the global sequence number, the per-kind loss
 * counters, and the process exclusion list. */
#ifndef CRYPTOCHAIN_RING_H
#define CRYPTOCHAIN_RING_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "records.h"

/* Set from user space before load (frozen .rodata, so the verifier sees constants). */
volatile const __u32 exclude_tgids[EXCLUDE_MAX];
volatile const __u64 wakeup_bytes = 64 * 1024;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 * 1024 * 1024); /* resized from user space */
} events SEC(".maps");

/* Records dropped because the ring was full, per kind, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, KIND_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} seqno SEC(".maps");

static __always_inline bool excluded(__u32 tgid)
{
#pragma unroll
	for (int i = 0; i < EXCLUDE_MAX; i++) {
		__u32 x = exclude_tgids[i];
		if (x == 0)
			break;
		if (x == tgid)
			return true;
	}
	return false;
}

/* next_seq is taken before the reserve, so that a record lost to a full ring leaves a gap. */
static __always_inline __u64 next_seq(void)
{
	__u32 zero = 0;
	__u64 *s = bpf_map_lookup_elem(&seqno, &zero);
	if (!s)
		return 0;
	return __sync_fetch_and_add(s, 1) + 1;
}

static __always_inline void count_lost(enum record_kind kind)
{
	__u32 k = kind;
	__u64 *c = bpf_map_lookup_elem(&lost, &k);
	if (c)
		*c += 1;
}

/* Producers do not wake the reader (it polls) unless a backlog builds up: a wakeup per record costs
 * several microseconds of IPI on these VMs. */
static __always_inline __u64 wake_flags(void)
{
	__u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	return avail >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

/* ring_reserve reserves a record of size bytes, or counts it lost. */
static __always_inline void *ring_reserve(__u64 size, enum record_kind kind)
{
	void *r = bpf_ringbuf_reserve(&events, size, 0);
	if (!r)
		count_lost(kind);
	return r;
}

/* ring_discard gives back a reserved record that could not be filled; it counts as lost so that
 * sequence gaps keep matching the loss counters. */
static __always_inline void ring_discard(void *r, enum record_kind kind)
{
	bpf_ringbuf_discard(r, BPF_RB_NO_WAKEUP);
	count_lost(kind);
}

static __always_inline void ring_submit(void *r)
{
	bpf_ringbuf_submit(r, wake_flags());
}

/* ring_output copies a record built elsewhere (per-CPU buffer, task storage) into the ring. */
static __always_inline void ring_output(void *r, __u64 size, enum record_kind kind)
{
	if (bpf_ringbuf_output(&events, r, size, wake_flags()) < 0)
		count_lost(kind);
}

#endif
