//go:build !unix

package ebpfreceiver // import "github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver"

import "errors"

func readRegularHead(string, int) ([]byte, error) { return nil, errors.New("unsupported platform") }

func statInode(string) uint64 { return 0 }
