package argv

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

var takes = func(name string, long bool) bool {
	if long {
		return name == "url" || name == "user" || name == "pool"
	}
	return name == "o" || name == "u"
}

func parse(args ...string) []Opt {
	var out []Opt
	Parse(args, takes, func(o Opt) bool { out = append(out, o); return true })
	return out
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []Opt
	}{
		{[]string{"x", "-o", "a"}, []Opt{{Name: "o", Value: "a", HasValue: true, Index: 1}}},
		{[]string{"x", "-o=a"}, []Opt{{Name: "o", Value: "a", HasValue: true, Index: 1}}},
		{[]string{"x", "-oa"}, []Opt{{Name: "o", Value: "a", HasValue: true, Index: 1}}},
		{[]string{"x", "--url", "a"}, []Opt{{Name: "url", Long: true, Value: "a", HasValue: true, Index: 1}}},
		{[]string{"x", "--url=a=b"}, []Opt{{Name: "url", Long: true, Value: "a=b", HasValue: true, Index: 1}}},
		{[]string{"x", "-ko", "a"}, []Opt{{Name: "k", Index: 1}, {Name: "o", Value: "a", HasValue: true, Index: 1}}},
		{[]string{"x", "-kv"}, []Opt{{Name: "k", Index: 1}, {Name: "v", Index: 1}}},
		{[]string{"x", "-pool", "a"}, []Opt{{Name: "pool", Long: true, Value: "a", HasValue: true, Index: 1}}},
		{[]string{"x", "--", "-o", "a"}, []Opt{{Value: "-o", Index: 2}, {Value: "a", Index: 3}}},
		{[]string{"x", "-", "a"}, []Opt{{Value: "-", Index: 1}, {Value: "a", Index: 2}}},
		{[]string{"x", "-o"}, []Opt{{Name: "o", Index: 1}}},
		{[]string{"x", "--nicehash", "a"}, []Opt{{Name: "nicehash", Long: true, Index: 1}, {Value: "a", Index: 2}}},
		{[]string{"x"}, nil},
		{nil, nil},
	} {
		assert.Equal(t, tc.want, parse(tc.args...), "%q", tc.args)
	}
}

func TestParseHostile(t *testing.T) {
	huge := strings.Repeat("-k", 1<<19)
	n := 0
	Parse([]string{"x", huge, "\xff\x00", "--\x00=\xff", "-\xff"}, takes, func(Opt) bool { n++; return true })
	assert.Greater(t, n, 1<<19)
	n = 0
	Parse([]string{"x", "-a", "-b"}, nil, func(Opt) bool { n++; return false })
	assert.Equal(t, 1, n, "stops when asked")
}

func TestBaseFieldsCommands(t *testing.T) {
	assert.Equal(t, "xmrig", Base("/usr/bin/xmrig"))
	assert.Equal(t, "x", Base("x"))
	assert.Equal(t, "d", Base("/a/d/"))
	assert.Equal(t, "", Base("/"))
	assert.Equal(t, "", Base(""))
	assert.Equal(t, []string{"a", "b c", "d", ""}, Fields(`a "b c" 'd' ""`, 10))
	assert.Equal(t, []string{"a"}, Fields("a b c", 1))
	assert.Equal(t, []string{"unterminated quote"}, Fields(`"unterminated quote`, 10))
	assert.Equal(t, [][]string{{"cd", "/tmp"}, {"./x", "-o", "a;b"}, {"sh"}}, Commands(`cd /tmp && ./x -o "a;b" | sh`, 10))
	assert.Len(t, Commands(strings.Repeat("a;", 10000), 32), 32)
}

func TestEachCommand(t *testing.T) {
	var got [][]string
	collect := func(f []string) { got = append(got, append([]string(nil), f...)) }
	buf := EachCommand(`cd /tmp && ./x -o "a;b" 'c d' e"f g"h | sh`, 10, nil, collect)
	assert.Equal(t, [][]string{{"cd", "/tmp"}, {"./x", "-o", "a;b", "c d", `e"f g"h`}, {"sh"}}, got)
	got = nil
	EachCommand(strings.Repeat("a;", 10000), 32, buf, collect)
	assert.Len(t, got, 32)
	got = nil
	EachCommand(`unterminated "quote ; x`, 32, buf, collect)
	assert.Equal(t, [][]string{{"unterminated", `"quote ; x`}}, got)
	got = nil
	EachCommand("", 32, buf, collect)
	assert.Empty(t, got)
	assert.Equal(t, 0.0, testing.AllocsPerRun(100, func() { EachCommand("a b; c | d", 8, buf, func([]string) {}) }))
}

func FuzzParse(f *testing.F) {
	f.Add("x\x00-ko\x00a\x00--url=b")
	f.Fuzz(func(t *testing.T, s string) {
		Parse(strings.Split(s, "\x00"), takes, func(o Opt) bool { return true })
		Fields(s, 64)
		Commands(s, 16)
		EachCommand(s, 16, nil, func(f []string) {
			for _, x := range f {
				if len(x) > len(s) {
					t.Fatal("field longer than input")
				}
			}
		})
		if b := Base(s); len(b) > len(s) {
			t.Fatal("base longer than input")
		}
	})
}
