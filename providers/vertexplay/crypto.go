package vertexplay

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Sizes fixed by the vendor's scheme.
const (
	IVSize  = 12 // AES-GCM nonce ("IV") bytes, fresh per request
	TagSize = 16 // GCM tag bytes

	ivChars  = 16 // len(base64std(12 bytes))
	tagChars = 24 // len(base64std(16 bytes))
)

// KeyDerivation turns the API KEY into the 32-byte AES-256 key. The vendor does
// not say how; [HexKey] is the default (inferred from its insistence on exactly
// 64 hex characters). A wrong derivation shows up as code 84.
type KeyDerivation func(apiKey string) ([]byte, error)

// HexKey is the default [KeyDerivation]: hex-decode the 64-character API KEY to
// 32 bytes.
func HexKey(apiKey string) ([]byte, error) {
	k, err := hex.DecodeString(apiKey)
	if err != nil || len(k) != 32 {
		return nil, errors.New("vertexplay: the API KEY does not hex-decode to 32 bytes")
	}
	return k, nil
}

// SHA256Key is an alternative [KeyDerivation]: the SHA-256 of the API KEY's
// characters. It exists for the case where code 84 proves [HexKey] wrong.
func SHA256Key(apiKey string) ([]byte, error) {
	s := sha256.Sum256([]byte(apiKey))
	return s[:], nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("vertexplay: the AES-256 key must be 32 bytes, got %d", len(key))
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b) // 12-byte nonce, 16-byte tag: the vendor's parameters
}

// appendCipherText appends the vendor's cipherText of plaintext to dst:
// base64std(IV) + base64std(tag) + base64std(ciphertext). Go's Seal returns
// ciphertext‖tag, the vendor wants the tag first. scratch is reused for Seal's
// output and returned, possibly grown.
func appendCipherText(dst, scratch []byte, a cipher.AEAD, iv, plaintext []byte) (out, scr []byte) {
	sealed := a.Seal(scratch[:0], iv, plaintext, nil)
	data, tag := sealed[:len(sealed)-TagSize], sealed[len(sealed)-TagSize:]
	enc := base64.StdEncoding
	dst = enc.AppendEncode(dst, iv)
	dst = enc.AppendEncode(dst, tag)
	return enc.AppendEncode(dst, data), sealed
}

// Encrypt encrypts plaintext with AES-256-GCM under key (32 bytes) and iv (12
// bytes), without additional data, and returns the vendor's cipherText:
// base64std(IV) + base64std(tag) + base64std(ciphertext). It fails only on a
// wrong key or IV length.
func Encrypt(key, iv, plaintext []byte) (string, error) {
	a, err := newAEAD(key)
	if err != nil {
		return "", err
	}
	if len(iv) != IVSize {
		return "", fmt.Errorf("vertexplay: the IV must be %d bytes, got %d", IVSize, len(iv))
	}
	ct, _ := appendCipherText(nil, nil, a, iv, plaintext)
	return string(ct), nil
}

// ErrCipherText is matched by the error of [Decrypt] for a cipherText that is
// malformed or fails authentication (tampered, or another key).
var ErrCipherText = errors.New("vertexplay: cipherText cannot be decrypted")

// Decrypt reverses [Encrypt]: it splits cipherText into IV, tag and ciphertext,
// and opens it with key. Any malformed or tampered input returns an error
// matching [ErrCipherText].
func Decrypt(key []byte, cipherText string) ([]byte, error) {
	a, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	if len(cipherText) < ivChars+tagChars {
		return nil, fmt.Errorf("%w: too short", ErrCipherText)
	}
	enc := base64.StdEncoding
	iv, err1 := enc.DecodeString(cipherText[:ivChars])
	tag, err2 := enc.DecodeString(cipherText[ivChars : ivChars+tagChars])
	data, err3 := enc.DecodeString(cipherText[ivChars+tagChars:])
	if err := errors.Join(err1, err2, err3); err != nil || len(iv) != IVSize || len(tag) != TagSize {
		return nil, fmt.Errorf("%w: bad base64 parts", ErrCipherText)
	}
	plain, err := a.Open(nil, iv, append(data, tag...), nil)
	if err != nil {
		return nil, fmt.Errorf("%w: authentication failed", ErrCipherText)
	}
	return plain, nil
}

// SignatureVersion selects how x-signature is computed. The zero value means
// [SignatureV2], the vendor's default.
type SignatureVersion int

const (
	// SignatureV2 hashes agentId|timestamp|nonce|cipherText (pipe-separated).
	SignatureV2 SignatureVersion = 2
	// SignatureV1 hashes agentId + timestamp + nonce + the exact wire body bytes.
	SignatureV1 SignatureVersion = 1
)

// String returns "v1" or "v2".
func (v SignatureVersion) String() string {
	switch v {
	case SignatureV1:
		return "v1"
	case 0, SignatureV2:
		return "v2"
	}
	return fmt.Sprintf("SignatureVersion(%d)", int(v))
}

// ParseSignatureVersion parses "v1", "1", "v2" or "2" (for flags).
func ParseSignatureVersion(s string) (SignatureVersion, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "v1", "1":
		return SignatureV1, nil
	case "v2", "2", "":
		return SignatureV2, nil
	}
	return 0, fmt.Errorf("vertexplay: unknown signature version %q (want v1 or v2)", s)
}

// Signature returns x-signature: the lowercase hex SHA-256 (a plain hash, no key)
// of agentId|ts|nonce|cipherText for v2, or of agentId+ts+nonce+wireBody for v1.
// The unused input (wireBody for v2, cipherText for v1) is ignored.
func Signature(version SignatureVersion, agentID, ts, nonce, cipherText string, wireBody []byte) string {
	sum := sha256.Sum256(signedString(nil, version, agentID, []byte(ts), []byte(nonce), []byte(cipherText), wireBody))
	return hex.EncodeToString(sum[:])
}

// signedString appends what x-signature hashes to dst.
func signedString(dst []byte, v SignatureVersion, agentID string, ts, nonce, cipherText, wireBody []byte) []byte {
	dst = append(dst, agentID...)
	if v == SignatureV1 {
		return append(append(append(dst, ts...), nonce...), wireBody...)
	}
	dst = append(append(append(dst, '|'), ts...), '|')
	return append(append(append(dst, nonce...), '|'), cipherText...)
}

// WireBody returns the exact request body for cipherText: {"cipherText":"…"}.
// Base64 needs no JSON escaping, so the bytes are fixed and v1 signatures are
// reproducible.
func WireBody(cipherText string) []byte {
	return []byte(wirePrefix + cipherText + wireSuffix)
}

const wirePrefix, wireSuffix = `{"cipherText":"`, `"}`
