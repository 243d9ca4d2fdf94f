package redact

import (
	"math"
	"strings"
)

// shape is a well-known token format: a prefix (kept) and a body of at least min characters of a class.
type shape struct {
	prefix string
	min    int
	class  byte // 'U' [A-Z0-9], 'a' [A-Za-z0-9], 'b' [A-Za-z0-9_-], 'j' [A-Za-z0-9_.-], 'p' [A-Za-z0-9/_-], 't' [0-9A-Za-z:_-]
}

// shapes are the default token formats (documented in the receiver README).
var shapes = []shape{
	{"AKIA", 16, 'U'}, {"ASIA", 16, 'U'}, {"AGPA", 16, 'U'}, {"AIDA", 16, 'U'}, {"AROA", 16, 'U'}, {"ANPA", 16, 'U'}, // AWS
	{"AIza", 30, 'b'}, {"ya29.", 20, 'j'}, // Google
	{"ghp_", 30, 'a'}, {"gho_", 30, 'a'}, {"ghu_", 30, 'a'}, {"ghs_", 30, 'a'}, {"ghr_", 30, 'a'}, {"github_pat_", 40, 'b'}, // GitHub
	{"glpat-", 20, 'b'}, {"gldt-", 20, 'b'}, {"glrt-", 20, 'b'}, {"glptt-", 20, 'b'}, {"glsoat-", 20, 'b'}, {"GR1348941", 20, 'b'}, // GitLab
	{"xoxb-", 10, 'b'}, {"xoxp-", 10, 'b'}, {"xoxa-", 10, 'b'}, {"xoxr-", 10, 'b'}, {"xoxs-", 10, 'b'}, {"xoxe-", 10, 'b'}, {"xapp-", 10, 'b'}, // Slack
	{"hooks.slack.com/services/", 20, 'p'}, {"discord.com/api/webhooks/", 20, 'p'}, {"discordapp.com/api/webhooks/", 20, 'p'},
	{"api.telegram.org/bot", 30, 't'},
	{"sk_live_", 16, 'a'}, {"sk_test_", 16, 'a'}, {"rk_live_", 16, 'a'}, {"rk_test_", 16, 'a'}, {"whsec_", 24, 'a'}, // Stripe
	{"sk-", 32, 'b'}, // OpenAI, Anthropic and others
	{"npm_", 30, 'a'}, {"pypi-", 50, 'b'}, {"dckr_pat_", 20, 'b'}, {"hvs.", 20, 'b'}, {"hvb.", 20, 'b'}, {"SG.", 40, 'j'},
	{"shpat_", 30, 'a'}, {"shpss_", 30, 'a'}, {"shpca_", 30, 'a'}, {"dop_v1_", 40, 'a'}, {"doo_v1_", 40, 'a'},
	{"eyJ", 30, 'j'}, // JWT: checked for two dots below
}

var (
	byFirst    [256][]int
	tokenBytes [256]bool // bytes a token (prefix and body) is made of
)

// minTokenRun is the shortest run of token bytes (without / and :) that can hold the secret part
// of a shape (xoxb- and 10).
const minTokenRun = 15

func init() {
	if len(shapes) > 64 {
		panic("redact: more than 64 token shapes")
	}
	for i, sh := range shapes {
		byFirst[sh.prefix[0]] = append(byFirst[sh.prefix[0]], i)
	}
	for c := 0; c < 256; c++ {
		b := byte(c)
		tokenBytes[c] = isAlnum(b) || b == '_' || b == '-' || b == '.'
	}
}

// longestTokenRun is the length of the longest run of token bytes in s: most strings (paths,
// words, numbers) have none long enough for any shape, and skip the shape search.
func longestTokenRun(s string) int {
	best, run := 0, 0
	for i := 0; i < len(s); i++ {
		if tokenBytes[s[i]] {
			run++
			if run > best {
				best = run
			}
		} else {
			run = 0
		}
	}
	return best
}

func inClass(c, class byte) bool {
	alnum := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
	switch class {
	case 'U':
		return 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
	case 'a':
		return alnum
	case 'b':
		return alnum || c == '_' || c == '-'
	case 'j':
		return alnum || c == '_' || c == '-' || c == '.'
	case 'p':
		return alnum || c == '_' || c == '-' || c == '/'
	case 't':
		return alnum || c == '_' || c == '-' || c == ':'
	}
	return false
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// tokens redacts the bodies of well-known token formats. A shape whose body fell short is not
// tried again inside the same run (a later start in it has a shorter body): linear time whatever
// the input repeats.
func tokens(s string, e *edits) {
	var skip [64]int // per shape: no retry before this index
	for i := 0; i < len(s); i++ {
		cand := byFirst[s[i]]
		if cand == nil {
			continue
		}
		for _, k := range cand {
			sh := &shapes[k]
			if i < skip[k] || !strings.HasPrefix(s[i:], sh.prefix) {
				continue
			}
			if i > 0 && isAlnum(s[i-1]) && !strings.Contains(sh.prefix, "/") {
				continue
			}
			lo := i + len(sh.prefix)
			hi := lo
			for hi < len(s) && inClass(s[hi], sh.class) {
				hi++
			}
			if hi-lo < sh.min {
				skip[k] = hi
				continue
			}
			if sh.prefix == "eyJ" {
				if strings.Count(s[i:hi], ".") < 2 {
					skip[k] = hi
					continue
				}
				lo = i
			}
			e.add(lo, hi)
			i = hi
			break
		}
	}
}

// pem redacts the bodies of PEM private key blocks (to the end when the block is cut).
func pem(s string, e *edits) {
	for from := 0; ; {
		i := strings.Index(s[from:], "-----BEGIN ")
		if i < 0 {
			return
		}
		i += from
		h := strings.Index(s[i+11:], "-----")
		if h < 0 || h > 64 {
			from = i + 11
			continue
		}
		label := s[i+11 : i+11+h]
		body := i + 11 + h + 5
		from = body
		if !strings.Contains(label, "PRIVATE KEY") {
			continue
		}
		end := strings.Index(s[body:], "-----END")
		if end < 0 {
			e.add(body, len(s))
			return
		}
		e.add(body, body+end)
		from = body + end + 8
	}
}

// randomLooking reports a value that reads as random: no blanks, several character classes and
// at least 3.5 bits of entropy per character.
func randomLooking(v string) bool {
	var counts [256]int
	var lower, upperc, digit, other bool
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			return false
		case 'a' <= c && c <= 'z':
			lower = true
		case 'A' <= c && c <= 'Z':
			upperc = true
		case '0' <= c && c <= '9':
			digit = true
		default:
			other = true
		}
		counts[c]++
	}
	classes := 0
	for _, b := range []bool{lower, upperc, digit, other} {
		if b {
			classes++
		}
	}
	if classes < 2 {
		return false
	}
	h := 0.0
	n := float64(len(v))
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h >= 3.5
}
