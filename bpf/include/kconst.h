/* SPDX-License-Identifier: GPL-2.0 OR Apache-2.0 */
/* Kernel and UAPI macros the programs use: BTF (vmlinux.h) carries types and enums, not #defines. */
#ifndef CRYPTOCHAIN_KCONST_H
#define CRYPTOCHAIN_KCONST_H

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define AT_FDCWD -100
#define PF_KTHREAD 0x00200000
#define SIGNAL_GROUP_EXIT 0x00000004
#define EINPROGRESS 115

#define O_WRONLY 01
#define O_RDWR 02
#define O_CREAT 0100
#define O_TRUNC 01000

#endif
