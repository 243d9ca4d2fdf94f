package untrusted

import (
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

func TestString(t *testing.T) {
	assert.Equal(t, "a\uFFFDb", String([]byte("a\x00b"), 0))
	assert.Equal(t, "é", String([]byte("éé"), 3), "never splits a rune")
	assert.Equal(t, "", String([]byte("é"), 1))
	assert.True(t, utf8.ValidString(String([]byte{0xc3}, 10)))
	assert.Equal(t, "x\uFFFDy", String([]byte("x\xff\xfey"), 0), "a run of invalid bytes becomes one U+FFFD")
}
