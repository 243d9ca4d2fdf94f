package evidence

import "strings"

// SHA256Hex returns s in lower case when it is a SHA-256 digest in hex (64 hex digits), else "":
// a record cannot smuggle free text into a finding's hash fields.
func SHA256Hex(s string) string {
	if len(s) != 64 {
		return ""
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return ""
		}
	}
	return strings.ToLower(s)
}
