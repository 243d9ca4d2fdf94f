/* SPDX-License-Identifier: GPL-2.0 OR Apache-2.0 */
/* One compilation unit (bpf2go compiles one file) so that every family shares the ring buffer,
 * the sequence number and the loss counters. User space leaves out the programs of disabled
 * families before loading. */
#include "fork.c"
#include "exec.c"
#include "exit.c"
#include "rename.c"
#include "net.c"
#include "dns.c"
#include "file.c"
#include "sysctl.c"
#include "kill.c"
#include "fpu.c"

/* Emits the BTF of every record type (see struct record_types); never read. */
const struct record_types *record_types __attribute__((unused));

char LICENSE[] SEC("license") = "Dual BSD/GPL";
