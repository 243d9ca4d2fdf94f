// Package mxcsr reads and writes the x86 SSE control register, so that tests can behave like a
// RandomX virtual machine (which keeps switching the rounding mode) without any hashing.
package mxcsr

// Get returns the calling thread's MXCSR.
func Get() uint32

// Set loads v into the calling thread's MXCSR. Callers lock their goroutine to the OS thread.
func Set(v uint32)
