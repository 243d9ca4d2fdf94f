/* SPDX-License-Identifier: GPL-2.0 OR Apache-2.0 */
/* The record contract between the BPF programs and user space: every ring-buffer record, its kind,
 * its flags and the bounds user space must respect. bpf2go generates the Go types from these
 * declarations (see gen.go in receiver/ebpfreceiver/internal/kernel); nothing here is mirrored by
 * hand. Enums carry a fixed underlying type so that a field can be typed by its enum and keep its
 * size. */
#ifndef CRYPTOCHAIN_RECORDS_H
#define CRYPTOCHAIN_RECORDS_H

#include "vmlinux.h"

/* rec_hdr.kind; event.Kind in Go is checked against it at compile time. */
enum record_kind : __u16 {
	KIND_EXEC = 1,        /* successful exec */
	KIND_EXEC_FAILED = 2, /* exec attempt that returned an error */
	KIND_EXIT = 3,        /* thread-group exit */
	KIND_RENAME = 4,      /* comm changed after start */
	KIND_CONNECT = 5,     /* connect attempt */
	KIND_DNS = 6,         /* DNS message on port 53 */
	KIND_FILE = 7,        /* file activity under a watched prefix */
	KIND_SYSCTL = 8,      /* write to /proc/sys */
	KIND_KILL = 9,        /* signal sent to another process */
	KIND_FPU = 10,        /* non-default MXCSR rounding recurring in one process */
	KIND_PAYLOAD = 11,    /* first bytes sent on a new TCP connection */
	KIND_SUPPRESSED = 12, /* summary of repeated records held back by the rate limiter */
	KIND_COUNT = 13,      /* entries of the lost and suppressed maps */
};

/* Which ring a kind goes through (lib/ring.h). Process lifecycle records have a ring of their own,
 * so that no flood of another family can push them out: only what a process does by existing
 * (exec, exit) goes there; everything an unprivileged loop can repeat cheaply goes to the bulk
 * ring and, where repeatable, through the rate limiter (lib/ratelimit.h). */
enum ring_class : __u32 {
	RING_LIFECYCLE_KINDS = (1 << KIND_EXEC) | (1 << KIND_EXIT),
};

/* rec_hdr.flags */
enum hdr_flag : __u16 {
	HDR_F_TASK_UNRELIABLE = 1, /* the hook ran in a context that need not be the acting task */
	HDR_F_LEAN = 2,            /* credentials, login/session ids and namespaced pid are left zero */
};

/* Bounds the programs are compiled with; user space refuses options beyond them. */
enum record_bound : __u32 {
	EXCLUDE_MAX = 8,    /* entries of exclude_tgids */
	ARGS_CAP = 8192,    /* ceiling of args_max / env_max */
	LPM_CAP = 256,      /* bytes of a prefix the trie can match */
	PREFIXES_MAX = 512, /* entries of the prefixes trie */
	ANCESTORS_MAX = 1024, /* directories of and above watched prefixes (symlinks to them are reported) */
	RL_PATH_CAP = 256,  /* bytes of the path, filename or comm a summary keeps */
	RL_KEYS_MAX = 4096, /* distinct (process, kind, content) entries the rate limiter tracks */
	RL_FIRSTS = 64,     /* distinct contents per process and kind reported in full per window */
	RL_WINDOW_MS = 1000, /* rate-limit window */
};

/* Every record starts with this header. 96 bytes. */
struct rec_hdr {
	enum record_kind kind;
	enum hdr_flag flags;
	__u32 _pad;
	__u64 seq;            /* global, stamped before the reserve so a failed reserve leaves a gap */
	__u64 ktime;          /* bpf_ktime_get_boot_ns() */
	__u32 tgid;
	__u32 tid;
	__u64 start_boottime; /* group leader's start_boottime: with tgid, the process identity */
	__u32 ppid;
	__u32 vpid;
	__u64 parent_start;
	__u64 cgroup_id;
	__u32 uid;
	__u32 euid;
	__u32 loginuid;
	__u32 sessionid;
	char comm[16];
};

/* ---- exec.c ---- */

/* exec_rec.flags and exec_failed_rec.flags */
enum exec_flag : __u32 {
	EXEC_F_ARGS_TRUNC = 1,
	EXEC_F_ENV_TRUNC = 2,
	EXEC_F_MEMFD = 4,
	EXEC_F_DELETED = 8,
	EXEC_F_ARGS_GAP = 16, /* argv longer than head + tail: args_skipped bytes between them are not sent */
	EXEC_F_CREATOR = 32,  /* creator_tgid/creator_start hold the lineage recorded at fork */
};

