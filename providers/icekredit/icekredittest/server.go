// Package icekredittest is an IceKredit simulator for tests, in the manner of
// net/http/httptest: serve a [Server] with httptest.NewServer and point a client's
// LoginURL and BaseURL at it (one server can play both hosts, or run two).
//
// It checks what the real API checks, as the vendor documents it: login with the
// merchant name and the lowercase hex MD5 of the password (form or JSON, or only
// one of them, to produce 10000415), a token_id header on every product call, a
// sliding token lifetime on an injectable clock, tokens bound to the client's IP
// (200006), the Language header, JSON bodies and each product's required fields.
// It answers in the vendor's envelopes and codes; a Content-Type other than JSON
// (or, on the login, form) gets the documented 10000415. Faults can be scripted
// ("the next 2 product calls answer 10000429", "drop the next login" unprocessed,
// "lose the next login": a token issued but never heard of) or drawn at random
// (chaos rates), in the vocabulary all the simulators share (see [Fault]), and
// counters tell tests how many logins and calls were made.
//
// Nothing it keeps grows with the number of requests served: expired tokens are
// pruned in amortised constant time (least recently used first, which under a
// sliding TTL is expiry order), live tokens are capped ([Config.MaxTokens]), the
// login log keeps the last [MaxLoginLog] logins, and the per-path counters are
// capped.
//
// Beyond the vendor's documentation the simulator insists on a Language header
// (10000400 without it) so that tests prove clients send it.
package icekredittest

import (
	"bytes"
	"cmp"
	"container/list"
	"crypto/md5"
	crand "crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"maps"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/authwire/authwire/clock"
	"github.com/authwire/authwire/internal/simfault"
)

// The test merchant the simulator accepts by default; the values are the vendor's
// own test vector.
const (
	MerchantName = "acme"
	Password     = "P@ssw0rd!"
	PasswordMD5  = "8a24367a1f46c141048752f2d5bbd14b"
)

// Paths the simulator serves.
const (
	LoginPath               = "/api/login.do"
	PathNigeriaAutoDecision = "/person-ds/credit/NigeriaAutoDecision"
)

// DefaultTokenTTL is the vendor's sliding token lifetime.
const DefaultTokenTTL = 20 * time.Minute

// DefaultMaxTokens is how many live tokens the simulator keeps by default.
const DefaultMaxTokens = 4096

// MaxLoginLog is how many logins [Server.LoginLog] remembers.
const MaxLoginLog = 1024

// Encodings says which login encodings the simulator accepts.
type Encodings int

const (
	// AcceptBoth accepts form and JSON logins (the default).
	AcceptBoth Encodings = iota
	// AcceptFormOnly answers 10000415 to a JSON login.
	AcceptFormOnly
	// AcceptJSONOnly answers 10000415 to a form login.
	AcceptJSONOnly
)

// AccountState is the merchant account's state, for the credential codes.
type AccountState int

const (
	// Active accounts log in.
	Active AccountState = iota
	// Locked accounts get 200008 after a correct password.
	Locked
	// Expired accounts get 200009 after a correct password.
	Expired
)

// ProductFunc answers one product call. req is the decoded JSON body (numbers as
// json.Number). It returns the object placed under "result", or a vendor code
// other than "00" and its message.
type ProductFunc func(req map[string]any) (result map[string]any, code, message string)

// Config configures a [Server]. The zero value simulates the test merchant.
type Config struct {
	// MerchantName and Password are the accepted login; defaults [MerchantName]
	// and [Password]. The server keeps only the password's MD5.
	MerchantName, Password string
	// TokenTTL is the sliding token lifetime; default [DefaultTokenTTL].
	TokenTTL time.Duration
	// Clock drives token expiry; nil means real time. Share a *clock.Fake with the
	// client to test expiry without waiting.
	Clock clock.Clock
	// LoginEncodings restricts the login encodings accepted; default both.
	LoginEncodings Encodings
	// Products adds (or replaces) products by path; NigeriaAutoDecision is built in.
	Products map[string]ProductFunc
	// ClientIP returns the address a request comes from, which tokens are bound
	// to; nil means the host of RemoteAddr.
	ClientIP func(*http.Request) string
	// MaxTokens bounds the live tokens kept; default [DefaultMaxTokens]. Past
	// it a login forgets the least recently used token (its next use answers
	// 200005, as an expired one), so that a login storm runs in bounded memory.
	MaxTokens int
	// Seed seeds the chaos random source; zero picks a random seed.
	Seed uint64
}

// Server is the simulator, an http.Handler safe for concurrent use. Its Inject
// method queues scripted [Fault]s, each request taking the first that matches its
// path; SetChaos sets the [Chaos] rates (the zero Chaos turns chaos off).
type Server struct {
	simfault.Controls[string]

	cfg      Config
	pwdMD5   string
	products map[string]ProductFunc

	faults *simfault.Injector[string]

	mu sync.Mutex
	// tokens index lru, which holds the live tokens least recently used first:
	// with a sliding TTL that is also expiry order, so expired tokens are
	// pruned from the front in amortised constant time.
	tokens    map[string]*list.Element
	lru       list.List
	account   AccountState
	logins    int
	processed map[string]int // product calls answered "00" per path
	loginLog  []LoginRecord
}

