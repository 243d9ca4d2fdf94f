/* SPDX-License-Identifier: GPL-2.0 OR Apache-2.0 */
/* One compilation unit (bpf2go compiles one file) so that every family shares the ring buffer,
 * the sequence number and the loss counters. User space leaves out the programs of disabled
 * families before loading. */
#include "common.h"
#include "exec.c"
#include "exit.c"
#include "rename.c"
#include "net.c"
#include "dns.c"
#include "file.c"
#include "sysctl.c"
#include "kill.c"
#include "fpu.c"

char LICENSE[] SEC("license") = "Dual BSD/GPL";
