package main

import (
	"math"
	"runtime"
	"time"
)

// MXCSR rounding-control field (bits 13-14): nearest, down, up, toward zero.
const (
	mxcsrRoundShift = 13
	mxcsrRoundMask  = 3 << mxcsrRoundShift
)

// burn keeps one core busy with floating-point work for d. With fpu set it
// switches the MXCSR rounding mode the way a RandomX virtual machine does
// (CFROUND on every program), which is the behaviour the receiver looks for;
// no hash is ever computed.
func burn(d time.Duration, fpu bool) float64 {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig := getMXCSR()
	defer setMXCSR(orig)
	x := 1.0
	deadline := time.Now().Add(d)
	for mode := uint32(0); time.Now().Before(deadline); mode = (mode + 1) & 3 {
		if fpu {
			setMXCSR(orig&^mxcsrRoundMask | mode<<mxcsrRoundShift)
		}
		for i := 0; i < 20000; i++ {
			x = math.Sqrt(x*1.0000001 + float64(i&7))
		}
	}
	return x
}

// burnFixedRounding is scientific code's pattern: one rounding mode (toward
// zero) set once at start and kept, then plain floating-point work.
func burnFixedRounding(d time.Duration) float64 {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig := getMXCSR()
	defer setMXCSR(orig)
	setMXCSR(orig&^mxcsrRoundMask | 3<<mxcsrRoundShift)
	x := 1.0
	for deadline := time.Now().Add(d); time.Now().Before(deadline); {
		for i := 0; i < 20000; i++ {
			x = math.Sqrt(x*1.0000001 + float64(i&7))
		}
	}
	return x
}
