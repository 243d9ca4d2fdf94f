package block

// The generated deny_x86_bpfel.{go,o} are committed so that go build needs no clang.
//go:generate go tool bpf2go -cc clang-19 -strip llvm-strip-19 -target amd64 -type deny_key -type deny_val -cflags "-O2 -g -Wall -Werror -I/usr/include/x86_64-linux-gnu" deny bpf/deny.c
