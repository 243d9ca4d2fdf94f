//go:build linux && amd64

package kernel // import "github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/kernel"

import (
	"unsafe"

	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/event"
)

// The record contract is bpf/include/records.h; bpf2go generates its types (probes*Rec, probesRecordKind,
// the flag enums) into probes_x86_bpfel.go. What Go states on its own is tied to them here: these
// index expressions fail to compile when a number differs from the C declaration.
func _() {
	var x [1]struct{}
	_ = x[event.KindExec-event.Kind(probesRecordKindKIND_EXEC)]
	_ = x[event.KindExecFailed-event.Kind(probesRecordKindKIND_EXEC_FAILED)]
	_ = x[event.KindExit-event.Kind(probesRecordKindKIND_EXIT)]
	_ = x[event.KindRename-event.Kind(probesRecordKindKIND_RENAME)]
	_ = x[event.KindConnect-event.Kind(probesRecordKindKIND_CONNECT)]
	_ = x[event.KindDNS-event.Kind(probesRecordKindKIND_DNS)]
	_ = x[event.KindFile-event.Kind(probesRecordKindKIND_FILE)]
	_ = x[event.KindSysctl-event.Kind(probesRecordKindKIND_SYSCTL)]
	_ = x[event.KindKill-event.Kind(probesRecordKindKIND_KILL)]
	_ = x[event.KindFPU-event.Kind(probesRecordKindKIND_FPU)]
	_ = x[event.KindPayload-event.Kind(probesRecordKindKIND_PAYLOAD)]
	_ = x[event.KindSuppressed-event.Kind(probesRecordKindKIND_SUPPRESSED)]
	_ = x[event.KindCount-event.Kind(probesRecordKindKIND_COUNT)]
	_ = x[event.LifecycleKinds-probesRingClassRING_LIFECYCLE_KINDS]

	_ = x[MaxArgvBytes-probesRecordBoundARGS_CAP]
	_ = x[MaxEnvBytes-probesRecordBoundARGS_CAP]
	_ = x[MaxExcludePIDs-probesRecordBoundEXCLUDE_MAX]
	_ = x[MaxPrefixes-probesRecordBoundPREFIXES_MAX]
	_ = x[MaxPrefixLen-probesRecordBoundLPM_CAP]
	_ = x[MaxPrefixLen-len(probesLpmKey{}.Data)]

	_ = x[pfxWatched-uint32(probesPrefixMatchPFX_WATCHED)]
	_ = x[pfxAlways-uint32(probesPrefixMatchPFX_ALWAYS)]
}

// view returns the record at the start of raw as a *T, or nil when raw is shorter than T. raw must
// be 8-byte aligned (decode sees to it); the result aliases raw.
func view[T any](raw []byte) *T {
	var zero T
	if uintptr(len(raw)) < unsafe.Sizeof(zero) {
		return nil
	}
	return (*T)(unsafe.Pointer(unsafe.SliceData(raw)))
}

// tail returns the bytes of raw after the fixed part T of a variable-length record.
func tail[T any](raw []byte) []byte {
	var zero T
	return raw[unsafe.Sizeof(zero):]
}

// chars views a C char array as bytes.
func chars(a []int8) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(a))), len(a))
}
