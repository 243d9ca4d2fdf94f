/* SPDX-License-Identifier: GPL-2.0 OR Apache-2.0 */
/* Per-process rate limit for records an unprivileged loop can repeat cheaply: failing file
 * operations, failing exec attempts, failing signals, and renames to the same name. The first record
 * of a process, kind and content (path, errno, operation) in each window is sent in full; its
 * repeats until the window ends are counted in the window's entry and sent as one suppressed_rec
 * when the next window starts. Beyond RL_FIRSTS distinct contents per process and kind in a window,
 * further new contents are counted together in one entry without a path. User space sends the
 * counts of windows that ended with nothing after them and deletes every entry idle for a window.
 * A record is never held back without being counted in an entry. Nothing here knows the rings:
 * the caller sends. */
#ifndef CRYPTOCHAIN_RATELIMIT_H
#define CRYPTOCHAIN_RATELIMIT_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "records.h"

#define RL_WINDOW_NS ((__u64)RL_WINDOW_MS * 1000000ULL)

struct rl_key {
	__u32 tgid;
	__u16 kind;
	__u16 _pad;
	__u64 hash; /* of the start time and the content; 0: the process's overflow entry */
};

/* Distinct contents per process and kind, by window. */
struct rl_budget {
	__u64 window;
	__u32 firsts;
	__u32 _pad;
};

/* A plain hash, not an LRU: an LRU may push out an entry whose count was not sent yet. User space
 * deletes the entries whose window ended (sending their count); when the table is full, records
 * that would need a new entry are sent in full (and may fill the bulk ring, which is counted). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RL_KEYS_MAX);
	__type(key, struct rl_key);
	__type(value, struct suppressed_rec);
} ratelimit SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, RL_KEYS_MAX);
	__type(key, struct rl_key); /* hash 0 */
	__type(value, struct rl_budget);
} rl_budgets SEC(".maps");

/* 0: a new entry being built; 1: the summary being sent. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct suppressed_rec);
} rl_scratch SEC(".maps");

/* Records held back, per kind, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, KIND_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} suppressed SEC(".maps");

static __always_inline __u64 rl_mix(__u64 h, __u64 w)
{
	h = (h ^ w) * 0x100000001b3ULL;
	return h ^ (h >> 29);
}

struct rl_hash_ctx {
	const __u64 *words;
	__u32 len;
	__u64 h;
};

static long rl_hash_word(__u32 i, struct rl_hash_ctx *c)
{
	__u64 w;
	__u32 left;

	if (i >= RL_PATH_CAP / 8 || i * 8 >= c->len)
		return 1;
	w = c->words[i];
	left = c->len - i * 8;
	if (left < 8)
		w &= (1ULL << (left * 8)) - 1;
	c->h = rl_mix(c->h, w);
	return 0;
}

/* rl_hash mixes the first len bytes of s (8-byte aligned, at most RL_PATH_CAP) into h. A bpf_loop
 * callback is verified once, where an inlined loop multiplies the verifier's states. */
static __always_inline __u64 rl_hash(const char *s, __u32 len, __u64 h)
{
	struct rl_hash_ctx c = {.words = (const __u64 *)s, .len = len, .h = h};

	bpf_loop(RL_PATH_CAP / 8, rl_hash_word, &c, 0);
	return rl_mix(c.h, len);
}

/* rl_content says whether a record is rate-limited, and gives its content: the string the summary
 * keeps, its errno and operation, and a hash of everything that makes two records "the same". */
static __always_inline bool rl_content(const void *rec, enum record_kind kind, const char **s, __u32 *len,
				       __s32 *err, __u32 *op, __u64 *h)
{
	const struct rec_hdr *hdr = rec;

	*h = rl_mix(0xcbf29ce484222325ULL, hdr->start_boottime);
	switch (kind) {
	case KIND_FILE: {
		const struct file_rec *r = rec;
		if (!r->err)
			return false; /* a write that happened is never held back */
		*s = r->path;
		*len = r->path_len;
		*err = r->err;
		*op = r->op;
		*h = rl_mix(*h, r->flags); /* a read-only and a write open of one path differ */
		break;
	}
	case KIND_EXEC_FAILED: {
		const struct exec_failed_rec *r = rec;
		*s = (const char *)(r + 1);
		*len = r->filename_len;
		*err = r->err;
		*op = 0;
		break;
	}
	case KIND_KILL: {
		const struct kill_rec *r = rec;
		if (!r->err)
			return false; /* a signal delivered is never held back */
		*s = 0;
		*len = 0;
		*err = r->err;
		*op = r->sig;
		*h = rl_mix(*h, r->target);
		break;
	}
	case KIND_RENAME: {
		const struct rename_rec *r = rec;
		__u64 w0, w1;
		*s = r->newcomm;
		*len = 0; /* the bytes after the NUL are not cleared */
		for (__u32 i = 0; i < sizeof(r->newcomm); i++) {
			if (!r->newcomm[i])
				break;
			*len = i + 1;
		}
		__builtin_memcpy(&w0, r->newcomm, 8);
		__builtin_memcpy(&w1, r->newcomm + 8, 8);
		if (*len < 8) {
			w0 &= (1ULL << (*len * 8)) - 1;
			w1 = 0;
		} else if (*len < 16) {
			w1 &= (1ULL << ((*len - 8) * 8)) - 1;
		}
		*h = rl_mix(rl_mix(*h, w0), w1);
		*err = 0;
		*op = 0;
		*h = rl_mix(*h, *len);
		if (!*h)
			*h = 1;
		return true;
	}
	default:
		return false;
	}
	if (*len > RL_PATH_CAP)
		*len = RL_PATH_CAP;
	*h = rl_mix(*h, ((__u64)(__u32)*err << 32) | *op);
	if (*s)
		*h = rl_hash(*s, *len, *h);
	if (!*h)
		*h = 1; /* 0 is the overflow entry */
	return true;
}

