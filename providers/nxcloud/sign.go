package nxcloud

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"mime"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/authwire/authwire/clock"
	"github.com/authwire/authwire/outcome"
)

// The request headers NXCloud reads, spelled as the vendor spells them. The
// [Signer] writes them with exactly this spelling (over HTTP/1.1 the names go out
// as written, not canonicalised to "Accesskey").
const (
	HeaderAccessKey = "accessKey"
	HeaderTS        = "ts"
	HeaderBizType   = "bizType"
	HeaderAction    = "action"
	HeaderSign      = "sign"
	HeaderAlgorithm = "algorithm"
)

// TimestampWindow is how far the ts header may be from NXCloud's clock: ±60 s.
const TimestampWindow = 60 * time.Second

// Algorithm is the hash of the signature.
type Algorithm string

const (
	// MD5 is the default: no algorithm header is sent.
	MD5 Algorithm = "md5"
	// SHA256 is chosen by sending the header "algorithm: sha256".
	SHA256 Algorithm = "sha256"
)

func (a Algorithm) valid() bool { return a == MD5 || a == SHA256 }

// Headers are the values of the four signed headers, the inputs of [StringToSign]
// and [Sign] besides the body and the secret.
type Headers struct {
	AccessKey string
	Action    string
	BizType   string
	// TS is the 13-digit Unix time in milliseconds.
	TS string
}

// StringToSign returns the string NXCloud hashes:
//
//	accessKey=K&action=A&bizType=B&ts=T[&body=BODY]&accessSecret=S
//
// The signed headers come sorted by name in ASCII order; "&body=" and the exact
// body bytes are left out when the body is empty (pass nil for multipart/form-data,
// which is not signed). To print it, as `authwire sign --explain` does, pass "***"
// as accessSecret: the real string contains the secret.
func StringToSign(h Headers, body []byte, accessSecret string) string {
	return string(appendStringToSign(nil, h, body, accessSecret))
}

// appendStringToSign appends the string the vendor hashes to buf.
func appendStringToSign(buf []byte, h Headers, body []byte, accessSecret string) []byte {
	buf = append(buf, "accessKey="...)
	buf = append(buf, h.AccessKey...)
	buf = append(buf, "&action="...)
	buf = append(buf, h.Action...)
	buf = append(buf, "&bizType="...)
	buf = append(buf, h.BizType...)
	buf = append(buf, "&ts="...)
	buf = append(buf, h.TS...)
	if len(body) > 0 {
		buf = append(buf, "&body="...)
		buf = append(buf, body...)
	}
	buf = append(buf, "&accessSecret="...)
	return append(buf, accessSecret...)
}

// Sign returns the sign header: the lowercase hex MD5 or SHA-256 of
// [StringToSign]. It is a pure function, so the vendor's test vectors can be
// checked against it. An algorithm other than [MD5], [SHA256] or "" (MD5) yields "".
func Sign(h Headers, body []byte, accessSecret string, alg Algorithm) string {
	var hh hash.Hash
	switch alg {
	case MD5, "":
		hh = md5.New()
	case SHA256:
		hh = sha256.New()
	default:
		return ""
	}
	// The headers and the secret go through one small buffer (wiped after: it
	// holds the secret); the body is hashed in place, never copied, whatever its size.
	buf := appendStringToSign(make([]byte, 0, 96+len(h.AccessKey)+len(h.Action)+len(h.BizType)+len(h.TS)+len(accessSecret)), h, nil, "")
	buf = buf[:len(buf)-len("&accessSecret=")]
	hh.Write(buf)
	if len(body) > 0 {
		hh.Write([]byte("&body="))
		hh.Write(body)
	}
	buf = append(append(buf[:0], "&accessSecret="...), accessSecret...)
	hh.Write(buf)
	clear(buf)
	var out [2 * sha256.Size]byte
	sum := hh.Sum(buf[:0])
	return string(out[:hex.Encode(out[:], sum)])
}

// BizType is NXCloud's business line, sent in the bizType header.
type BizType int

// The business lines NXCloud documents.
const (
	BizNumberCheck   BizType = 1
	BizWhatsApp      BizType = 2
	BizSMS           BizType = 3
	BizDID           BizType = 4
	BizVirtualNumber BizType = 5
	BizOTA           BizType = 6
	BizViber         BizType = 7
	BizVoice         BizType = 8
	BizZalo          BizType = 9
)

// Operation is what one NXCloud API is in the signature: its bizType and action.
type Operation struct {
	BizType BizType
	Action  string
}

// The paths of the operations this package knows; [Client.Do] and the [Signer]
// find their Operation by path, so raw calls to them need no [WithOperation].
const (
	PathLogin   = "/api/wa/integrator/embedded/register/login"
	PathGetCode = "/api/wa/integrator/embedded/register/getCode"
	PathOTAInit = "/api/ota/init"
)

var operations = map[string]Operation{
	PathLogin:   {BizType: BizWhatsApp, Action: "login"},
	PathGetCode: {BizType: BizWhatsApp, Action: "getCode"},
	PathOTAInit: {BizType: BizOTA, Action: "init"},
}

// OperationOf returns the Operation of a path this package knows.
func OperationOf(path string) (Operation, bool) {
	op, ok := operations[path]
	return op, ok
}

type opKey struct{}