type token struct {
	id      string
	ip      string
	lastUse time.Time
}

// New returns a simulator configured by cfg.
func New(cfg Config) *Server {
	cfg.MerchantName = cmp.Or(cfg.MerchantName, MerchantName)
	cfg.Password = cmp.Or(cfg.Password, Password)
	cfg.TokenTTL = cmp.Or(max(cfg.TokenTTL, 0), DefaultTokenTTL)
	cfg.MaxTokens = cmp.Or(max(cfg.MaxTokens, 0), DefaultMaxTokens)
	cfg.Clock = clock.OrReal(cfg.Clock)
	if cfg.ClientIP == nil {
		cfg.ClientIP = remoteIP
	}
	sum := md5.Sum([]byte(cfg.Password))
	s := &Server{
		cfg:      cfg,
		pwdMD5:   hex.EncodeToString(sum[:]),
		products: map[string]ProductFunc{PathNigeriaAutoDecision: NigeriaAutoDecision},
		// Latency is real time whatever Config.Clock is: it exists to trip a
		// client's timeout.
		faults:    simfault.New(simfault.Config[string]{RateLimited: "10000429", Seed: cfg.Seed}),
		tokens:    make(map[string]*list.Element),
		processed: make(map[string]int),
	}
	s.cfg.Password = "" // only the hash is needed from here on
	maps.Copy(s.products, cfg.Products)
	s.Controls = s.faults.Controls()
	return s
}

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

type reply = simfault.Reply[string]

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.faults.Serve(w, r, s.answer) }

// answer computes the reply to one request; the fault injector has already
// carried out what comes before (latency, drop, a bare status).
func (s *Server) answer(r *http.Request, f Fault, body []byte, bodyErr error) reply {
	login := r.URL.Path == LoginPath
	fail := func(code, detail string) reply {
		msg := messageOf(code)
		if detail != "" {
			msg += ": " + detail
		}
		return vendorError(login, http.StatusOK, code, msg)
	}
	switch {
	case f.Code != "":
		return vendorError(login, cmp.Or(f.Status, http.StatusOK), f.Code, messageOf(f.Code))
	case bodyErr != nil:
		return fail("10000400", "body unreadable or larger than 1 MiB")
	case r.Header.Get("Language") == "":
		return fail("10000400", "Language header missing")
	case r.Method != http.MethodPost:
		return fail("10000405", r.Method)
	case login:
		return s.login(r, body, fail)
	}
	return s.service(r, body, fail)
}

type failFunc = func(code, detail string) reply

func (s *Server) login(r *http.Request, body []byte, fail failFunc) reply {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var enc string
	switch mt {
	case "application/x-www-form-urlencoded":
		enc = "form"
	case "application/json":
		enc = "json"
	}
	if enc == "" || (enc == "form" && s.cfg.LoginEncodings == AcceptJSONOnly) || (enc == "json" && s.cfg.LoginEncodings == AcceptFormOnly) {
		s.logLogin(enc, "10000415")
		return fail("10000415", mt)
	}
	rep := s.checkLogin(r, enc, body, fail)
	s.logLogin(enc, rep.Code)
	return rep
}

func (s *Server) checkLogin(r *http.Request, enc string, raw []byte, fail failFunc) reply {
	var name, pwd string
	var have [2]bool
	if enc == "form" {
		v, err := url.ParseQuery(string(raw))
		if err != nil {
			return fail("10000400", "malformed form body")
		}
		name, have[0] = first(v, "merchant_name")
		pwd, have[1] = first(v, "merchant_pwd")
	} else {
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			return fail("10000400", "malformed JSON body")
		}
		for i, k := range []string{"merchant_name", "merchant_pwd"} {
			x, ok := m[k]
			if !ok {
				continue
			}
			str, isStr := x.(string)
			if !isStr {
				return fail("20100103", k)
			}
			if i == 0 {
				name = str
			} else {
				pwd = str
			}
			have[i] = true
		}
	}
	switch {
	case !have[0] || name == "":
		return fail("20100102", "merchant_name")
	case !have[1] || pwd == "":
		return fail("20100102", "merchant_pwd")
	}
	// Constant-time on the hash, and the exact lowercase hex the vendor documents.
	okName := subtle.ConstantTimeCompare([]byte(name), []byte(s.cfg.MerchantName)) == 1
	okPwd := subtle.ConstantTimeCompare([]byte(pwd), []byte(s.pwdMD5)) == 1
	if !okName || !okPwd {
		return fail("200002", "")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch s.account {
	case Locked:
		return fail("200008", "")
	case Expired:
		return fail("200009", "")
	}
	id, now := randomHex(16), s.cfg.Clock.Now()
	s.pruneLocked(now)
	if s.lru.Len() >= s.cfg.MaxTokens {
		delete(s.tokens, s.lru.Remove(s.lru.Front()).(*token).id)
	}
	s.tokens[id] = s.lru.PushBack(&token{id: id, ip: s.cfg.ClientIP(r), lastUse: now})
	s.logins++
	return okReply(map[string]string{"response_code": "00", "response_msg": "success", "token_id": id})
}

