package mxcsr

import (
	"runtime"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig := Get()
	defer Set(orig)
	Set(orig | 3<<13) // round toward zero
	if got := Get(); got&(3<<13) != 3<<13 {
		t.Fatalf("MXCSR %#x after setting round-toward-zero", got)
	}
	Set(orig)
	if Get() != orig {
		t.Fatalf("MXCSR not restored")
	}
}
