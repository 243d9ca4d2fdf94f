// Package wallet recognises wallet addresses by format and checksum (Monero, Bitcoin, Ethereum), without allocating.
// It must not know evidence or where the token came from, and never builds addresses (wallettest does, for tests).
package wallet // import "github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/wallet"

import (
	"crypto/sha256"
	"encoding/binary"
	"math/bits"

	"golang.org/x/crypto/sha3"
)

// Kind is the address family of a valid wallet.
type Kind uint8

// Address kinds.
const (
	None Kind = iota
	MoneroStandard
	MoneroSubaddress
	MoneroIntegrated
	Bitcoin
	Ethereum
)

// String names the kind for evidence indicators.
func (k Kind) String() string {
	switch k {
	case MoneroStandard:
		return "monero"
	case MoneroSubaddress:
		return "monero-subaddress"
	case MoneroIntegrated:
		return "monero-integrated"
	case Bitcoin:
		return "bitcoin"
	case Ethereum:
		return "ethereum"
	}
	return "none"
}

// Monero returns whether k is a Monero address.
func (k Kind) Monero() bool { return k >= MoneroStandard && k <= MoneroIntegrated }

const alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

var b58 = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = int8(i)
	}
	return t
}()

// Monero address lengths in base58 characters.
const (
	MoneroLen           = 95
	MoneroIntegratedLen = 106
)

// Network bytes (single-byte varints) of Monero mainnet, testnet and stagenet addresses.
var moneroPrefixes = map[byte]Kind{
	18: MoneroStandard, 19: MoneroIntegrated, 42: MoneroSubaddress, // mainnet 4…, 4…, 8…
	53: MoneroStandard, 54: MoneroIntegrated, 63: MoneroSubaddress, // testnet 9…, A…, B…
	24: MoneroStandard, 25: MoneroIntegrated, 36: MoneroSubaddress, // stagenet 5…, 5…, 7…
}

// encoded size of a Monero base58 block of n bytes (index n).
var blockEnc = [9]int{0, 2, 3, 5, 6, 7, 9, 10, 11}

// decodeBlock decodes one Monero base58 block of enc characters into dst (len = decoded size).
func decodeBlock(enc string, dst []byte) bool {
	var v uint64
	for i := 0; i < len(enc); i++ {
		d := b58[enc[i]]
		if d < 0 {
			return false
		}
		hi, lo := bits.Mul64(v, 58)
		if hi != 0 {
			return false
		}
		nv := lo + uint64(d)
		if nv < lo {
			return false
		}
		v = nv
	}
	n := len(dst)
	if n < 8 && v>>(8*uint(n)) != 0 {
		return false
	}
	for i := n - 1; i >= 0; i-- {
		dst[i] = byte(v)
		v >>= 8
	}
	return true
}

// decodeMonero decodes a Monero base58 string into dst, returning the decoded length.
func decodeMonero(s string, dst []byte) (int, bool) {
	full, rest := len(s)/11, len(s)%11
	size := -1
	for i, e := range blockEnc {
		if e == rest {
			size = i
		}
	}
	if size < 0 {
		return 0, false
	}
	n := full*8 + size
	if n > len(dst) {
		return 0, false
	}
	for i := 0; i < full; i++ {
		if !decodeBlock(s[i*11:i*11+11], dst[i*8:i*8+8]) {
			return 0, false
		}
	}
	if rest > 0 && !decodeBlock(s[full*11:], dst[full*8:n]) {
		return 0, false
	}
	return n, true
}

// ValidMonero reports whether s is exactly a Monero address with a valid Keccak-256 checksum.
func ValidMonero(s string) Kind {
	if len(s) != MoneroLen && len(s) != MoneroIntegratedLen {
		return None
	}
	var buf [80]byte
	n, ok := decodeMonero(s, buf[:])
	if !ok {
		return None
	}
	k, ok := moneroPrefixes[buf[0]]
	if !ok {
		return None
	}
	if (k == MoneroIntegrated) != (n == 77) || (n != 69 && n != 77) {
		return None
	}
	h := sha3.NewLegacyKeccak256()
	h.Write(buf[:n-4])
	var sum [32]byte
	h.Sum(sum[:0])
	if binary.BigEndian.Uint32(sum[:4]) != binary.BigEndian.Uint32(buf[n-4:n]) {
		return None
	}
	return k
}

// Split cuts a pool login into the wallet and its suffix: "ADDR.worker", "ADDR+difficulty",
// "ADDR/email" and "ADDR:password" all yield ADDR.
func Split(login string) (addr, suffix string) {
	for i := 0; i < len(login); i++ {
		switch login[i] {
		case '.', '+', '/', ':':
			return login[:i], login[i:]
		}
	}
	return login, ""
}

