package vertexplay

import (
	"cmp"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/authwire/authwire/clock"
	"github.com/authwire/authwire/provider"
)

// Header names the vendor reads. Go canonicalises them on the wire (X-Agentid);
// HTTP header names are case-insensitive.
const (
	HeaderAgentID   = "x-agentid"
	HeaderTimestamp = "x-timestamp"
	HeaderNonce     = "x-nonce"
	HeaderSignature = "x-signature"
)

// SignerConfig configures a [Signer].
type SignerConfig struct {
	// Credentials supply the agentId and the API KEY. Required.
	Credentials Credentials
	// Version is the signature version; zero means [SignatureV2].
	Version SignatureVersion
	// DeriveKey turns the API KEY into the AES key; nil means [HexKey].
	DeriveKey KeyDerivation
	// Clock supplies x-timestamp; nil means the wall clock.
	Clock clock.Clock
}

// Signer is VertexPlay's roundtripper.Signer: it encrypts each attempt's JSON
// body into {"cipherText":"…"} and sets x-agentid, x-timestamp, x-nonce and
// x-signature. Every call draws a fresh IV, nonce and timestamp, so a retry is a
// new request to the vendor. It is safe for concurrent use and prints no key.
type Signer struct {
	agentID string
	agent   []string // the x-agentid header value, shared by every request
	version SignatureVersion
	aead    cipher.AEAD // built once per key; an interface field prints as an address
	clock   clock.Clock
}

// NewSigner returns a Signer for cfg, deriving the AES key once.
func NewSigner(cfg SignerConfig) (*Signer, error) {
	if m := cfg.Credentials.redacted().Missing(); m != "" {
		return nil, fmt.Errorf("vertexplay: Config.Credentials.%s is not set: build the Credentials with NewCredentials", m)
	}
	derive := cfg.DeriveKey
	if derive == nil {
		derive = HexKey
	}
	key, err := derive(cfg.Credentials.apiKey.Reveal())
	if err != nil {
		return nil, err
	}
	a, err := newAEAD(key)
	clear(key)
	if err != nil {
		return nil, err
	}
	v := cmp.Or(cfg.Version, SignatureV2)
	if v != SignatureV1 && v != SignatureV2 {
		return nil, fmt.Errorf("vertexplay: unknown signature version %d", int(v))
	}
	id := cfg.Credentials.AgentID
	return &Signer{agentID: id, agent: []string{id}, version: v, aead: a, clock: clock.OrReal(cfg.Clock)}, nil
}

// Fixed pins the per-request random values, for reproducing a vendor example
// (authwire sign vertexplay --iv --nonce --ts) and for tests. A zero field is
// drawn fresh as usual. Never use it for real traffic: a repeated IV under one
// key breaks AES-GCM.
type Fixed struct {
	// IV is the 12-byte GCM nonce.
	IV []byte
	// Nonce is x-nonce: 32 lowercase hex characters.
	Nonce string
	// Timestamp is x-timestamp: Unix milliseconds as a decimal string.
	Timestamp string
}

// Sealed is one signed, encrypted request: its headers and its wire body.
type Sealed struct {
	AgentID, Timestamp, Nonce, CipherText, Signature string
	Version                                          SignatureVersion
	// Body is the exact wire body, {"cipherText":"…"}.
	Body []byte
}

// Header returns the headers to send (without Authorization).
func (s *Sealed) Header() http.Header {
	return http.Header{"Content-Type": jsonType, "X-Agentid": {s.AgentID}, "X-Timestamp": {s.Timestamp},
		"X-Nonce": {s.Nonce}, "X-Signature": {s.Signature}}
}

// Seal encrypts and signs plaintext (an empty one is sent as {}), drawing what
// fixed leaves zero.
func (s *Signer) Seal(plaintext []byte, fixed Fixed) (*Sealed, error) {
	body, t, n, err := s.seal(plaintext, fixed)
	if err != nil {
		return nil, err
	}
	return &Sealed{AgentID: s.agentID, Timestamp: t[:n], Nonce: t[n : n+32], Signature: t[n+32:], Version: s.version,
		CipherText: string(body[len(wirePrefix) : len(body)-len(wireSuffix)]), Body: body}, nil
}

