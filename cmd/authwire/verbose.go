package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/authwire/authwire/outcome"
	"github.com/authwire/authwire/providers/nxcloud"
	"github.com/authwire/authwire/providers/vertexplay"
)

// shown are the headers -v prints as they are (compared case-insensitively):
// harmless ones and the vendors' public identifiers (NXCloud's accessKey,
// VertexPlay's agent id), which are what one needs to chase a signature error.
// Everything else — sign, token_id, Authorization, x-signature, cookies,
// whatever a vendor adds tomorrow — is printed REDACTED: an allow-list cannot
// leak a header nobody thought of.
var shown = []string{
	"accept", "accept-encoding", "action", "algorithm", "biztype", "cache-control", "connection",
	"content-length", "content-type", "date", "language", "retry-after", "server",
	"transfer-encoding", "ts", "user-agent", "vary", "x-nonce", "x-request-id", "x-timestamp",
	strings.ToLower(nxcloud.HeaderAccessKey), vertexplay.HeaderAgentID,
}

// secretJSON and secretForm match a JSON string member or a form field whose name says it
// holds a secret; -vv prints its value REDACTED.
var (
	secretName = regexp.MustCompile(`(?i)^(?:.*(?:password|passwd|pwd|secret|token|signature|api_?key|authorization).*|sign)$`)
	notSecret  = regexp.MustCompile(`(?i)(?:type|expires.*|ttl)$`) // tokenType, token_expires_in
	secretJSON = regexp.MustCompile(`("([\w-]+)"\s*:\s*)"(?:[^"\\]|\\.)*"`)
	secretForm = regexp.MustCompile(`(^|&)([\w-]+)=[^&]*`)
)

func isSecretName(name string) bool {
	return secretName.MatchString(name) && !notSecret.MatchString(name)
}

// tracer is -v and -vv: every attempt on the wire with its number, outcome and
// the wait before the next, on stderr. Secrets never reach out: headers by
// allow-list, body fields by name, and — in case a vendor puts one somewhere
// unexpected — every known secret and every token seen, replaced wherever it
// appears.
type tracer struct {
	level  int // 1: -v, 2: -vv
	vendor string
	path   string // the URL path of the call's own requests (others are logins)
	sigVer vertexplay.SignatureVersion
	vpKey  []byte // VertexPlay's AES key, to show the plaintext of request bodies

	mu      sync.Mutex
	out     io.Writer
	secrets []string
}

// newTracer returns the tracer of vendor, scrubbing the credentials in env.
func newTracer(level int, vendor, path string, out io.Writer, getenv func(string) string, sigVer vertexplay.SignatureVersion) *tracer {
	t := &tracer{level: level, vendor: vendor, path: path, out: out, sigVer: sigVer}
	for _, name := range []string{envNXSecret, envIKPassword, envVPAPIKey, envVPSecret} {
		if v := getenv(name); v != "" {
			t.addSecret(v)
			sum := md5.Sum([]byte(v))
			t.addSecret(hex.EncodeToString(sum[:]))
		}
	}
	if vendor == "vertexplay" {
		t.vpKey, _ = vertexplay.HexKey(getenv(envVPAPIKey))
	}
	return t
}

