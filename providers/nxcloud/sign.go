package nxcloud

import (
	"cmp"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"net/http"
	"strconv"
	"strings"
	"sync"
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

// StringToSign returns the string NXCloud hashes (see the package doc): "&body="
// and the body are left out when it is empty (pass nil for multipart/form-data,
// which is not signed). To print it, as `authwire sign --explain` does, pass "***"
// as accessSecret: the real string contains the secret.
func StringToSign(h Headers, body []byte, accessSecret string) string {
	b := appendHeaders(nil, h.AccessKey, h.Action, h.BizType, []byte(h.TS))
	if len(body) > 0 {
		b = append(append(b, "&body="...), body...)
	}
	return string(append(append(b, "&accessSecret="...), accessSecret...))
}

func appendHeaders(b []byte, key, action, biz string, ts []byte) []byte {
	b = append(append(b, "accessKey="...), key...)
	b = append(append(b, "&action="...), action...)
	b = append(append(b, "&bizType="...), biz...)
	return append(append(b, "&ts="...), ts...)
}

// Sign returns the sign header, the lowercase hex MD5 or SHA-256 of
// [StringToSign]: a pure function, checked against the vendor's test vectors. An
// algorithm other than [MD5], [SHA256] or "" (MD5) yields "".
func Sign(h Headers, body []byte, accessSecret string, alg Algorithm) string {
	if alg = cmp.Or(alg, MD5); !alg.valid() {
		return ""
	}
	sc := scratches.Get().(*scratch)
	defer scratches.Put(sc)
	return string(sc.sign(nil, h.AccessKey, h.Action, h.BizType, append(sc.out[:0], h.TS...), body, accessSecret, alg))
}

// scratch is a signature's reusable state: signing allocates only the header
// values it hands to the request.
type scratch struct {
	md5, sha hash.Hash
	buf, out []byte
	sumBuf   [sha256.Size]byte
}

var scratches = sync.Pool{New: func() any { return &scratch{md5: md5.New(), sha: sha256.New()} }}

// sign appends the hex signature to dst. The headers and the secret go through
// one buffer, wiped after (it held the secret); the body is hashed in place.
func (s *scratch) sign(dst []byte, key, action, biz string, ts, body []byte, secret string, alg Algorithm) []byte {
	hh := s.md5
	if alg == SHA256 {
		hh = s.sha
	}
	hh.Reset()
	b := appendHeaders(s.buf[:0], key, action, biz, ts)
	if len(body) > 0 {
		hh.Write(append(b, "&body="...))
		hh.Write(body)
		b = b[:0]
	}
	b = append(append(b, "&accessSecret="...), secret...)
	hh.Write(b)
	clear(b)
	s.buf = b[:0]
	return hex.AppendEncode(dst, hh.Sum(s.sumBuf[:0]))
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

// The paths of the operations this package knows: [Client.Call] and the [Signer]
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

func operationOf(ctx context.Context, path string) (Operation, bool) {
	if op, ok := ctx.Value(opKey{}).(Operation); ok {
		return op, true
	}
	return OperationOf(path)
}

// Signer signs NXCloud requests (a roundtripper.Signer, safe for concurrent use):
// on every attempt accessKey, a fresh ts, sign and (for SHA-256 only) algorithm.
// The bizType and action come from the request's headers, else [WithOperation],
// else the path of a known operation.
type Signer struct {
	// Credentials are the key pair. Required.
	Credentials Credentials
	// Algorithm is the hash; "" means MD5.
	Algorithm Algorithm
	// Clock gives the ts; nil means the wall clock.
	Clock clock.Clock
	// ClockOffset is added to the clock's time, to correct a host clock known to be off.
	ClockOffset time.Duration
}

// Sign implements roundtripper.Signer. It returns body unchanged.
func (s *Signer) Sign(req *http.Request, body []byte) ([]byte, error) {
	if s.Credentials.valid() != nil {
		return nil, &ParamError{Op: "sign", Field: "credentials", Reason: "need an access key and an access secret: build them with NewCredentials"}
	}
	alg := cmp.Or(s.Algorithm, MD5)
	if !alg.valid() {
		return nil, &ParamError{Op: "sign", Field: "algorithm", Reason: `must be "md5" or "sha256"`}
	}
	biz, action := header(req.Header, HeaderBizType, "Biztype"), header(req.Header, HeaderAction, "Action")
	if biz == "" || action == "" {
		op, ok := operationOf(req.Context(), req.URL.Path)
		if !ok {
			return nil, &ParamError{Op: "sign", Field: "bizType/action", Reason: "unknown for path " + req.URL.Path + ": set the bizType and action headers or use nxcloud.WithOperation"}
		}
		biz, action = cmp.Or(biz, strconv.Itoa(int(op.BizType))), cmp.Or(action, op.Action)
	}
	if _, err := strconv.Atoi(biz); err != nil {
		return nil, &ParamError{Op: "sign", Field: "bizType", Reason: "must be a number"}
	}
	signed := body
	if isMultipart(req.Header) {
		signed = nil // the vendor leaves multipart bodies out of the signature
	}
	// The ts and the sign share one string, the five values one array.
	sc := scratches.Get().(*scratch)
	b := strconv.AppendInt(sc.out[:0], clock.OrReal(s.Clock).Now().Add(s.ClockOffset).UnixMilli(), 10)
	n := len(b)
	b = sc.sign(b, s.Credentials.AccessKey, action, biz, b[:n], signed, s.Credentials.secret.Reveal(), alg)
	tsSign := string(b)
	sc.out = b[:0]
	scratches.Put(sc)
	vals := &[...]string{s.Credentials.AccessKey, action, biz, tsSign[:n], tsSign[n:], string(alg)}
	for i, name := range signedHeaders {
		// Exactly the vendor's spelling, replacing a canonicalised copy a caller set.
		delete(req.Header, name[1])
		req.Header[name[0]] = vals[i : i+1 : i+1]
	}
	if alg == MD5 {
		delete(req.Header, HeaderAlgorithm) // the default, sent without the header
	}
	return body, nil
}

// signedHeaders are the names the Signer writes, with their canonical spelling.
var signedHeaders = [...][2]string{{HeaderAccessKey, "Accesskey"}, {HeaderAction, "Action"}, {HeaderBizType, "Biztype"},
	{HeaderTS, "Ts"}, {HeaderSign, "Sign"}, {HeaderAlgorithm, "Algorithm"}}

func isMultipart(h http.Header) bool {
	ct := header(h, "Content-Type", "Content-Type")
	const mt = "multipart/form-data"
	return len(ct) >= len(mt) && strings.EqualFold(ct[:len(mt)], mt) && (len(ct) == len(mt) || ct[len(mt)] == ';' || ct[len(mt)] == ' ')
}

// header reads a header set either with the vendor's spelling (name) or
// canonicalised (canon, as http.CanonicalHeaderKey(name), spelled out so that
// a request does not pay for the conversion).
func header(h http.Header, name, canon string) string {
	if v := h[name]; len(v) > 0 {
		return v[0]
	}
	if v := h[canon]; len(v) > 0 {
		return v[0]
	}
	return ""
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
