package main

// setMXCSR loads the SSE control/status register (LDMXCSR).
func setMXCSR(v uint32)

// getMXCSR stores the SSE control/status register (STMXCSR).
func getMXCSR() uint32

const fpuSupported = true
