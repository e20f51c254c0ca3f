package vertexplay

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"

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
	version SignatureVersion
	aead    cipher.AEAD // holds the key; an interface field prints as an address
	clock   clock.Clock
	rand    io.Reader
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
	return &Signer{agentID: cfg.Credentials.AgentID, version: v, aead: a, clock: clock.OrReal(cfg.Clock), rand: rand.Reader}, nil
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
	AgentID    string
	Timestamp  string
	Nonce      string
	CipherText string
	Signature  string
	Version    SignatureVersion
	// Body is the exact wire body, {"cipherText":"…"}.
	Body []byte
}

// Header returns the headers to send (without Authorization).
func (s *Sealed) Header() http.Header {
	h := make(http.Header, 5)
	s.setHeaders(h)
	return h
}

func (s *Sealed) setHeaders(h http.Header) {
	h.Set("Content-Type", "application/json")
	h.Set(HeaderAgentID, s.AgentID)
	h.Set(HeaderTimestamp, s.Timestamp)
	h.Set(HeaderNonce, s.Nonce)
	h.Set(HeaderSignature, s.Signature)
}

// Seal encrypts and signs plaintext (an empty one is sent as {}), drawing what
// fixed leaves zero.
func (s *Signer) Seal(plaintext []byte, fixed Fixed) (*Sealed, error) {
	if len(plaintext) == 0 {
		plaintext = []byte("{}")
	}
	iv := fixed.IV
	if iv == nil {
		iv = make([]byte, IVSize)
		if _, err := io.ReadFull(s.rand, iv); err != nil {
			return nil, fmt.Errorf("vertexplay: draw IV: %w", err)
		}
	}
	nonce := fixed.Nonce
	if nonce == "" {
		b := make([]byte, 16)
		if _, err := io.ReadFull(s.rand, b); err != nil {
			return nil, fmt.Errorf("vertexplay: draw nonce: %w", err)
		}
		nonce = hex.EncodeToString(b)
	} else if !isNonce(nonce) {
		return nil, fmt.Errorf("vertexplay: the nonce must be 32 lowercase hex characters")
	}
	ts := fixed.Timestamp
	if ts == "" {
		ts = strconv.FormatInt(s.clock.Now().UnixMilli(), 10)
	} else if _, err := strconv.ParseUint(ts, 10, 63); err != nil {
		return nil, fmt.Errorf("vertexplay: the timestamp must be Unix milliseconds in decimal")
	}
	ct, err := seal(s.aead, iv, plaintext)
	if err != nil {
		return nil, err
	}
	body := WireBody(ct)
	return &Sealed{
		AgentID:    s.agentID,
		Timestamp:  ts,
		Nonce:      nonce,
		CipherText: ct,
		Signature:  Signature(s.version, s.agentID, ts, nonce, ct, body),
		Version:    s.version,
		Body:       body,
	}, nil
}

// Sign implements roundtripper.Signer: body is the plaintext JSON, the returned
// body is the encrypted wire body, and the headers are set on req.
func (s *Signer) Sign(req *http.Request, body []byte) ([]byte, error) {
	sealed, err := s.Seal(body, Fixed{})
	if err != nil {
		return nil, err
	}
	sealed.setHeaders(req.Header)
	return sealed.Body, nil
}

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
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
