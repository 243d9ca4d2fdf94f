/* SPDX-License-Identifier: GPL-2.0 OR Apache-2.0 */
/* The two ring buffers every record goes through (lifecycle and bulk, chosen by kind), the global
 * sequence number, the per-kind loss counters, the rate limiter on the way in, and the process
 * exclusion list. Call sites name the kind; which ring, and whether the record is held back, is
 * decided here. */
#ifndef CRYPTOCHAIN_RING_H
#define CRYPTOCHAIN_RING_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "records.h"
#include "ratelimit.h"

/* Set from user space before load (frozen .rodata, so the verifier sees constants). */
volatile const __u32 exclude_tgids[EXCLUDE_MAX];
volatile const __u64 wakeup_bytes = 64 * 1024;

/* The bulk ring: every kind not in RING_LIFECYCLE_KINDS. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 * 1024 * 1024); /* resized from user space */
} events SEC(".maps");

/* The lifecycle ring: exec and exit only, read first. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 * 1024 * 1024); /* resized from user space */
} lifecycle SEC(".maps");

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

static __always_inline bool lifecycle_kind(__u32 kind)
{
	return kind < 32 && ((RING_LIFECYCLE_KINDS >> kind) & 1);
}

/* Producers do not wake the reader (it polls) unless a backlog builds up: a wakeup per record costs
 * several microseconds of IPI on these VMs. */
static __always_inline __u64 wake_flags(bool life)
{
	__u64 avail = life ? bpf_ringbuf_query(&lifecycle, BPF_RB_AVAIL_DATA)
			   : bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	return avail >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

/* send_summary sends a rate-limit summary (bulk ring) with a fresh seq and time. */
static __always_inline void send_summary(struct suppressed_rec *s)
{
	if (!s)
		return;
	s->hdr.seq = next_seq();
	s->hdr.ktime = bpf_ktime_get_boot_ns();
	if (bpf_ringbuf_output(&events, s, sizeof(*s), wake_flags(false)) < 0)
		count_lost(KIND_SUPPRESSED);
}

/* ring_reserve reserves a record of size bytes in the ring of its kind, or counts it lost. */
static __always_inline void *ring_reserve(__u64 size, enum record_kind kind)
{
	void *r = lifecycle_kind(kind) ? bpf_ringbuf_reserve(&lifecycle, size, 0)
				       : bpf_ringbuf_reserve(&events, size, 0);
	if (!r)
		count_lost(kind);
	return r;
}

/* ring_discard gives back a reserved record that could not be filled; it counts as lost so that
 * sequence gaps keep matching the loss and suppression counters. */
static __always_inline void ring_discard(void *r, enum record_kind kind)
{
	bpf_ringbuf_discard(r, BPF_RB_NO_WAKEUP);
	count_lost(kind);
}

/* ring_submit sends a filled record (its header names its kind), unless the rate limiter holds it
 * back. The kind is read from the record, so each rate-limited kind is checked only where the
 * record is large enough to be one (size is the reserved record's). */
static __always_inline void ring_submit_sized(void *r, __u64 size)
{
	struct suppressed_rec *summary = 0;
	__u32 kind = ((struct rec_hdr *)r)->kind;
	bool pass = true;

	if (kind == KIND_RENAME && size >= sizeof(struct rename_rec))
		pass = rl_pass(r, KIND_RENAME, &summary);
	else if (kind == KIND_KILL && size >= sizeof(struct kill_rec))
		pass = rl_pass(r, KIND_KILL, &summary);
	if (!pass) {
		bpf_ringbuf_discard(r, BPF_RB_NO_WAKEUP);
		return;
	}
	bpf_ringbuf_submit(r, wake_flags(lifecycle_kind(kind)));
	send_summary(summary);
}

#define ring_submit(r) ring_submit_sized((r), sizeof(*(r)))

/* ring_output copies a record built elsewhere (per-CPU buffer, task storage) into the ring of its
 * kind, unless the rate limiter holds it back. */
static __always_inline void ring_output(void *r, __u64 size, enum record_kind kind)
{
	struct suppressed_rec *summary;
	long err;

	if (!rl_pass(r, kind, &summary))
		return;
	if (lifecycle_kind(kind))
		err = bpf_ringbuf_output(&lifecycle, r, size, wake_flags(true));
	else
		err = bpf_ringbuf_output(&events, r, size, wake_flags(false));
	if (err < 0)
		count_lost(kind);
	send_summary(summary);
}

#endif
