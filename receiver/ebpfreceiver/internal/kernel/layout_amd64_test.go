//go:build linux && amd64

package kernel

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// The hand-written offsets in decode.go against the types bpf2go generated from the C structs.
func TestRecordLayout(t *testing.T) {
	var x probesExecRec
	require.Equal(t, hdrSize, int(unsafe.Sizeof(x.Hdr)))
	require.Equal(t, execFixed, int(unsafe.Offsetof(x.Data)))
	require.Equal(t, 128, int(unsafe.Offsetof(x.FilenameLen)))
	require.Equal(t, 96, int(unsafe.Offsetof(x.Argc)))
	var f probesFileRec
	require.Equal(t, fileFixed, int(unsafe.Offsetof(f.Path)))
	require.Equal(t, fileSize, int(unsafe.Sizeof(f)))
	require.Equal(t, 112, int(unsafe.Offsetof(f.Err)))
	var k probesLpmKey
	require.Equal(t, 4+MaxPrefixLen, int(unsafe.Sizeof(k)))
}
