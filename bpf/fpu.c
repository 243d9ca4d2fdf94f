/* SPDX-License-Identifier: GPL-2.0 OR Apache-2.0 */
/* RandomX behaviour: the RandomX VM keeps switching the SSE rounding mode (MXCSR bits
 * 13-14); ordinary programs leave it at round-to-nearest. The saved MXCSR of each task is read when
 * its FPU registers are switched out, tallied per process in a window, and reported once per quiet
 * period when non-default rounding recurs between default samples. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "records.h"
#include "kconst.h"
#include "lib/ring.h"
#include "lib/task.h"

#define MXCSR_RC_MASK (3 << 13)

volatile const __u32 fpu_min_hits = 8;
volatile const __u64 fpu_window_ns = 2000000000ULL;
volatile const __u64 fpu_quiet_ns = 30000000000ULL;

struct fpu_tally {
	__u64 window_start;
	__u64 last_report;
	__u32 samples;
	__u32 nondefault;
	__u32 mxcsr;
	__u32 _pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct fpu_tally);
} fpu_tallies SEC(".maps");

/* One bit per tgid hash, set when a process is first tracked: a switch in round-to-nearest of a
 * process never tracked (nearly every switch on a host) returns before the hash lookup. A stale or
 * shared bit only costs that lookup. */
#define FPU_BITS 4096
__u64 fpu_tracked_bits[FPU_BITS / 64];

SEC("tp_btf/x86_fpu_regs_deactivated")
int BPF_PROG(handle_fpu, struct fpu *fpu)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u32 mxcsr = fpu->fpstate->regs.fxsave.mxcsr; /* BTF pointers: plain loads, no helper calls */
	bool odd = (mxcsr & MXCSR_RC_MASK) != 0;
	__u32 bit = tgid & (FPU_BITS - 1);
	struct fpu_tally *t;
	__u64 now;
	struct fpu_rec *r;
	__u64 seq;

	if (!odd && !(fpu_tracked_bits[bit / 64] & (1ULL << (bit % 64))))
		return 0;
	t = bpf_map_lookup_elem(&fpu_tallies, &tgid);
	if (!t) {
		struct fpu_tally fresh = {};
		if (!odd)
			return 0; /* only processes that ever left round-to-nearest are tracked */
		if (excluded(tgid))
			return 0;
		fresh.window_start = bpf_ktime_get_boot_ns();
		bpf_map_update_elem(&fpu_tallies, &tgid, &fresh, BPF_NOEXIST);
		__sync_fetch_and_or(&fpu_tracked_bits[bit / 64], 1ULL << (bit % 64));
		t = bpf_map_lookup_elem(&fpu_tallies, &tgid);
		if (!t)
			return 0;
	}
	now = bpf_ktime_get_boot_ns();
	if (now - t->window_start > fpu_window_ns) {
		t->window_start = now;
		t->samples = 0;
		t->nondefault = 0;
	}
	t->samples++;
	if (odd) {
		t->nondefault++;
		t->mxcsr = mxcsr;
	}
	/* RandomX keeps switching, so round-to-nearest shows up between the other modes; a window of
	 * non-default samples only is code that set one mode and kept it. Waiting for the first
	 * default sample reports a miner whose first samples happened to be all non-default now
	 * instead of a quiet period later, and never reports a process stuck in one mode. */
	if (t->nondefault < fpu_min_hits || t->samples == t->nondefault ||
	    (t->last_report && now - t->last_report < fpu_quiet_ns))
		return 0;
	t->last_report = now;
	seq = next_seq();
	r = ring_reserve(sizeof(*r), KIND_FPU);
	if (!r)
		return 0;
	fill_hdr_lean(&r->hdr, bpf_get_current_task_btf(), KIND_FPU, seq);
	r->mxcsr = mxcsr;
	r->nondefault = t->nondefault;
	r->samples = t->samples;
	r->_pad = 0;
	ring_submit(r);
	return 0;
}
