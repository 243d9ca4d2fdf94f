//go:build !unix

package process

import "io/fs"

func inode(fs.FileInfo) (uint64, bool) { return 0, false }

func statInode(string) uint64 { return 0 }
