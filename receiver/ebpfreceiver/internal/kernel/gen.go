// Package kernel loads the BPF programs under bpf/ and turns their ring-buffer records into event.Events.
// It must not know what the events mean: mapping to log records and detection live above it.
package kernel // import "github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/kernel"

// The generated probes_x86_bpfel.{go,o} are committed so that go build needs no clang. Every record
// type and enum of bpf/include/records.h is listed with -type, so that decoding goes through types
// generated from the C declarations.
//go:generate go tool bpf2go -cc clang-19 -strip llvm-strip-19 -target amd64 -cflags "-O2 -g -Wall -Werror -mcpu=v3" -type rec_hdr -type record_kind -type hdr_flag -type exec_rec -type exec_flag -type exec_failed_rec -type exit_rec -type rename_rec -type connect_rec -type connect_flag -type dns_rec -type payload_rec -type file_rec -type file_op -type prefix_match -type record_bound -type lpm_key -type file_flag -type ancestor_kind -type sysctl_rec -type kill_rec -type fpu_rec -type suppressed_rec -type ring_class probes ../../../../bpf/main.c -- -I../../../../bpf/include