func first(v url.Values, k string) (string, bool) {
	xs, ok := v[k]
	if !ok || len(xs) == 0 {
		return "", false
	}
	return xs[0], true
}

func (s *Server) logLogin(enc, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.loginLog) >= 2*MaxLoginLog { // amortised: one copy per MaxLoginLog logins
		s.loginLog = append(s.loginLog[:0], s.loginLog[len(s.loginLog)-MaxLoginLog+1:]...)
	}
	s.loginLog = append(s.loginLog, LoginRecord{Encoding: enc, Code: code})
}

func (s *Server) service(r *http.Request, body []byte, fail failFunc) reply {
	if code, detail := s.authenticate(r); code != "" {
		return fail(code, detail)
	}
	product, ok := s.products[r.URL.Path]
	if !ok {
		return fail("10000404", r.URL.Path)
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return fail("10000415", mt)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var req map[string]any
	if err := dec.Decode(&req); err != nil || req == nil {
		return fail("10000400", "body is not a JSON object")
	}
	if dec.More() {
		return fail("10000400", "trailing data after the JSON object")
	}
	res, code, msg := product(req)
	if code != "" && code != "00" {
		if msg == "" {
			msg = messageOf(code)
		}
		return vendorError(false, http.StatusOK, code, msg)
	}
	s.mu.Lock()
	s.processed[r.URL.Path]++
	s.mu.Unlock()
	return okReply(map[string]any{"response_code": "00", "result": res, "message": "success", "trace_id": randomHex(8)})
}

func okReply(env any) reply {
	body, err := json.Marshal(env)
	if err != nil {
		return vendorError(false, http.StatusOK, "10000001", messageOf("10000001"))
	}
	return reply{Status: http.StatusOK, Code: "00", ContentType: contentType, Body: body}
}

const contentType = "application/json;charset=UTF-8"

// authenticate checks the token_id header (looked up case-insensitively, as HTTP
// servers do; the client's spelling is tested on the client side) and slides the
// token's expiry.
func (s *Server) authenticate(r *http.Request) (code, detail string) {
	id := tokenHeader(r.Header)
	if id == "" {
		return "200005", "token_id header missing"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Clock.Now()
	s.pruneLocked(now)
	e, ok := s.tokens[id]
	if !ok {
		return "200005", "unknown, revoked or expired"
	}
	t := e.Value.(*token)
	if t.ip != s.cfg.ClientIP(r) {
		return "200006", ""
	}
	t.lastUse = now
	s.lru.MoveToBack(e)
	return "", ""
}

// pruneLocked forgets the tokens idle past the TTL: they are at the front.
func (s *Server) pruneLocked(now time.Time) {
	for e := s.lru.Front(); e != nil && now.Sub(e.Value.(*token).lastUse) >= s.cfg.TokenTTL; e = s.lru.Front() {
		delete(s.tokens, s.lru.Remove(e).(*token).id)
	}
}

// tokenHeader finds token_id under any letter case: net/http's server stores it as
// "Token_id", a handler called in process (no wire) sees the client's spelling.
func tokenHeader(h http.Header) string {
	if v := h.Get("token_id"); v != "" {
		return v
	}
	for k, v := range h {
		if strings.EqualFold(k, "token_id") && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

func vendorError(login bool, status int, code, msg string) reply {
	m := map[string]string{"response_code": code}
	if login {
		m["response_msg"] = msg
	} else {
		m["message"] = msg
		m["trace_id"] = randomHex(8)
	}
	body, _ := json.Marshal(m)
	return reply{Status: status, Code: code, ContentType: contentType, Body: body}
}

func randomHex(n int) string {
	b := make([]byte, n)
	crand.Read(b)
	return hex.EncodeToString(b)
}

// messages are the vendor's documented meanings, used as reply messages.
var messages = map[string]string{
	"02":       "authentication service error",
	"10000001": "service processing error",
	"10000429": "too frequent requests",
	"10000400": "invalid request",
	"10000401": "unauthorized",
	"10000404": "not found",
	"10000405": "method not allowed",
	"10000415": "content type not supported",
	"200002":   "invalid username or password",
	"200005":   "token_id invalid",
	"200006":   "client IP address has changed",
	"200007":   "not authorized for relevant data",
	"200008":   "account locked",
	"200009":   "account expired",
	"200010":   "authorized service not available",
	"200020":   "invalid verification code",
	"20100102": "parameters missing",
	"20100103": "parameters error",
	"20100200": "service unavailable",
	"20100201": "service not configured",
	"20100202": "balance insufficient",
	"20100300": "retrieve data error",
	"20100301": "decryption failed",
	"20100302": "unsupported encoding",
}

func messageOf(code string) string {
	if m, ok := messages[code]; ok {
		return m
	}
	return "error " + code
}