/* Bytes of argv sent from its end when argv is longer than args_max + ARGS_TAIL. */
#define ARGS_TAIL 2048

#define EXEC_OFF_MASK 16383
#define EXEC_DATA_SZ (EXEC_OFF_MASK + 1 + ARGS_CAP)

/* A successful exec. The record is exec_rec followed by its data, of the lengths given, in order:
 * filename, interp, exe, cwd, tty, cgroup leaf name, argv head, argv tail, env block. The argv
 * tail (args_tail_len bytes, EXEC_F_ARGS_GAP) is the end of argv; args_skipped bytes lie between
 * the head and the tail, and the tail's first string may start mid-string. */
struct exec_rec {
	struct rec_hdr hdr;
	__u32 argc;
	__u32 args_len;
	__u32 env_len;
	enum exec_flag flags;
	__u32 sid;
	__u32 pgid;
	__u16 filename_len;
	__u16 interp_len;
	__u16 exe_len;
	__u16 cwd_len;
	__u16 tty_len;
	__u16 cgname_len;
	__u16 _pad[2];
	__u32 args_tail_len;
	__u32 args_skipped;
	__u64 creator_start; /* EXEC_F_CREATOR: the process whose image the forking process ran */
	__u32 creator_tgid;
	__u32 _pad2;
};

/* The per-CPU buffer an exec record is built in; only the filled part is sent. */
struct exec_buf {
	struct exec_rec rec;
	__u8 data[EXEC_DATA_SZ];
};

#define FAILED_ARGS 32
#define FAILED_ARG_CAP 256
#define FAILED_OFF_MASK 4095
#define FAILED_DATA_SZ (FAILED_OFF_MASK + 1 + FAILED_ARG_CAP)

/* An exec attempt whose syscall failed, followed by filename_len bytes of filename and args_len
 * bytes of NUL-separated argv strings. */
struct exec_failed_rec {
	struct rec_hdr hdr;
	__s32 err;        /* positive errno */
	__u32 argc;       /* arguments read */
	__u32 args_len;
	__u16 filename_len;
	__u16 flags;      /* EXEC_F_ARGS_TRUNC */
};

struct exec_failed_buf {
	struct exec_failed_rec rec;
	__u8 data[FAILED_DATA_SZ];
};

/* ---- exit.c ---- */

struct exit_rec {
	struct rec_hdr hdr;
	__s32 code;  /* exit status as the parent sees it */
	__u32 _pad;
	__u64 utime; /* ns, whole thread group, split like the kernel's cputime_adjust */
	__u64 stime;
};

/* ---- rename.c ---- */

struct rename_rec {
	struct rec_hdr hdr;
	char oldcomm[16];
	char newcomm[16];
};

/* ---- net.c ---- */

enum connect_flag : __u8 {
	CONNECT_F_IN_PROGRESS = 1,
	CONNECT_F_NO_RESULT = 2, /* not made through connect(2) (io_uring, in-kernel): result unknown */
};

struct connect_rec {
	struct rec_hdr hdr;
	__u16 family;
	__u8 proto;
	enum connect_flag flags;
	__u16 port; /* host order */
	__u16 _pad;
	__s32 err;  /* positive errno, 0 on success, -1 unknown */
	__u32 _pad2;
	__u8 addr[16];
};

/* ---- dns.c ---- */

#define DNS_CAP 512

struct dns_rec {
	struct rec_hdr hdr;
	__u16 family;
	__u8 proto;
	__u8 egress;
	__u16 sport;
	__u16 dport;
	__u16 len; /* bytes of data */
	__u16 _pad[3];
	__u8 saddr[16];
	__u8 daddr[16];
	__u8 data[DNS_CAP];
};

/* ---- lib/payload.h ---- */

#define PAYLOAD_CAP 256

struct payload_rec {
	struct rec_hdr hdr;
	__u16 family;
	__u16 dport;
	__u16 sport;
	__u16 len; /* bytes of data */
	__u8 daddr[16];
	__u8 data[PAYLOAD_CAP];
};

/* ---- file.c ---- */

#define FILE_PATH_CAP 512

enum file_op : __u8 {
	FOP_OPEN = 1,
	FOP_CREATE = 2,
	FOP_TRUNCATE = 3,
	FOP_RENAME = 4,
	FOP_LINK = 5,
	FOP_SYMLINK = 6,
	FOP_UNLINK = 7,
	FOP_CHMOD = 8,
};

