package vertexplay

import (
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"

	"github.com/authwire/authwire/clock"
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
	if err := cfg.Credentials.valid(); err != nil {
		return nil, err
	}
	derive := cfg.DeriveKey
	if derive == nil {
		derive = HexKey
	}
	key, err := derive(cfg.Credentials.apiKey())
	if err != nil {
		return nil, err
	}
	a, err := newAEAD(key)
	clear(key)
	if err != nil {
		return nil, err
	}
	v := cfg.Version
	switch v {
	case 0:
		v = SignatureV2
	case SignatureV1, SignatureV2:
	default:
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
	w := work.Get().(*scratch)
	defer w.put()
	body, text, n, err := s.seal(w, plaintext, fixed)
	if err != nil {
		return nil, err
	}
	t := string(text)
	return &Sealed{AgentID: s.agentID, Timestamp: t[:n], Nonce: t[n : n+32], Signature: t[n+32:], Version: s.version,
		CipherText: string(body[len(wirePrefix) : len(body)-len(wireSuffix)]), Body: body}, nil
}

// Sign implements roundtripper.Signer: body is the plaintext JSON, the returned
// body is the encrypted wire body, and the headers are set on req. It costs
// three allocations (the body, the headers' text, their value slices): the
// working buffers are pooled and the constant header values shared.
func (s *Signer) Sign(req *http.Request, body []byte) ([]byte, error) {
	w := work.Get().(*scratch)
	defer w.put()
	out, text, n, err := s.seal(w, body, Fixed{})
	if err != nil {
		return nil, err
	}
	t := string(text)
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

// seal writes the wire body (newly allocated) and, in w.text, the header values
// timestamp|nonce|signature, the timestamp being n bytes.
func (s *Signer) seal(w *scratch, plain []byte, fixed Fixed) (body, text []byte, n int, err error) {
	if len(plain) == 0 {
		plain = emptyObject
	}
	rand.Read(w.rnd[:])
	iv := w.rnd[:IVSize]
	if fixed.IV != nil {
		if len(fixed.IV) != IVSize {
			return nil, nil, 0, fmt.Errorf("vertexplay: the IV must be %d bytes, got %d", IVSize, len(fixed.IV))
		}
		iv = fixed.IV
	}
	text = w.text[:0]
	if fixed.Timestamp == "" {
		text = strconv.AppendInt(text, s.clock.Now().UnixMilli(), 10)
	} else if _, err := strconv.ParseUint(fixed.Timestamp, 10, 63); err != nil {
		return nil, nil, 0, fmt.Errorf("vertexplay: the timestamp must be Unix milliseconds in decimal")
	} else {
		text = append(text, fixed.Timestamp...)
	}
	n = len(text)
	if fixed.Nonce == "" {
		text = hex.AppendEncode(text, w.rnd[IVSize:])
	} else if !isNonce(fixed.Nonce) {
		return nil, nil, 0, fmt.Errorf("vertexplay: the nonce must be 32 lowercase hex characters")
	} else {
		text = append(text, fixed.Nonce...)
	}
	size := len(wirePrefix) + ivChars + tagChars + base64.StdEncoding.EncodedLen(len(plain)) + len(wireSuffix)
	body = append(make([]byte, 0, size), wirePrefix...)
	body, w.buf = appendCipherText(body, w.buf, s.aead, iv, plain)
	body = append(body, wireSuffix...)
	ct := body[len(wirePrefix) : len(body)-len(wireSuffix)]
	w.buf = signedString(w.buf[:0], s.version, s.agentID, text[:n], text[n:n+32], ct, body)
	sum := sha256.Sum256(w.buf)
	return body, hex.AppendEncode(text, sum[:]), n, nil
}

var emptyObject = []byte("{}")

// String describes the signer without its key. String and Format have value
// receivers so that a Signer value, not only a pointer, prints redacted.
func (s Signer) String() string {
	return fmt.Sprintf("vertexplay.Signer{AgentID:%q, Version:%s, Key:REDACTED}", abbrev(s.agentID), s.version)
}

// Format writes [Signer.String] whatever the verb.
func (s Signer) Format(f fmt.State, _ rune) { io.WriteString(f, s.String()) }

func isNonce(s string) bool {
	if len(s) != 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
