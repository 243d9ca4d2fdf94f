// SPDX-License-Identifier: GPL-2.0
// Deny programs of the response exporter: cgroup connect4/connect6 (TCP, connected UDP) and
// sendmsg4/sendmsg6 (unconnected UDP) refuse a destination listed in the deny map for the calling
// task's cgroup or any of its ancestors. A refused call returns EPERM to the caller.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

// MAX_LEVELS bounds the walk up the caller's cgroup ancestry (root is level 0).
#define MAX_LEVELS 16

// deny_key names one blocked destination within one scope. The address is IPv6 or IPv4-mapped
// IPv6 (::ffff:a.b.c.d); port 0 blocks every port; an all-zero address with port 0 blocks all
// egress of the scope (isolation).
struct deny_key {
	__u64 scope; // cgroup v2 id the entry applies to (and below)
	__u8 addr[16];
	__u16 port; // host byte order
	__u16 pad[3];
};

struct deny_val {
	__u64 expires_ns; // CLOCK_BOOTTIME; an expired entry no longer denies
	__u64 hits;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct deny_key);
	__type(value, struct deny_val);
} deny SEC(".maps");

static __always_inline int denied_in(struct deny_key *k, __u64 now)
{
	struct deny_val *v = bpf_map_lookup_elem(&deny, k);
	if (v && v->expires_ns > now) {
		__sync_fetch_and_add(&v->hits, 1);
		return 1;
	}
	return 0;
}

static __always_inline int verdict(struct deny_key *k)
{
	__u64 now = bpf_ktime_get_boot_ns();
	__u16 port = k->port;
	__u8 addr[16];
	__builtin_memcpy(addr, k->addr, sizeof(addr));

	for (int level = 0; level < MAX_LEVELS; level++) {
		__u64 id = bpf_get_current_ancestor_cgroup_id(level);
		if (!id)
			break;
		k->scope = id;
		__builtin_memcpy(k->addr, addr, sizeof(addr));
		k->port = port;
		if (denied_in(k, now))
			return 0;
		k->port = 0;
		if (denied_in(k, now))
			return 0;
		__builtin_memset(k->addr, 0, sizeof(k->addr));
		if (denied_in(k, now))
			return 0;
	}
	return 1;
}

static __always_inline int check4(struct bpf_sock_addr *ctx)
{
	struct deny_key k = {};
	__u32 ip = ctx->user_ip4;
	k.addr[10] = 0xff;
	k.addr[11] = 0xff;
	__builtin_memcpy(&k.addr[12], &ip, 4);
	k.port = bpf_ntohs((__u16)ctx->user_port);
	return verdict(&k);
}

static __always_inline int check6(struct bpf_sock_addr *ctx)
{
	struct deny_key k = {};
	__u32 w;
	w = ctx->user_ip6[0];
	__builtin_memcpy(&k.addr[0], &w, 4);
	w = ctx->user_ip6[1];
	__builtin_memcpy(&k.addr[4], &w, 4);
	w = ctx->user_ip6[2];
	__builtin_memcpy(&k.addr[8], &w, 4);
	w = ctx->user_ip6[3];
	__builtin_memcpy(&k.addr[12], &w, 4);
	k.port = bpf_ntohs((__u16)ctx->user_port);
	return verdict(&k);
}

SEC("cgroup/connect4")
int deny_connect4(struct bpf_sock_addr *ctx) { return check4(ctx); }

SEC("cgroup/connect6")
int deny_connect6(struct bpf_sock_addr *ctx) { return check6(ctx); }

SEC("cgroup/sendmsg4")
int deny_sendmsg4(struct bpf_sock_addr *ctx) { return check4(ctx); }

SEC("cgroup/sendmsg6")
int deny_sendmsg6(struct bpf_sock_addr *ctx) { return check6(ctx); }

char LICENSE[] SEC("license") = "GPL";
