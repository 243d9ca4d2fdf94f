//go:build !unix

package cgroups

import "io/fs"

func inode(fs.FileInfo) (uint64, bool) { return 0, false }
