// Package nxcloudtest is an NXCloud simulator for tests, in the manner of
// net/http/httptest: serve a [Server] with httptest.NewServer and point a client's
// BaseURL at it. The CLI serves it too (`authwire sim`).
//
// It checks what NXCloud checks, as the vendor documents it: the accessKey, ts,
// bizType, action and sign headers on every POST; the signature
// lowercase-hex(MD5 or SHA-256 of "accessKey=K&action=A&bizType=B&ts=T[&body=BODY]&accessSecret=S")
// over the body exactly as received (left out when empty or multipart), with the
// algorithm header choosing SHA-256; a ts within ±60 s of its (injectable, offsettable)
// clock; the bizType and action of each path; and each operation's parameters. The
// signature is computed here independently of package nxcloud, so the two check
// each other. It answers in the vendor's envelopes ({"code","message","data"} for
// WhatsApp, {"code","msg","data"} for OTA) and codes.
//
// It checks the Content-Type the vendor asks for: application/json (or
// multipart/form-data, the vendor's upload encoding, whose body the signature
// leaves out). NXCloud documents no answer to another one; the simulator answers
// the path's parameter error (9000, or 9901 for OTA) in an HTTP 200 after
// authentication, the vendor's
// way of reporting a bad request, rather than a 4xx a client would take for a
// transient gateway error.
//
// Faults can be scripted ("the next 3 requests answer 2206", "lose the answer to
// the next getCode": processed, then the connection dropped) or drawn at random
// (chaos rates), in the vocabulary all the simulators share (see [Fault]), and
// counters tell tests what was received and done: codes sent per phone number,
// logins, inits. Nothing it keeps grows with the number of requests served: it
// stores no tokens, and its per-path and per-number counters are capped.
//
// NXCloud's error table (its PNS API error codes page) names the authentication
// codes; the simulator answers them as follows (the algorithm case is inferred):
//
//	1001  a required header is missing or repeated (missing public parameters)
//	1002  the algorithm is not md5 or sha256 (a header parameter error)
//	1003  the sign does not match (invalid signature)
//	1004  the ts is malformed or outside the ±60 s window (timestamp expired)
//	1005  the accessKey is unknown (insufficient permissions)
package nxcloudtest

import (
	"cmp"
	"crypto/md5"
	crand "crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"hash"
	"io"
	"mime"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authwire/authwire/clock"
	"github.com/authwire/authwire/internal/simfault"
)

// The test account the simulator accepts by default; the values are the vendor's
// own test vector.
const (
	AccessKey    = "fme2na3kdi3ki"
	AccessSecret = "abc123"
	// AppKey is the OTA application the simulator knows by default.
	AppKey = "sim-ota-app"
)

// Paths the simulator serves.
const (
	PathLogin   = "/api/wa/integrator/embedded/register/login"
	PathGetCode = "/api/wa/integrator/embedded/register/getCode"
	PathOTAInit = "/api/ota/init"
)

// Codes the simulator answers.
const (
	CodeSuccess       = 0
	CodeMissingHeader = 1001
	CodeBadAlgorithm  = 1002
	CodeBadSign       = 1003
	CodeBadTS         = 1004
	CodeBadAccessKey  = 1005
	CodeRateLimited   = 2206
	CodeParam         = 9000 // WhatsApp
	CodeSystem        = 9001 // WhatsApp
	CodeOTAParam      = 9901
	CodeOTASystem     = 99
	CodeAppUnknown    = 9906
)

// DefaultWindow is the ts tolerance: ±60 s.
const DefaultWindow = 60 * time.Second

// Config configures a [Server]. The zero value simulates the test account.
type Config struct {
	// AccessKey and AccessSecret are the accepted key pair; defaults [AccessKey]
	// and [AccessSecret].
	AccessKey, AccessSecret string
	// Clock is the server's clock for the ts window; nil means real time. Share a
	// *clock.Fake with the client to move both together.
	Clock clock.Clock
	// Window is the ts tolerance; default [DefaultWindow].
	Window time.Duration
	// AppKeys are the OTA applications that exist; default [AppKey].
	AppKeys []string
	// Seed seeds the chaos random source; zero picks a random seed.
	Seed uint64
}

// Server is the simulator, an http.Handler safe for concurrent use. Its Inject
// method queues scripted [Fault]s, each request taking the first that matches its
// path; SetChaos sets the [Chaos] rates (the zero Chaos turns chaos off).
type Server struct {
	simfault.Controls[int]

	cfg     Config
	appKeys map[string]bool
	offset  atomic.Int64 // ns added to the clock
	faults  *simfault.Injector[int]

	mu    sync.Mutex
	stats Stats // the simulator's own counters; the fault injector keeps the rest
}