/* Values of the prefixes trie. */
enum prefix_match : __u8 {
	PFX_WATCHED = 1, /* write intent is reported */
	PFX_ALWAYS = 2,  /* every open is reported */
};

/* file_rec.fflags */
enum file_flag : __u8 {
	FILE_F_RESOLVED = 1, /* path is the opened file's own path, rebuilt at syscall exit */
	FILE_F_CHROOT = 2,   /* the task's root is not its mount namespace's root: path is relative to it */
	FILE_F_MNTNS = 4,    /* the task's mount namespace is not the host's (a container, a pivot_root) */
	FILE_F_ALIAS = 32,      /* kernel-internal: a symlink whose target is in a watched directory */
	FILE_F_NAME_MATCH = 64, /* kernel-internal: the caller's string fell under a prefix */
};

struct file_rec {
	struct rec_hdr hdr;
	enum file_op op;
	enum file_flag fflags;
	__u16 path_len;
	__u16 path2_len;
	__u16 _pad;
	__u32 flags;
	__u32 mode;
	__s32 err; /* positive errno, 0 success */
	__u32 _pad2;
	char path[FILE_PATH_CAP];  /* the target (rename/link destination, symlink path); relative to
				    * the task's root */
	char path2[FILE_PATH_CAP]; /* rename/link source, symlink target */
};

/* Values of the ancestors map (directories of and above watched prefixes), written by user space. */
enum ancestor_kind : __u8 {
	ANC_WATCHED_DIR = 1, /* a watched prefix ending in '/' names this directory */
	ANC_ABOVE = 2,       /* a watched prefix lies below this directory */
};

/* Key of the prefixes trie, written by user space (and by file.c for a symlink to a watched
 * directory: the link's path followed by '/'). */
struct lpm_key {
	__u32 prefixlen;
	char data[LPM_CAP];
};

/* ---- sysctl.c ---- */

#define SYSCTL_NAME_CAP 128
#define SYSCTL_VALUE_CAP 64

struct sysctl_rec {
	struct rec_hdr hdr;
	__u16 name_len;
	__u16 new_len;
	__u16 old_len;
	__u16 _pad;
	char name[SYSCTL_NAME_CAP];
	char new_value[SYSCTL_VALUE_CAP];
	char old_value[SYSCTL_VALUE_CAP];
};

/* ---- kill.c ---- */

struct kill_rec {
	struct rec_hdr hdr;
	__u32 target;
	__s32 sig;
	__s32 err; /* positive errno, 0 success */
	__u32 _pad;
};

/* ---- fpu.c ---- */

struct fpu_rec {
	struct rec_hdr hdr;
	__u32 mxcsr;      /* last non-default value seen */
	__u32 nondefault; /* switch-outs with non-default rounding in the window */
	__u32 samples;    /* switch-outs sampled in the window */
	__u32 _pad;
};

/* ---- lib/ratelimit.h ---- */

/* A summary of records of one process held back by the rate limiter: the first of a kind and
 * content in each window is sent in full, the repeats until the window ends are only counted and
 * sent as one of these. It is also the rate limiter's map value (user space flushes the windows
 * that ended with nothing after them). */
struct suppressed_rec {
	struct rec_hdr hdr;       /* the process; kind KIND_SUPPRESSED */
	enum record_kind of_kind; /* kind of the records held back */
	__u16 path_len;           /* 0: more distinct contents than RL_FIRSTS, summarised together */
	__s32 err;                /* their positive errno */
	__u32 count;              /* records held back */
	__u32 op;                 /* file_op (file), signal (kill) */
	__u64 first_ns;           /* start of the window (boot ns) */
	__u64 last_ns;            /* last record held back (boot ns) */
	char path[RL_PATH_CAP];   /* path (file), filename (failed exec), new comm (rename) */
};

/* Records reached only through pointers in inlined code, and enums no field uses, get no BTF of
 * their own: a pointer to this struct, never read (main.c), makes clang emit all of them, so that
 * bpf2go can generate them. */
struct record_types {
	struct exec_rec exec;
	struct exec_failed_rec exec_failed;
	struct exit_rec exit;
	struct rename_rec rename;
	struct connect_rec connect;
	struct dns_rec dns;
	struct payload_rec payload;
	struct file_rec file;
	struct sysctl_rec sysctl;
	struct kill_rec kill;
	struct fpu_rec fpu;
	struct suppressed_rec suppressed;
	struct lpm_key lpm;
	enum record_bound bound;
	enum prefix_match match;
	enum ring_class ring;
	enum file_flag file_flag;
	enum ancestor_kind ancestor;
};

#endif