// Sign implements roundtripper.Signer: body is the plaintext JSON, the returned
// body is the encrypted wire body, and the headers are set on req. It costs
// three allocations (the body, the headers' text, their value slices): the
// working buffers are pooled and the constant header values shared.
func (s *Signer) Sign(req *http.Request, body []byte) ([]byte, error) {
	out, t, n, err := s.seal(body, Fixed{})
	if err != nil {
		return nil, err
	}
	v := &[3]string{t[:n], t[n : n+32], t[n+32:]}
	h := req.Header
	h["Content-Type"], h["X-Agentid"] = jsonType, s.agent
	h["X-Timestamp"], h["X-Nonce"], h["X-Signature"] = v[0:1:1], v[1:2:2], v[2:3:3]
	return out, nil
}

// jsonType is the one Content-Type the vendor reads; shared, never modified (a
// header's Add appends to a copy: its capacity is 1).
var jsonType = []string{"application/json"}

// scratch is one Seal's working memory, pooled so that a request allocates only
// what it hands on.
type scratch struct {
	buf  []byte             // GCM output, then the signed string
	rnd  [IVSize + 16]byte  // the IV and the nonce's bytes
	text [19 + 32 + 64]byte // x-timestamp, x-nonce, x-signature
}

var work = sync.Pool{New: func() any { return new(scratch) }}

func (w *scratch) put() {
	if cap(w.buf) <= 64<<10 { // bounded memory: a huge body's buffer is not kept
		work.Put(w)
	}
}

// seal returns the wire body and the header values timestamp|nonce|signature in
// one string, the timestamp being n bytes: the two allocations besides the
// caller's own.
func (s *Signer) seal(plain []byte, fixed Fixed) (body []byte, text string, n int, err error) {
	w := work.Get().(*scratch)
	defer w.put()
	if len(plain) == 0 {
		plain = emptyObject
	}
	rand.Read(w.rnd[:])
	iv := w.rnd[:IVSize]
	if fixed.IV != nil {
		if len(fixed.IV) != IVSize {
			return nil, "", 0, fmt.Errorf("vertexplay: the IV must be %d bytes, got %d", IVSize, len(fixed.IV))
		}
		iv = fixed.IV
	}
	t := w.text[:0]
	if fixed.Timestamp == "" {
		t = strconv.AppendInt(t, s.clock.Now().UnixMilli(), 10)
	} else if _, err := strconv.ParseUint(fixed.Timestamp, 10, 63); err != nil {
		return nil, "", 0, fmt.Errorf("vertexplay: the timestamp must be Unix milliseconds in decimal")
	} else {
		t = append(t, fixed.Timestamp...)
	}
	n = len(t)
	if fixed.Nonce == "" {
		t = hex.AppendEncode(t, w.rnd[IVSize:])
	} else if !isNonce(fixed.Nonce) {
		return nil, "", 0, fmt.Errorf("vertexplay: the nonce must be 32 lowercase hex characters")
	} else {
		t = append(t, fixed.Nonce...)
	}
	size := len(wirePrefix) + ivChars + tagChars + base64.StdEncoding.EncodedLen(len(plain)) + len(wireSuffix)
	body = append(make([]byte, 0, size), wirePrefix...)
	body, w.buf = appendCipherText(body, w.buf, s.aead, iv, plain)
	body = append(body, wireSuffix...)
	ct := body[len(wirePrefix) : len(body)-len(wireSuffix)]
	w.buf = signedString(w.buf[:0], s.version, s.agentID, t[:n], t[n:n+32], ct, body)
	sum := sha256.Sum256(w.buf)
	return body, string(hex.AppendEncode(t, sum[:])), n, nil
}

var emptyObject = []byte("{}")

// String describes the signer without its key. String and Format have value
// receivers so that a Signer value, not only a pointer, prints redacted.
func (s Signer) String() string {
	return fmt.Sprintf("vertexplay.Signer{AgentID:%q, Version:%s, Key:REDACTED}", provider.Abbrev(s.agentID), s.version)
}

// Format writes [Signer.String] whatever the verb.
func (s Signer) Format(f fmt.State, _ rune) { io.WriteString(f, s.String()) }

func isNonce(s string) bool { return len(s) == 32 && strings.Trim(s, "0123456789abcdef") == "" }

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