func (t *tracer) addSecret(s string) {
	if len(s) < 4 {
		return // too short to scrub without mangling the output
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if !slices.Contains(t.secrets, s) {
		t.secrets = append(t.secrets, s, strings.ToUpper(s))
	}
}

// printf writes one block, scrubbed, at once (parallel calls do not interleave
// within a block).
func (t *tracer) printf(format string, a ...any) {
	s := fmt.Sprintf(format, a...)
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, sec := range t.secrets {
		s = strings.ReplaceAll(s, sec, "REDACTED")
	}
	io.WriteString(t.out, s)
}

// callTrace travels in a call's context: the request number and its attempts.
type callTrace struct {
	n        int
	attempts atomic.Int32
}

type traceKey struct{}

func withTrace(ctx context.Context, n int) context.Context {
	return context.WithValue(ctx, traceKey{}, &callTrace{n: n})
}

func traceOf(ctx context.Context) *callTrace { ct, _ := ctx.Value(traceKey{}).(*callTrace); return ct }

// label names an exchange: "request 1, attempt 2", or "login" for the token
// requests the stack makes on its own.
func (t *tracer) label(req *http.Request) string {
	ct := traceOf(req.Context())
	if ct == nil || req.URL.Path != t.path {
		return "token request (login)"
	}
	return fmt.Sprintf("request %d, attempt %d", ct.n, ct.attempts.Add(1))
}

// transport wraps the wire: what it prints is exactly what was sent and received.
func (t *tracer) transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		var reqBody []byte
		if req.Body != nil && req.Body != http.NoBody {
			reqBody, _ = io.ReadAll(req.Body)
			req.Body.Close()
			r := req.Clone(req.Context())
			r.Body = io.NopCloser(bytes.NewReader(reqBody))
			req = r
		}
		for _, name := range []string{"token_id", "Authorization"} {
			for _, v := range req.Header[http.CanonicalHeaderKey(name)] {
				t.addSecret(strings.TrimPrefix(v, "Bearer "))
			}
			for _, v := range req.Header[name] {
				t.addSecret(v)
			}
		}
		var b strings.Builder
		fmt.Fprintf(&b, "* %s\n> %s %s %s\n> host: %s\n", t.label(req), req.Method, req.URL.Path, req.Proto, req.URL.Host)
		writeHeaders(&b, "> ", req.Header)
		if t.level >= 2 {
			t.writeBody(&b, "> ", req.Header.Get("Content-Type"), reqBody, true)
			if s := t.signedString(req, reqBody); s != "" {
				b.WriteString(s)
			}
		}
		t.printf("%s", b.String())
		start := time.Now()
		resp, err := base.RoundTrip(req)
		if err != nil {
			t.printf("* no response after %s: %s\n", time.Since(start).Round(time.Millisecond), oneLine(err.Error()))
			return nil, err
		}
		b.Reset()
		fmt.Fprintf(&b, "< %s %s (%s)\n", resp.Proto, resp.Status, time.Since(start).Round(time.Millisecond))
		writeHeaders(&b, "< ", resp.Header)
		if t.level >= 2 {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, outcome.MaxBody))
			resp.Body = struct {
				io.Reader
				io.Closer
			}{io.MultiReader(bytes.NewReader(body), resp.Body), resp.Body}
			t.captureTokens(body)
			t.writeBody(&b, "< ", resp.Header.Get("Content-Type"), body, false)
		}
		t.printf("%s", b.String())
		return resp, nil
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// captureTokens adds every secret-named JSON string in body to the scrub list,
// so that a token printed elsewhere later (in a header, an error) is caught too.
func (t *tracer) captureTokens(body []byte) {
	for _, m := range secretJSON.FindAllSubmatch(body, -1) {
		if !isSecretName(string(m[2])) {
			continue
		}
		var v string
		if json.Unmarshal(bytes.TrimPrefix(m[0], m[1]), &v) == nil {
			t.addSecret(v)
		}
	}
}

// writeBody prints a body with secret fields redacted; VertexPlay's encrypted
// request bodies are also shown decrypted (and redacted).
func (t *tracer) writeBody(b *strings.Builder, prefix, contentType string, body []byte, request bool) {
	if len(body) == 0 {
		return
	}
	fmt.Fprintf(b, "%s\n%s%s\n", strings.TrimSpace(prefix), prefix, redactBody(contentType, body))
	if request && t.vpKey != nil {
		var w struct {
			CipherText string `json:"cipherText"`
		}
		if json.Unmarshal(body, &w) == nil && w.CipherText != "" {
			if plain, err := vertexplay.Decrypt(t.vpKey, w.CipherText); err == nil {
				fmt.Fprintf(b, "%s(decrypted) %s\n", prefix, redactBody("application/json", plain))
			}
		}
	}
}

// redactBody replaces the values of secret-named fields in a JSON or form body.
func redactBody(contentType string, body []byte) string {
	s := string(body)
	re, repl := secretJSON, `${1}"REDACTED"`
	if strings.Contains(contentType, "x-www-form-urlencoded") {
		re, repl = secretForm, "${1}${2}=REDACTED"
	}
	return re.ReplaceAllStringFunc(s, func(m string) string {
		if !isSecretName(re.FindStringSubmatch(m)[2]) {
			return m
		}
		return re.ReplaceAllString(m, repl)
	})
}

