//go:build !linux

package readback

import "errors"

// Root is a held root directory; reads are not supported on this platform.
type Root struct{ Via string }

// HoldRoot holds nothing on this platform.
func HoldRoot(string, string, uint32, bool) *Root { return nil }

// Close releases the root.
func (r *Root) Close() {}

func (r *Root) dup() (int, error) { return -1, errors.ErrUnsupported }

func readIn(int, string, int, int64) ([]byte, string) { return nil, StatusError }

func closeFd(int) {}

func rootKey(*Root) string { return "" }