// New returns a simulator configured by cfg.
func New(cfg Config) *Server {
	cfg.AccessKey = cmp.Or(cfg.AccessKey, AccessKey)
	cfg.AccessSecret = cmp.Or(cfg.AccessSecret, AccessSecret)
	cfg.Window = cmp.Or(max(cfg.Window, 0), DefaultWindow)
	if len(cfg.AppKeys) == 0 {
		cfg.AppKeys = []string{AppKey}
	}
	cfg.Clock = clock.OrReal(cfg.Clock)
	s := &Server{
		cfg:     cfg,
		appKeys: make(map[string]bool),
		// Latency is real time whatever Config.Clock is: it exists to trip a
		// client's timeout.
		faults: simfault.New(simfault.Config[int]{RateLimited: CodeRateLimited, Seed: cfg.Seed}),
		stats:  Stats{CodesSent: make(map[string]int)},
	}
	for _, k := range cfg.AppKeys {
		s.appKeys[k] = true
	}
	s.Controls = s.faults.Controls()
	return s
}

// SetClockOffset moves the server's clock by d relative to Config.Clock, as if the
// client's clock were off by -d.
func (s *Server) SetClockOffset(d time.Duration) { s.offset.Store(int64(d)) }

func (s *Server) now() time.Time {
	return s.cfg.Clock.Now().Add(time.Duration(s.offset.Load()))
}

// route is one operation: its signed bizType and action, its envelope and its
// handler.
type route struct {
	bizType, action string
	ota             bool // OTA envelope ("msg") and codes
	handle          func(s *Server, rt route, r *http.Request, body []byte) reply
}

var routes = map[string]route{
	PathLogin:   {bizType: "2", action: "login", handle: (*Server).login},
	PathGetCode: {bizType: "2", action: "getCode", handle: (*Server).getCode},
	PathOTAInit: {bizType: "6", action: "init", ota: true, handle: (*Server).otaInit},
}

func (rt route) paramCode() int {
	if rt.ota {
		return CodeOTAParam
	}
	return CodeParam
}

type reply = simfault.Reply[int]

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.faults.Serve(w, r, s.answer) }

// answer computes the reply to one request; the fault injector has already
// carried out what comes before (latency, drop, a bare status).
func (s *Server) answer(r *http.Request, f Fault, body []byte, bodyErr error) reply {
	rt, known := routes[r.URL.Path]
	switch {
	case !known:
		return simfault.Plain[int](http.StatusNotFound)
	case r.Method != http.MethodPost:
		return simfault.Plain[int](http.StatusMethodNotAllowed)
	case bodyErr != nil:
		return rt.fail(rt.paramCode(), "request body unreadable or larger than 1 MiB")
	}
	// Authentication comes first, as in the vendor's gateway; the media type
	// matters only to the operation that reads the body.
	if rep := s.authenticate(r, rt, body); rep.Code != 0 {
		return rep
	}
	if mt := mediaType(r.Header); mt != "application/json" && mt != "multipart/form-data" {
		return rt.fail(rt.paramCode(), "Content-Type must be application/json (or multipart/form-data for an upload), not "+strconv.Quote(mt))
	}
	if f.Code != 0 {
		// Answered after authentication, so a storm of them proves every
		// retry was freshly and correctly signed; nothing is processed.
		rep := rt.fail(f.Code, messageOf(f.Code))
		if f.Status != 0 {
			rep.Status = f.Status
		}
		return rep
	}
	return rt.handle(s, rt, r, body)
}

func mediaType(h http.Header) string {
	mt, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	return mt
}

// envelope is the reply in the path's envelope.
func (rt route) envelope(status, code int, msg string, data any) reply {
	env := map[string]any{"code": code}
	if rt.ota {
		env["msg"] = msg
	} else {
		env["message"] = msg
	}
	if data != nil {
		env["data"] = data
	}
	b, _ := json.Marshal(env)
	return reply{Status: status, Code: code, ContentType: "application/json;charset=UTF-8", Body: b}
}

func (rt route) fail(code int, msg string) reply {
	return rt.envelope(http.StatusOK, code, msg, nil)
}

func (rt route) ok(data any) reply {
	return rt.envelope(http.StatusOK, CodeSuccess, "success", data)
}

