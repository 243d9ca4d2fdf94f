package wallet

import (
	"crypto/sha256"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/wallet/wallettest"
)

// makeMonero builds a made-up mainnet address of kind k.
func makeMonero(k Kind, key []byte) string {
	net := map[Kind]byte{MoneroStandard: wallettest.Standard, MoneroSubaddress: wallettest.Subaddress, MoneroIntegrated: wallettest.Integrated}[k]
	return wallettest.Monero(net, key)
}

func randKey(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	return b
}

func TestMoneroRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200; i++ {
		for _, k := range []Kind{MoneroStandard, MoneroSubaddress, MoneroIntegrated} {
			a := makeMonero(k, randKey(r, 72))
			want := MoneroLen
			if k == MoneroIntegrated {
				want = MoneroIntegratedLen
			}
			assert.Len(t, a, want)
			assert.Equal(t, k, ValidMonero(a), a)
			switch k {
			case MoneroSubaddress:
				assert.Equal(t, byte('8'), a[0])
			default:
				assert.Equal(t, byte('4'), a[0])
			}
		}
	}
}

func TestMoneroRejects(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	a := makeMonero(MoneroStandard, randKey(r, 64))
	// flip one character: checksum must fail
	for i := 1; i < len(a); i += 7 {
		b := []byte(a)
		if b[i] == 'a' {
			b[i] = 'b'
		} else {
			b[i] = 'a'
		}
		assert.Equal(t, None, ValidMonero(string(b)), "flipped at %d", i)
	}
	for _, s := range []string{
		"", a[:94], a + "1", strings.Repeat("4", 95), strings.Repeat("z", 95), strings.Repeat("\x00", 95),
		"0" + a[1:], // '0' not in alphabet
		strings.Repeat("zzzzzzzzzzz", 9)[:95],
	} {
		assert.Equal(t, None, ValidMonero(s), s)
	}
	// A valid encoding with an unknown network byte is not an address.
	data := append([]byte{7}, randKey(r, 64)...)
	sum := wallettest.MoneroChecksum(data)
	assert.Equal(t, None, ValidMonero(wallettest.EncodeMonero(append(data, sum[:]...))))
}

func TestSplitAndFind(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	a := makeMonero(MoneroStandard, randKey(r, 64))
	for _, login := range []string{a, a + ".worker1", a + "+50000", a + "/me@example.org", a + ":x"} {
		w, k := Login(login)
		assert.Equal(t, a, w, login)
		assert.Equal(t, MoneroStandard, k)
	}
	w, k := Login("XMR:" + a + ".rig")
	assert.Equal(t, a, w)
	assert.Equal(t, MoneroStandard, k)

	got, _ := Find(`{"user": "` + a + `.w1", "pass": "x"}`)
	assert.Equal(t, a, got)
	got, _ = Find("x" + a) // run of 96: not an address
	assert.Empty(t, got)
	got, _ = Find(strings.Repeat("A", 1<<20))
	assert.Empty(t, got)
	w, k = Login("alice")
	assert.Empty(t, w)
	assert.Equal(t, None, k)
}

func b58check(payload []byte) string {
	h1 := sha256.Sum256(payload)
	h2 := sha256.Sum256(h1[:])
	data := append(append([]byte{}, payload...), h2[:4]...)
	// big-number base58
	digits := []byte{0}
	for _, b := range data {
		carry := int(b)
		for j := range digits {
			carry += int(digits[j]) << 8
			digits[j] = byte(carry % 58)
			carry /= 58
		}
		for carry > 0 {
			digits = append(digits, byte(carry%58))
			carry /= 58
		}
	}
	var sb strings.Builder
	for _, b := range data {
		if b != 0 {
			break
		}
		sb.WriteByte('1')
	}
	for i := len(digits) - 1; i >= 0; i-- {
		if i == len(digits)-1 && digits[i] == 0 && len(digits) > 1 {
			continue
		}
		sb.WriteByte(alphabet[digits[i]])
	}
	return sb.String()
}

func bech32Encode(hrp string, data []byte, m bool) string {
	values := make([]byte, 0, len(hrp)*2+1+len(data)+6)
	for i := 0; i < len(hrp); i++ {
		values = append(values, hrp[i]>>5)
	}
	values = append(values, 0)
	for i := 0; i < len(hrp); i++ {
		values = append(values, hrp[i]&31)
	}
	values = append(values, data...)
	values = append(values, 0, 0, 0, 0, 0, 0)
	chk := uint32(1)
	for _, v := range values {
		chk = bech32Polymod(chk, v)
	}
	constant := uint32(1)
	if m {
		constant = 0x2bc830a3
	}
	chk ^= constant
	out := hrp + "1"
	for _, d := range data {
		out += string(bech32Charset[d])
	}
	for i := 0; i < 6; i++ {
		out += string(bech32Charset[(chk>>uint(5*(5-i)))&31])
	}
	return out
}

func TestBitcoin(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	p2pkh := b58check(append([]byte{0}, randKey(r, 20)...))
	p2sh := b58check(append([]byte{5}, randKey(r, 20)...))
	assert.True(t, ValidBitcoin(p2pkh), p2pkh)
	assert.True(t, ValidBitcoin(p2sh), p2sh)
	bad := []byte(p2sh)
	bad[5] ^= 1
	assert.False(t, ValidBitcoin(string(bad)))
	assert.False(t, ValidBitcoin(b58check(append([]byte{0x6f}, randKey(r, 20)...)))) // testnet

	prog := make([]byte, 33) // witness v0 + 32 five-bit groups
	for i := 1; i < len(prog); i++ {
		prog[i] = byte(r.UintN(32))
	}
	seg := bech32Encode("bc", prog, false)
	assert.True(t, ValidBitcoin(seg), seg)
	prog[0] = 1
	tap := bech32Encode("bc", prog, true)
	assert.True(t, ValidBitcoin(tap), tap)
	assert.True(t, ValidBitcoin(strings.ToUpper(tap)))
	assert.False(t, ValidBitcoin(tap[:len(tap)-1]+"q"))
	assert.False(t, ValidBitcoin("bc1"+strings.Repeat("q", 40)))
	w, k := Login(p2pkh + ".rig1")
	assert.Equal(t, p2pkh, w)
	assert.Equal(t, Bitcoin, k)
}

func TestEthereum(t *testing.T) {
	assert.True(t, ValidEthereum("0x"+strings.Repeat("ab12", 10)))
	assert.False(t, ValidEthereum("0x"+strings.Repeat("0", 40)))
	assert.False(t, ValidEthereum("0x"+strings.Repeat("g", 40)))
	assert.False(t, ValidEthereum("0x"+strings.Repeat("a", 39)))
	w, k := Login("0x" + strings.Repeat("ab12", 10) + ".worker")
	assert.Equal(t, Ethereum, k)
	assert.Len(t, w, 42)
}

func FuzzWallet(f *testing.F) {
	f.Add("4" + strings.Repeat("A", 94))
	f.Add(makeMonero(MoneroIntegrated, nil))
	f.Add("bc1qqqqqqqq")
	f.Fuzz(func(t *testing.T, s string) {
		ValidMonero(s)
		Find(s)
		Login(s)
		ValidBitcoin(s)
	})
}
