// Package ebpfreceiver turns what happens on a Linux host and its containers into OTel log records
// that follow docs/events.md; its root only wires the factory, lifecycle and pipeline together.
// It must not know record layouts, process rules or host file reading: those live in internal/.
//
//go:generate go tool -modfile=../../internal/tools/go.mod mdatagen metadata.yaml
package ebpfreceiver // import "github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver"
