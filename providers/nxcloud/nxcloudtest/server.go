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
// Faults can be scripted ("the next 3 requests answer 2206", "drop the connection
// after processing the next getCode") or drawn at random (chaos rates), and
// counters tell tests what was received and done: codes sent per phone number,
// logins, inits.
//
// NXCloud documents its authentication failures only as "1000~100X". Which code
// means what is inferred; the simulator answers:
//
//	1000  a required header is missing or repeated
//	1001  the accessKey is unknown
//	1002  the ts is malformed or outside the ±60 s window
//	1003  the sign does not match
//	1004  the algorithm is not md5 or sha256
package nxcloudtest

import (
	"crypto/md5"
	crand "crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"hash"
	"io"
	"math/rand/v2"
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
	CodeMissingHeader = 1000
	CodeBadAccessKey  = 1001
	CodeBadTS         = 1002
	CodeBadSign       = 1003
	CodeBadAlgorithm  = 1004
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

// Server is the simulator, an http.Handler safe for concurrent use.
type Server struct {
	cfg     Config
	appKeys map[string]bool
	offset  atomic.Int64 // ns added to the clock

	mu     sync.Mutex
	faults []Fault
	chaos  Chaos
	rng    *rand.Rand
	stats  Stats
}

// New returns a simulator configured by cfg.
func New(cfg Config) *Server {
	if cfg.AccessKey == "" {
		cfg.AccessKey = AccessKey
	}
	if cfg.AccessSecret == "" {
		cfg.AccessSecret = AccessSecret
	}
	if cfg.Window <= 0 {
		cfg.Window = DefaultWindow
	}
	if len(cfg.AppKeys) == 0 {
		cfg.AppKeys = []string{AppKey}
	}
	cfg.Clock = clock.OrReal(cfg.Clock)
	seed := cfg.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	s := &Server{
		cfg:     cfg,
		appKeys: make(map[string]bool),
		rng:     rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
	}
	for _, k := range cfg.AppKeys {
		s.appKeys[k] = true
	}
	s.stats.init()
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

// reply is an answer computed before anything is written, so that a fault can
// still drop the connection instead.
type reply struct {
	status int
	code   int
	msg    string
	data   any
	bare   bool // a plain-text HTTP error, no envelope
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	rt, known := routes[r.URL.Path]
	f := s.begin(r.URL.Path)
	if f.Latency > 0 {
		t := time.NewTimer(f.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	var rep reply
	switch {
	case f.Status != 0 && f.Code == 0:
		rep = reply{status: f.Status, bare: true}
	case !known:
		rep = reply{status: http.StatusNotFound, bare: true}
	case r.Method != http.MethodPost:
		rep = reply{status: http.StatusMethodNotAllowed, bare: true}
	default:
		body, err := io.ReadAll(r.Body)
		if err != nil {
			rep = rt.fail(rt.paramCode(), "request body unreadable or too large")
			break
		}
		if rep = s.authenticate(r, rt, body); rep.code != 0 {
			break
		}
		if f.Code != 0 {
			// Answered after authentication, so a storm of them proves every
			// retry was freshly and correctly signed; nothing is processed.
			rep = rt.fail(f.Code, messageOf(f.Code))
			if f.Status != 0 {
				rep.status = f.Status
			}
			break
		}
		rep = rt.handle(s, rt, r, body)
	}
	if f.Drop {
		s.count(func(st *Stats) { st.Dropped++ })
		drop(w)
		return
	}
	s.write(w, rt, rep)
}

func (s *Server) write(w http.ResponseWriter, rt route, rep reply) {
	if rep.bare {
		s.count(func(st *Stats) { st.HTTPErrors++ })
		http.Error(w, http.StatusText(rep.status), rep.status)
		return
	}
	s.count(func(st *Stats) { st.Codes[rep.code]++ })
	env := map[string]any{"code": rep.code}
	if rt.ota {
		env["msg"] = rep.msg
	} else {
		env["message"] = rep.msg
	}
	if rep.data != nil {
		env["data"] = rep.data
	}
	b, _ := json.Marshal(env)
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(rep.status)
	w.Write(b)
}

func (rt route) fail(code int, msg string) reply {
	return reply{status: http.StatusOK, code: code, msg: msg}
}

func ok(data any) reply {
	return reply{status: http.StatusOK, code: CodeSuccess, msg: "success", data: data}
}

// drop closes the connection without an answer: the client sees EOF after sending.
func drop(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler) // net/http's way to abort a reply; not logged
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
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); len(body) > 0 && mt != "multipart/form-data" {
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

func (s *Server) login(_ route, _ *http.Request, _ []byte) reply {
	tok := "sim-wa-" + randomHex(16)
	s.count(func(st *Stats) { st.Logins++ })
	return ok(map[string]string{"token": tok})
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
	s.count(func(st *Stats) { st.CodesSent[phone]++ })
	return ok(struct{}{})
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
	return ok(map[string]string{"requestId": id, "url": link})
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