// WithOperation returns a context that tells [Client.Do] and the [Signer] the
// bizType and action of a request to a path this package does not know. The
// bizType and action headers, when the request has them, take precedence.
func WithOperation(ctx context.Context, op Operation) context.Context {
	return context.WithValue(ctx, opKey{}, op)
}

func operationFrom(ctx context.Context) (Operation, bool) {
	op, ok := ctx.Value(opKey{}).(Operation)
	return op, ok
}

// Signer signs NXCloud requests; it implements roundtripper.Signer. On every
// attempt it sets accessKey, a fresh ts, sign and (for SHA-256 only) algorithm.
// The bizType and action come from the request's own headers, else from
// [WithOperation], else from the path of a known operation. A Signer is safe for
// concurrent use.
type Signer struct {
	// Credentials are the key pair. Required.
	Credentials Credentials
	// Algorithm is the hash; "" means MD5.
	Algorithm Algorithm
	// Clock gives the ts; nil means the wall clock.
	Clock clock.Clock
	// ClockOffset is added to the clock's time: a correction for a host clock known
	// to be off, or a way for tests to play one.
	ClockOffset time.Duration
}

// Sign implements roundtripper.Signer. It returns body unchanged.
func (s *Signer) Sign(req *http.Request, body []byte) ([]byte, error) {
	if s.Credentials.valid() != nil {
		return nil, &ParamError{Op: "sign", Field: "credentials", Reason: "need an access key and an access secret: build them with NewCredentials"}
	}
	alg := s.Algorithm
	if alg == "" {
		alg = MD5
	}
	if !alg.valid() {
		return nil, &ParamError{Op: "sign", Field: "algorithm", Reason: `must be "md5" or "sha256"`}
	}
	biz, action := header(req.Header, HeaderBizType), header(req.Header, HeaderAction)
	if biz == "" || action == "" {
		op, ok := operationFrom(req.Context())
		if !ok {
			op, ok = operations[req.URL.Path]
		}
		if !ok {
			return nil, &ParamError{Op: "sign", Field: "bizType/action", Reason: "unknown for path " + req.URL.Path + ": set the bizType and action headers or use nxcloud.WithOperation"}
		}
		if biz == "" {
			biz = strconv.Itoa(int(op.BizType))
		}
		if action == "" {
			action = op.Action
		}
	}
	if _, err := strconv.Atoi(biz); err != nil {
		return nil, &ParamError{Op: "sign", Field: "bizType", Reason: "must be a number"}
	}
	h := Headers{
		AccessKey: s.Credentials.AccessKey,
		Action:    action,
		BizType:   biz,
		TS:        strconv.FormatInt(clock.OrReal(s.Clock).Now().Add(s.ClockOffset).UnixMilli(), 10),
	}
	signed := body
	if isMultipart(req.Header) {
		signed = nil // the vendor leaves multipart bodies out of the signature
	}
	// One backing array for the six values: this runs on every attempt.
	vals := [...]string{h.AccessKey, h.Action, h.BizType, h.TS, Sign(h, signed, s.Credentials.secret(), alg), string(SHA256)}
	backing := vals[:]
	for i, name := range signedHeaders {
		setHeader(req.Header, name, backing[i:i+1:i+1])
	}
	if alg == SHA256 {
		setHeader(req.Header, HeaderAlgorithm, backing[5:6:6])
	} else {
		delHeader(req.Header, HeaderAlgorithm)
	}
	return body, nil
}

var signedHeaders = [...]string{HeaderAccessKey, HeaderAction, HeaderBizType, HeaderTS, HeaderSign}

// canonical caches the canonical spelling of the vendor's header names, which a
// caller may have used with Header.Set.
var canonical = func() map[string]string {
	m := make(map[string]string)
	for _, n := range []string{HeaderAccessKey, HeaderAction, HeaderBizType, HeaderTS, HeaderSign, HeaderAlgorithm} {
		m[n] = textproto.CanonicalMIMEHeaderKey(n)
	}
	return m
}()

func isMultipart(h http.Header) bool {
	ct := header(h, "Content-Type")
	if len(ct) < 9 || !strings.EqualFold(ct[:9], "multipart") {
		return false // the common case, without parsing
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "multipart/form-data"
}

// header reads a header set either with the vendor's spelling or canonicalised.
func header(h http.Header, name string) string {
	if v := h[name]; len(v) > 0 {
		return v[0]
	}
	return h.Get(name)
}

// setHeader writes the header with exactly the vendor's spelling, replacing a
// canonicalised copy a caller may have set.
func setHeader(h http.Header, name string, v []string) {
	delHeader(h, name)
	h[name] = v
}

func delHeader(h http.Header, name string) {
	delete(h, name)
	c, ok := canonical[name]
	if !ok {
		c = textproto.CanonicalMIMEHeaderKey(name)
	}
	delete(h, c)
}

// ParamError reports a request refused locally, before anything was sent: a
// missing or invalid parameter, or a signer that cannot sign. It is permanent.
type ParamError struct {
	// Op is the operation ("getCode", "init", "sign").
	Op string
	// Field names the parameter.
	Field string
	// Reason says what is wrong; it never contains a value.
	Reason string
}

// Error implements error.
func (e *ParamError) Error() string {
	return "nxcloud: " + e.Op + ": " + e.Field + " " + e.Reason
}

// OutcomeKind implements outcome.Kinded: retrying cannot fix a bad parameter.
func (e *ParamError) OutcomeKind() outcome.Kind { return outcome.Permanent }