// Find returns the first Monero address with a valid checksum inside arbitrary text (a run of exactly
// 95 or 106 base58 characters), or "". It costs one byte scan when no long base58 run exists.
func Find(s string) (string, Kind) {
	run := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && b58[s[i]] >= 0 {
			run++
			continue
		}
		if run == MoneroLen || run == MoneroIntegratedLen {
			cand := s[i-run : i]
			if k := ValidMonero(cand); k != None {
				return cand, k
			}
		}
		run = 0
	}
	return "", None
}

// Login classifies a login value given to a user/wallet flag (or a pool login): a Monero address
// anywhere in it, or a Bitcoin or Ethereum address as its first part.
func Login(s string) (string, Kind) {
	if len(s) > 512 {
		return "", None
	}
	addr, _ := Split(s)
	if k := ValidMonero(addr); k != None {
		return addr, k
	}
	if ValidEthereum(addr) {
		return addr, Ethereum
	}
	if ValidBitcoin(addr) {
		return addr, Bitcoin
	}
	// "coin:ADDR.worker" (unMineable style) and similar prefixes.
	for i := 0; i < len(s) && i < 16; i++ {
		if s[i] == ':' {
			rest, _ := Split(s[i+1:])
			if k := ValidMonero(rest); k != None {
				return rest, k
			}
			if ValidEthereum(rest) {
				return rest, Ethereum
			}
			if ValidBitcoin(rest) {
				return rest, Bitcoin
			}
			break
		}
	}
	return "", None
}

// ValidEthereum reports whether s is "0x" followed by 40 hex digits. The EIP-55 mixed-case checksum
// is not required (most pool logins are lower case).
func ValidEthereum(s string) bool {
	if len(s) != 42 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') {
		return false
	}
	zero := true
	for i := 2; i < 42; i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f', c >= 'A' && c <= 'F':
			if c != '0' {
				zero = false
			}
		default:
			return false
		}
	}
	return !zero
}

// ValidBitcoin reports whether s is a Bitcoin mainnet address: base58check P2PKH/P2SH (1…, 3…) or
// segwit bech32/bech32m (bc1…).
func ValidBitcoin(s string) bool {
	if len(s) >= 14 && len(s) <= 90 && (s[:3] == "bc1" || s[:3] == "BC1") {
		return validBech32(s)
	}
	if len(s) < 26 || len(s) > 35 || (s[0] != '1' && s[0] != '3') {
		return false
	}
	// base58 big-number decode into 25 bytes.
	var out [25]byte
	for i := 0; i < len(s); i++ {
		d := b58[s[i]]
		if d < 0 {
			return false
		}
		carry := uint32(d)
		for j := len(out) - 1; j >= 0; j-- {
			carry += uint32(out[j]) * 58
			out[j] = byte(carry)
			carry >>= 8
		}
		if carry != 0 {
			return false
		}
	}
	if out[0] != 0x00 && out[0] != 0x05 {
		return false
	}
	// leading '1's encode leading zero bytes: a P2PKH address has exactly one.
	if s[0] == '1' && len(s) > 1 && s[1] == '1' && out[1] != 0 {
		return false
	}
	h1 := sha256.Sum256(out[:21])
	h2 := sha256.Sum256(h1[:])
	return [4]byte(h2[:4]) == [4]byte(out[21:25])
}

const bech32Charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

var bech32Rev = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(bech32Charset); i++ {
		t[bech32Charset[i]] = int8(i)
		if c := bech32Charset[i]; c >= 'a' && c <= 'z' {
			t[c-'a'+'A'] = int8(i)
		}
	}
	return t
}()

func bech32Polymod(v uint32, gen5 byte) uint32 {
	gen := [5]uint32{0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3}
	b := v >> 25
	v = (v&0x1ffffff)<<5 ^ uint32(gen5)
	for i := 0; i < 5; i++ {
		if (b>>uint(i))&1 == 1 {
			v ^= gen[i]
		}
	}
	return v
}

// validBech32 checks the BIP-173/BIP-350 checksum of a "bc1…" address (mixed case rejected).
func validBech32(s string) bool {
	lower, upper := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' {
			lower = true
		} else if c >= 'A' && c <= 'Z' {
			upper = true
		}
	}
	if lower && upper {
		return false
	}
	sep := 2 // "bc" + "1"
	chk := uint32(1)
	for i := 0; i < sep; i++ {
		chk = bech32Polymod(chk, (s[i]|0x20)>>5)
	}
	chk = bech32Polymod(chk, 0)
	for i := 0; i < sep; i++ {
		chk = bech32Polymod(chk, (s[i]|0x20)&31)
	}
	data := s[sep+1:]
	if len(data) < 6+1 {
		return false
	}
	for i := 0; i < len(data); i++ {
		d := bech32Rev[data[i]]
		if d < 0 {
			return false
		}
		chk = bech32Polymod(chk, byte(d))
	}
	return chk == 1 || chk == 0x2bc830a3
}
