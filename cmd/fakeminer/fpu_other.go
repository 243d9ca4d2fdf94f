//go:build !amd64

package main

func setMXCSR(uint32)  {}
func getMXCSR() uint32 { return 0x1f80 }

const fpuSupported = false
