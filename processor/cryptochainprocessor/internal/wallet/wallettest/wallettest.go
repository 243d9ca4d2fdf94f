// Package wallettest builds made-up but well-formed wallet addresses for tests, which must never use a real person's wallet.
// Detection code must not import it; it does not import wallet, so wallet's own tests can use it.
package wallettest // import "github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/wallet/wallettest"

import "golang.org/x/crypto/sha3"

// Network bytes of mainnet Monero addresses. This package does not import wallet, so wallet's own
// tests can use it.
const (
	Standard   byte = 18
	Integrated byte = 19 // carries an 8-byte payment id
	Subaddress byte = 42
)

// Monero builds a mainnet Monero address with network byte net from key material (64 bytes of
// spend+view keys, plus 8 payment-id bytes for integrated addresses; shorter input is zero-padded).
func Monero(net byte, key []byte) string {
	n := 64
	if net == Integrated {
		n = 72
	}
	data := make([]byte, 1+n, 1+n+4)
	data[0] = net
	copy(data[1:], key)
	sum := MoneroChecksum(data)
	return EncodeMonero(append(data, sum[:]...))
}

// MoneroChecksum returns the 4-byte Keccak-256 checksum Monero appends to address bytes.
func MoneroChecksum(data []byte) [4]byte {
	h := sha3.NewLegacyKeccak256()
	h.Write(data)
	var sum [32]byte
	h.Sum(sum[:0])
	return [4]byte(sum[:4])
}

// EncodeMonero encodes raw bytes with Monero's block base58: 8-byte blocks become 11 characters, a
// shorter last block fewer.
func EncodeMonero(data []byte) string {
	const alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
	blockEnc := [9]int{0, 2, 3, 5, 6, 7, 9, 10, 11} // encoded size of a block of n bytes
	out := make([]byte, 0, len(data)/8*11+11)
	for i := 0; i < len(data); i += 8 {
		blk := data[i:min(i+8, len(data))]
		var v uint64
		for _, b := range blk {
			v = v<<8 | uint64(b)
		}
		enc := make([]byte, blockEnc[len(blk)])
		for j := len(enc) - 1; j >= 0; j-- {
			enc[j] = alphabet[v%58]
			v /= 58
		}
		out = append(out, enc...)
	}
	return string(out)
}
