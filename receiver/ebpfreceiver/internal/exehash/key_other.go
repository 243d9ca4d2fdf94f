//go:build !unix

package exehash

import "os"

// keyOf cannot name a file's identity here: nothing is hashed.
func keyOf(*os.File) (Key, bool) { return Key{}, false }
