// Package kernel loads the BPF programs under bpf/ and turns their ring-buffer records into
// event.Events. It implements event.Source on Linux amd64; elsewhere New returns an error.
package kernel // import "github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/kernel"

// The generated probes_x86_bpfel.{go,o} are committed so that go build needs no clang.
//go:generate go tool bpf2go -cc clang-19 -strip llvm-strip-19 -target amd64 -cflags "-O2 -g -Wall -Werror -mcpu=v3" probes ../../../../bpf/main.c -- -I../../../../bpf