// signedString is what -vv shows for a signing vendor: the exact string the
// signature was computed over (the NXCloud secret as ***), built from the
// attempt's own headers and body — the same as "authwire sign --explain".
func (t *tracer) signedString(req *http.Request, body []byte) string {
	h := func(name string) string {
		if v := req.Header[name]; len(v) > 0 {
			return v[0]
		}
		return req.Header.Get(name)
	}
	switch {
	case t.vendor == "nxcloud" && h(nxcloud.HeaderSign) != "":
		alg := firstNonEmpty(h(nxcloud.HeaderAlgorithm), string(nxcloud.MD5))
		s := nxcloud.StringToSign(nxcloud.Headers{AccessKey: h(nxcloud.HeaderAccessKey), Action: h(nxcloud.HeaderAction),
			BizType: h(nxcloud.HeaderBizType), TS: h(nxcloud.HeaderTS)}, body, "***")
		return fmt.Sprintf("* string signed with %s (secret as ***):\n*   %s\n", alg, s)
	case t.vendor == "vertexplay" && h(vertexplay.HeaderSignature) != "":
		var w struct {
			CipherText string `json:"cipherText"`
		}
		json.Unmarshal(body, &w)
		what, s := vpSignedString(t.sigVer, h(vertexplay.HeaderAgentID), h(vertexplay.HeaderTimestamp), h(vertexplay.HeaderNonce), w.CipherText, body)
		return fmt.Sprintf("* string signed with sha256 (%s):\n*   %s\n", what, s)
	}
	return ""
}

// vpSignedString is the string VertexPlay's x-signature hashes, and its recipe.
func vpSignedString(v vertexplay.SignatureVersion, agentID, ts, nonce, cipherText string, wireBody []byte) (what, s string) {
	if v == vertexplay.SignatureV1 {
		return "v1: agentId + timestamp + nonce + wire body", agentID + ts + nonce + string(wireBody)
	}
	return "v2: agentId|timestamp|nonce|cipherText", agentID + "|" + ts + "|" + nonce + "|" + cipherText
}

// onRetry is the retry policy's hook: the attempt that failed, how, and that
// another follows.
func (t *tracer) onRetry(req *http.Request, attempt int, r outcome.Result) {
	t.printf("* attempt %d: %s — retrying\n", attempt, describe(r))
}

// backoff wraps the retry schedule to say how long the wait before the next
// attempt is, before it starts.
func (t *tracer) backoff(next retryablehttp.Backoff) retryablehttp.Backoff {
	if next == nil {
		next = retryablehttp.LinearJitterBackoff
	}
	return func(lo, hi time.Duration, n int, resp *http.Response) time.Duration {
		d := next(lo, hi, n, resp)
		t.printf("* waiting %s before attempt %d\n", min(d, hi).Round(time.Millisecond), n+2)
		return d
	}
}

// onWait reports a rate-limiter wait.
func (t *tracer) onWait(d time.Duration) {
	t.printf("* the rate limiter held a request for %s (--rate)\n", d.Round(time.Millisecond))
}

// describe is an outcome in a few words: kind, status, vendor code.
func describe(r outcome.Result) string {
	s := r.Kind.String()
	if _, code := outcome.CodeOf(r.Err); code != "" {
		s += ", code " + code
	} else if r.Err != nil {
		s += ": " + oneLine(r.Err.Error())
	}
	if r.Kind == outcome.Transient || r.Kind == outcome.Unknown {
		if r.Sent {
			s += " (the request may have been processed)"
		} else {
			s += " (nothing was sent)"
		}
	}
	return s
}

func writeHeaders(b *strings.Builder, prefix string, h http.Header) {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	slices.SortFunc(names, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	for _, k := range names {
		for _, v := range h[k] {
			if !slices.Contains(shown, strings.ToLower(k)) {
				v = "REDACTED"
			}
			fmt.Fprintf(b, "%s%s: %s\n", prefix, k, v)
		}
	}
}