// authenticate checks the vendor's signature rules; a zero code means the request
// is authentic and its bizType and action fit the path.
func (s *Server) authenticate(r *http.Request, rt route, body []byte) reply {
	h := map[string]string{}
	for _, name := range []string{"accessKey", "ts", "bizType", "action", "sign"} {
		v := values(r.Header, name)
		if len(v) != 1 || v[0] == "" {
			return rt.fail(CodeMissingHeader, "header "+name+" is missing or repeated")
		}
		h[name] = v[0]
	}
	var hh hash.Hash
	switch alg := values(r.Header, "algorithm"); {
	case len(alg) == 0 || len(alg) == 1 && strings.EqualFold(alg[0], "md5"):
		hh = md5.New()
	case len(alg) == 1 && strings.EqualFold(alg[0], "sha256"):
		hh = sha256.New()
	default:
		return rt.fail(CodeBadAlgorithm, "algorithm must be md5 or sha256")
	}
	if subtle.ConstantTimeCompare([]byte(h["accessKey"]), []byte(s.cfg.AccessKey)) != 1 {
		return rt.fail(CodeBadAccessKey, "accessKey does not exist")
	}
	ts := h["ts"]
	ms, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(ts) != 13 || ms < 0 {
		return rt.fail(CodeBadTS, "ts must be 13-digit Unix milliseconds")
	}
	if d := s.now().Sub(time.UnixMilli(ms)); d > s.cfg.Window || d < -s.cfg.Window {
		return rt.fail(CodeBadTS, "ts is outside the ±60 s window around server time (off by "+d.Round(time.Second).String()+")")
	}
	// The string to sign, built from the values as received.
	io.WriteString(hh, "accessKey="+h["accessKey"]+"&action="+h["action"]+"&bizType="+h["bizType"]+"&ts="+ts)
	if len(body) > 0 && mediaType(r.Header) != "multipart/form-data" {
		io.WriteString(hh, "&body=")
		hh.Write(body)
	}
	io.WriteString(hh, "&accessSecret="+s.cfg.AccessSecret)
	want := hex.EncodeToString(hh.Sum(nil))
	if subtle.ConstantTimeCompare([]byte(h["sign"]), []byte(want)) != 1 {
		return rt.fail(CodeBadSign, "sign does not match")
	}
	if h["bizType"] != rt.bizType || h["action"] != rt.action {
		return rt.fail(rt.paramCode(), "bizType/action do not match this API (want "+rt.bizType+"/"+rt.action+")")
	}
	return reply{}
}

// values returns a header's values whatever the spelling of its name: net/http's
// server canonicalises names ("Accesskey"), a handler called directly may not.
func values(h http.Header, name string) []string {
	v := h[name]
	if c := http.CanonicalHeaderKey(name); c != name {
		v = append(v[:len(v):len(v)], h[c]...)
	}
	return v
}

func (s *Server) login(rt route, _ *http.Request, _ []byte) reply {
	tok := "sim-wa-" + randomHex(16)
	s.count(func(st *Stats) { st.Logins++ })
	return rt.ok(map[string]string{"token": tok})
}

func (s *Server) getCode(rt route, _ *http.Request, body []byte) reply {
	var req map[string]any
	if err := json.Unmarshal(body, &req); err != nil {
		return rt.fail(CodeParam, "parameter exception: body is not a JSON object")
	}
	phone, _ := req["phone_number"].(string)
	if phone == "" {
		return rt.fail(CodeParam, "parameter exception: phone_number")
	}
	method, _ := req["method"].(string)
	if method != "sms" && method != "voice" {
		return rt.fail(CodeParam, "parameter exception: method must be sms or voice")
	}
	s.count(func(st *Stats) { simfault.Tally(st.CodesSent, phone) })
	return rt.ok(struct{}{})
}

func (s *Server) otaInit(rt route, r *http.Request, body []byte) reply {
	var req map[string]any
	if err := json.Unmarshal(body, &req); err != nil {
		return rt.fail(CodeOTAParam, "parameter error: body is not a JSON object")
	}
	var v [3]string
	for i, k := range []string{"appkey", "phone", "userIp"} {
		if v[i], _ = req[k].(string); v[i] == "" {
			return rt.fail(CodeOTAParam, "parameter missing: "+k)
		}
	}
	if _, err := netip.ParseAddr(v[2]); err != nil {
		return rt.fail(CodeOTAParam, "parameter error: userIp")
	}
	if !s.appKeys[v[0]] {
		return rt.fail(CodeAppUnknown, "application does not exist or is disabled")
	}
	id := randomHex(16)
	s.count(func(st *Stats) { st.Inits++ })
	link := (&url.URL{Scheme: "http", Host: r.Host, Path: "/ota/verify", RawQuery: "requestId=" + id}).String()
	return rt.ok(map[string]string{"requestId": id, "url": link})
}

func randomHex(n int) string {
	b := make([]byte, n)
	crand.Read(b)
	return hex.EncodeToString(b)
}

var messages = map[int]string{
	-1:   "request failed",
	88:   "request failed",
	99:   "system error",
	1000: "authentication failed",
	2205: "message record does not exist",
	2206: "request is too frequent",
	9000: "parameter exception",
	9001: "system business error",
	9007: "not an integrator account",
	9901: "parameter error or missing",
	9906: "application does not exist or is disabled",
	9907: "application has no quotation",
	9908: "insufficient account balance",
}

func messageOf(code int) string {
	if m, ok := messages[code]; ok {
		return m
	}
	if code >= 1000 && code <= 1009 {
		return "authentication failed"
	}
	return "error"
}