static __always_inline void rl_count(enum record_kind kind)
{
	__u32 k = kind;
	__u64 *c = bpf_map_lookup_elem(&suppressed, &k);
	if (c)
		*c += 1;
}

/* rl_over_budget counts a new content of the process and kind, and says whether the window's
 * budget of distinct contents is spent. */
static __always_inline bool rl_over_budget(struct rl_key *key, __u64 now)
{
	struct rl_key bk = {.tgid = key->tgid, .kind = key->kind};
	struct rl_budget *b = bpf_map_lookup_elem(&rl_budgets, &bk);

	if (!b) {
		struct rl_budget nb = {.window = now, .firsts = 1};
		bpf_map_update_elem(&rl_budgets, &bk, &nb, BPF_ANY);
		return false;
	}
	if (now - b->window >= RL_WINDOW_NS) {
		b->window = now;
		b->firsts = 1;
		return false;
	}
	return __sync_fetch_and_add(&b->firsts, 1) >= RL_FIRSTS;
}

/* rl_start opens a window for key from the record's header; a held-back record starts it with a
 * count of one. It fails when the table is full. */
static __always_inline long rl_start(struct rl_key *key, const struct rec_hdr *hdr, const char *s, __u32 len,
				     __s32 err, __u32 op, __u64 now, bool held)
{
	__u32 zero = 0;
	struct suppressed_rec *n = bpf_map_lookup_elem(&rl_scratch, &zero);

	if (!n)
		return -1;
	__builtin_memcpy(&n->hdr, hdr, sizeof(n->hdr));
	n->hdr.kind = KIND_SUPPRESSED;
	n->hdr.seq = 0;
	n->of_kind = key->kind;
	n->err = err;
	n->op = op;
	n->count = held ? 1 : 0;
	n->first_ns = now;
	n->last_ns = now;
	n->path_len = 0;
	if (s && key->hash) {
		n->path_len = len;
		bpf_probe_read_kernel(n->path, RL_PATH_CAP, s);
	}
	return bpf_map_update_elem(&ratelimit, key, n, BPF_NOEXIST);
}

/* rl_pass says whether a filled record is to be sent (kind must be a constant: the verifier
 * checks each kind's reads against the record's size). When it ends a window in which records
 * were held back, it returns that window's summary in *summary (a per-CPU copy; the caller stamps
 * its seq and sends it first). */
static __always_inline bool rl_pass(const void *rec, enum record_kind kind, struct suppressed_rec **summary)
{
	const struct rec_hdr *hdr = rec;
	struct rl_key key = {.tgid = hdr->tgid, .kind = kind};
	struct suppressed_rec *v, *out;
	const char *s = 0;
	__u32 len = 0, op = 0, one = 1, c;
	__s32 err = 0;
	__u64 now;

	*summary = 0;
	if (!rl_content(rec, kind, &s, &len, &err, &op, &key.hash))
		return true;
	now = bpf_ktime_get_boot_ns();
	v = bpf_map_lookup_elem(&ratelimit, &key);
	if (!v) {
		if (!rl_over_budget(&key, now)) {
			rl_start(&key, hdr, s, len, err, op, now, false);
			return true; /* the first of its content (or no room to count it): sent in full */
		}
		key.hash = 0; /* too many distinct contents: counted together */
		v = bpf_map_lookup_elem(&ratelimit, &key);
		if (!v) {
			if (rl_start(&key, hdr, s, len, err, op, now, true) < 0)
				return true; /* no room to count it: sent */
			rl_count(kind);
			return false;
		}
	}
	if (now - v->first_ns < RL_WINDOW_NS) {
		__sync_fetch_and_add(&v->count, 1);
		v->last_ns = now;
		rl_count(kind);
		return false;
	}
	/* the window is over: send its count, and this record opens the next one */
	c = __sync_lock_test_and_set(&v->count, 0);
	if (c) {
		out = bpf_map_lookup_elem(&rl_scratch, &one);
		if (out) {
			__builtin_memcpy(out, v, sizeof(*out));
			out->count = c;
			*summary = out;
		}
	}
	v->first_ns = now;
	v->last_ns = now;
	if (!key.hash) { /* the overflow entry has no first to send */
		__sync_fetch_and_add(&v->count, 1);
		rl_count(kind);
		return false;
	}
	return true;
}

#endif
