// Package ebpfreceiver turns what happens on a Linux host and in its containers (exec, exit,
// connect, DNS, writes to persistence and tuning files, sysctl writes, comm renames) into OTel log
// records that follow docs/events.md, with the execution context on the Resource.
//
// The kernel side (BPF programs and their loader) lives in internal/kernel behind the
// internal/event.Source interface; everything else here is plain Go: the procfs snapshot, the
// process table, the execution-context rules, DNS parsing and the record mapping.
//
//go:generate go tool -modfile=../../internal/tools/go.mod mdatagen metadata.yaml
package ebpfreceiver // import "github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver"
