// Package vertexplaytest is a VertexPlay simulator for tests, in the spirit of
// net/http/httptest: [New] returns an http.Handler to serve with
// httptest.NewServer, speaking the vendor's protocol strictly enough that a
// client which passes against it is right, and letting the test break it on
// purpose.
//
// It decrypts and verifies every request the way the vendor's documentation
// says: the agent, the timestamp window, the nonce format and replay, the
// signature (v2 by default, v1 or both configurable) and the AES-256-GCM
// cipherText; a tampered byte is refused with code 83 (signature) or 84
// (decryption). Its crypto is written here independently of package vertexplay,
// so the two check each other. /v2/auth issues HS256 JWTs that expire on the
// simulator's clock and can all be revoked at once. Players and transfers are
// kept in memory; a repeated transId answers code 3, so a test can prove that no
// transfer was sent twice.
//
// Faults are injected scripted ([Server.Inject]: the next N matching requests
// answer a code, an HTTP status, a dropped connection, a lost response, latency)
// or at random ([Server.SetChaos]) for chaos tests. Everything is safe for
// concurrent use, and malformed input gets a vendor error, never a panic.
//
// Choices the vendor does not document (marked "sim" in the code constants):
// the timestamp window (5 minutes either side), replay and malformed-header
// answers (83), malformed bodies (11), a wrong Secret KEY (10), player not found
// (4), player exists (5), transaction not found (6), an unknown path (HTTP 404,
// code 11), a method other than POST (HTTP 405, code 11) and, on an authentic
// request, a Content-Type other than application/json in UTF-8 (HTTP 415, code
// 11). Transfers credit a positive amount and debit a negative one; amounts are
// exact decimals.
//
// Faults use the vocabulary all the simulators share (see [Fault]): Drop is not
// processed, Lose is processed and its answer lost.
//
// Nothing it keeps grows with the number of requests served: the replay check
// forgets a nonce once its timestamp leaves the window, in amortised constant
// time, and remembers at most [Config.ReplayMemory] of them; tokens are
// forgotten as they expire and capped ([Config.MaxTokens]); transactions are
// capped ([Config.MaxTransactions]); the per-path counters are capped. Players
// are the test's own data and are kept.
package vertexplaytest

import (
	"cmp"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/authwire/authwire/clock"
	"github.com/authwire/authwire/internal/simfault"
	"github.com/authwire/authwire/providers/vertexplay"
)

// The test credentials: the spec's vector values. Clients built from
// [Server.Credentials] use them.
const (
	AgentID   = "integratorNBTest01"
	APIKey    = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
	SecretKey = "examplesecret=="
)

// Codes the simulator answers that the vendor does not pin down.
const (
	CodePlayerNotFound      = 4 // sim
	CodePlayerExists        = 5 // sim
	CodeTransactionNotFound = 6 // sim
)

// DefaultTimestampWindow is how far x-timestamp may be from the simulator's
// clock, either way (inferred: the vendor documents a window but not its size).
const DefaultTimestampWindow = 5 * time.Minute

// Defaults of the simulator's memory bounds (see [Config]).
const (
	DefaultReplayMemory    = 1 << 15
	DefaultMaxTokens       = 4096
	DefaultMaxTransactions = 1 << 14
)

// Config configures a [Server]. The zero value serves the constants above with
// v2 signatures, a 5-minute timestamp window and one-hour tokens.
type Config struct {
	// AgentID, APIKey and SecretKey are the one agent the simulator knows;
	// empty means the package constants.
	AgentID, APIKey, SecretKey string
	// DeriveKey turns APIKey into the AES key; nil means hex-decode.
	DeriveKey vertexplay.KeyDerivation
	// Signatures are the accepted signature versions; nil means v2 only.
	Signatures []vertexplay.SignatureVersion
	// TimestampWindow is the accepted |x-timestamp − now|; zero means
	// [DefaultTimestampWindow].
	TimestampWindow time.Duration
	// TokenLifetime is a token's real life (its JWT exp − iat); zero means 1 h.
	TokenLifetime time.Duration
	// ExpiresIn is the lifetime /v2/auth states in expiresIn; zero means
	// TokenLifetime. Set it longer than TokenLifetime to test that a client
	// trusts the JWT's exp when it is the smaller.
	ExpiresIn time.Duration
	// RejectWithHTTP401 answers a missing, bad, expired or revoked token with
	// HTTP 401 instead of code 12 in an HTTP 200.
	RejectWithHTTP401 bool
	// Clock is the simulator's time (token expiry, the timestamp window,
	// latency); nil means the wall clock.
	Clock clock.Clock
	// Chaos are the initial probabilistic faults; see [Server.SetChaos].
	Chaos Chaos
	// Seed seeds the random faults; zero means a random seed.
	Seed uint64
	// Games is the /v2/games list; nil means three sample games.
	Games []Game

	// ReplayMemory bounds the nonces remembered for the replay check; zero
	// means [DefaultReplayMemory]. A nonce is remembered while its timestamp
	// is inside the window. Past the bound the oldest is forgotten early, and
	// requests whose x-timestamp is not newer than the forgotten one's are
	// refused (83) as possible replays: the check never lets a replay through,
	// and costs constant time and memory however many requests are served. At
	// the default a request may be in flight for ReplayMemory ÷ (requests/s)
	// seconds, 6 s at 5,000 requests/s; on a fake clock that never moves, at
	// most ReplayMemory requests are accepted.
	ReplayMemory int
	// MaxTokens bounds the live tokens; zero means [DefaultMaxTokens]. Past it
	// a login revokes the oldest token (its next use answers 12). Expired
	// tokens are forgotten as they expire.
	MaxTokens int
	// MaxTransactions bounds the transfers remembered (for code 3 on a
	// repeated transId, CheckTransaction and [Server.TransferRequests]); zero
	// means [DefaultMaxTransactions]. Past it the oldest transId is forgotten:
	// CheckTransaction answers 6 for it, and a transfer re-sent with it would be
	// performed again.
	MaxTransactions int
}

// Game is one entry of the simulator's game list.
type Game struct {
	GameID string `json:"gameId"`
	Name   string `json:"name"`
	Type   string `json:"type"`
}

// Server is the simulator. Create it with [New]. Its Inject method queues
// scripted [Fault]s, each request taking the first that matches its path;
// SetChaos replaces the [Chaos] rates (Chaos{} turns them off).
type Server struct {
	simfault.Controls[int]

	cfg    Config
	key    []byte // AES key
	jwtKey []byte
	clock  clock.Clock
	faults *simfault.Injector[int]

	mu         sync.Mutex
	nonces     *window[[16]byte] // used nonces, until their timestamp leaves the window
	nonceFloor int64             // Unix ms: the latest timestamp+window of a nonce forgotten early
	tokens     *window[string]   // live jti, until exp
	players    map[string]*player
	txns       map[string]*txn
	txnReqs    map[string]int  // transId → transfer requests that named it
	txnOrder   *window[string] // the transIds in txnReqs, oldest first
	hold       int             // transfers still to record as pending
	logins     int
	transfers  int
}

// New returns a simulator configured by cfg.
func New(cfg Config) *Server {
	cfg.AgentID = cmp.Or(cfg.AgentID, AgentID)
	cfg.APIKey = cmp.Or(cfg.APIKey, APIKey)
	cfg.SecretKey = cmp.Or(cfg.SecretKey, SecretKey)
	if len(cfg.Signatures) == 0 {
		cfg.Signatures = []vertexplay.SignatureVersion{vertexplay.SignatureV2}
	}
	cfg.TimestampWindow = cmp.Or(max(cfg.TimestampWindow, 0), DefaultTimestampWindow)
	cfg.TokenLifetime = cmp.Or(max(cfg.TokenLifetime, 0), time.Hour)
	cfg.ExpiresIn = cmp.Or(max(cfg.ExpiresIn, 0), cfg.TokenLifetime)
	if cfg.Games == nil {
		cfg.Games = []Game{{"1001", "Fortune Dragon", "slot"}, {"1002", "Lucky Baccarat", "table"}, {"1003", "Crash Rocket", "crash"}}
	}
	cfg.ReplayMemory = cmp.Or(max(cfg.ReplayMemory, 0), DefaultReplayMemory)
	cfg.MaxTokens = cmp.Or(max(cfg.MaxTokens, 0), DefaultMaxTokens)
	cfg.MaxTransactions = cmp.Or(max(cfg.MaxTransactions, 0), DefaultMaxTransactions)
	var key []byte
	if cfg.DeriveKey != nil {
		key, _ = cfg.DeriveKey(cfg.APIKey)
	} else {
		key, _ = hex.DecodeString(cfg.APIKey)
	}
	jwtKey := make([]byte, 32)
	rand.Read(jwtKey)
	clk := clock.OrReal(cfg.Clock)
	s := &Server{
		cfg:      cfg,
		key:      key, // a bad key answers every request 84
		jwtKey:   jwtKey,
		clock:    clk,
		faults:   simfault.New(simfault.Config[int]{RateLimited: vertexplay.CodeTooManyRequests, Clock: clk, Seed: cfg.Seed, Chaos: cfg.Chaos}),
		nonces:   newWindow[[16]byte](cfg.ReplayMemory),
		tokens:   newWindow[string](cfg.MaxTokens),
		players:  make(map[string]*player),
		txns:     make(map[string]*txn),
		txnReqs:  make(map[string]int),
		txnOrder: newWindow[string](cfg.MaxTransactions),
	}
	s.Controls = s.faults.Controls()
	return s
}

// Credentials returns client credentials for the simulator's agent.
func (s *Server) Credentials() vertexplay.Credentials {
	c, err := vertexplay.NewCredentials(s.cfg.AgentID, s.cfg.APIKey, s.cfg.SecretKey)
	if err != nil {
		return vertexplay.Credentials{AgentID: s.cfg.AgentID} // New refuses it with a clear error
	}
	return c
}

// RevokeAll revokes every token issued so far: their next use answers code 12
// (or HTTP 401).
func (s *Server) RevokeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens.reset()
}

// Stats counts what the simulator saw and did.
type Stats struct {
	// Requests counts every request that arrived, per path (paths past the
	// first 1,024 under "").
	Requests map[string]int
	// Logins counts tokens issued by /v2/auth.
	Logins int
	// Codes counts the vendor codes answered (0 included).
	Codes map[int]int
	// Transfers counts transfers performed (money moved), pending ones included.
	Transfers int
	// Faults counts requests that drew a scripted or chaos fault.
	Faults int
	// Dropped counts connections closed without an answer (drops and lost
	// responses).
	Dropped int
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	c := s.faults.Counts()
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{Requests: c.Requests, Logins: s.logins, Codes: c.Codes, Transfers: s.transfers, Faults: c.Faults, Dropped: c.Dropped}
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.faults.Serve(w, r, s.answer) }

// answer computes the reply to one request; the fault injector has already
// carried out what comes before (latency, drop, a bare status).
func (s *Server) answer(r *http.Request, f Fault, body []byte, bodyErr error) reply {
	path := r.URL.Path
	switch {
	case f.Code != 0:
		return envelope(cmp.Or(f.Status, http.StatusOK), f.Code, "", nil)
	case !routes[path]:
		return envelope(http.StatusNotFound, vertexplay.CodeParameters, "unknown endpoint", nil)
	case r.Method != http.MethodPost:
		return envelope(http.StatusMethodNotAllowed, vertexplay.CodeParameters, "method not allowed: use POST", nil)
	case bodyErr != nil:
		return envelope(http.StatusOK, vertexplay.CodeParameters, "parameters error: body unreadable or larger than 1 MiB", nil)
	}
	res := s.serve(r, body)
	return envelope(res.status, res.code, res.msg, res.data)
}

// isJSONUTF8 reports whether a Content-Type is application/json in UTF-8 (the
// charset parameter is optional: JSON is UTF-8 by default).
func isJSONUTF8(ct string) bool {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return false
	}
	cs, ok := params["charset"]
	return !ok || strings.EqualFold(cs, "utf-8")
}

// result is one answer.
type result struct {
	status int
	code   int
	msg    string
	data   any
}

func answer(code int, msg string) result { return result{status: http.StatusOK, code: code, msg: msg} }

func ok(data any) result { return result{status: http.StatusOK, data: data} }

var routes = map[string]bool{
	vertexplay.AuthPath:             true,
	vertexplay.PathCreatePlayer:     true,
	vertexplay.PathBalance:          true,
	vertexplay.PathTransfer:         true,
	vertexplay.PathCheckTransaction: true,
	vertexplay.PathGames:            true,
}

func (s *Server) serve(r *http.Request, buf []byte) result {
	plain, res, okv := s.verify(r, buf)
	if !okv {
		return res
	}
	// Checked once the request is authentic, as NXCloud's simulator does: the
	// vendor documents no answer, so this is the parameters error in an HTTP
	// 415.
	if !isJSONUTF8(r.Header.Get("Content-Type")) {
		return result{status: http.StatusUnsupportedMediaType, code: vertexplay.CodeParameters, msg: "parameters error: Content-Type must be application/json (UTF-8)"}
	}
	path := r.URL.Path
	if path == vertexplay.AuthPath {
		return s.auth(r, plain)
	}
	if res, okt := s.checkToken(r); !okt {
		return res
	}
	switch path {
	case vertexplay.PathCreatePlayer:
		return s.createPlayer(plain)
	case vertexplay.PathBalance:
		return s.balance(plain)
	case vertexplay.PathTransfer:
		return s.transfer(plain)
	case vertexplay.PathCheckTransaction:
		return s.check(plain)
	case vertexplay.PathGames:
		return ok(s.cfg.Games)
	}
	return answer(vertexplay.CodeParameters, "unknown endpoint")
}

// verify checks a request exactly as the vendor documents: agent, timestamp
// window, nonce, signature, replay, then decryption. It returns the plaintext
// or the vendor's answer.
func (s *Server) verify(r *http.Request, body []byte) ([]byte, result, bool) {
	agent := r.Header.Get(vertexplay.HeaderAgentID)
	if agent != s.cfg.AgentID {
		return nil, answer(vertexplay.CodeAgentNotFound, "agent not found or blocked"), false
	}
	tsStr := r.Header.Get(vertexplay.HeaderTimestamp)
	ts, err := strconv.ParseInt(tsStr, 10, 64)
	if err != nil {
		return nil, answer(vertexplay.CodeSignatureFailed, "signature verification failed: bad x-timestamp"), false
	}
	now := s.clock.Now()
	if d := now.Sub(time.UnixMilli(ts)); d > s.cfg.TimestampWindow || d < -s.cfg.TimestampWindow {
		return nil, answer(vertexplay.CodeSignatureFailed, "signature verification failed: x-timestamp outside the window"), false
	}
	nonce := r.Header.Get(vertexplay.HeaderNonce)
	var nonceKey [16]byte
	if !isLowerHex(nonce, 32) { // checked first: it bounds what hex.Decode writes
		return nil, answer(vertexplay.CodeSignatureFailed, "signature verification failed: bad x-nonce"), false
	}
	if _, err := hex.Decode(nonceKey[:], []byte(nonce)); err != nil {
		return nil, answer(vertexplay.CodeSignatureFailed, "signature verification failed: bad x-nonce"), false
	}
	var wire struct {
		CipherText *string `json:"cipherText"`
	}
	if err := json.Unmarshal(body, &wire); err != nil || wire.CipherText == nil {
		return nil, answer(vertexplay.CodeParameters, "parameters error: body must be {\"cipherText\":\"…\"}"), false
	}
	ct := *wire.CipherText
	sig := r.Header.Get(vertexplay.HeaderSignature)
	valid := false
	for _, v := range s.cfg.Signatures {
		if hmac.Equal([]byte(sig), []byte(signature(v, agent, tsStr, nonce, ct, body))) {
			valid = true
		}
	}
	if !valid {
		return nil, answer(vertexplay.CodeSignatureFailed, "signature verification failed"), false
	}
	// A nonce counts as used once its signature is valid: replaying a captured
	// request inside the window is refused.
	if res, fresh := s.useNonce(nonceKey, ts, now); !fresh {
		return nil, res, false
	}
	plain, err := decrypt(s.key, ct)
	if err != nil {
		return nil, answer(vertexplay.CodeEncryptionFailed, "encryption failed"), false
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(plain, &obj); err != nil {
		return nil, answer(vertexplay.CodeParameters, "parameters error: plaintext is not a JSON object"), false
	}
	return plain, result{}, true
}

// useNonce records a nonce as used, or refuses a replay. A nonce needs
// remembering only while its timestamp is inside the window: a replay after that
// fails the timestamp check.
func (s *Server) useNonce(nonce [16]byte, ts int64, now time.Time) (result, bool) {
	expires := ts + s.cfg.TimestampWindow.Milliseconds()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nonces.prune(now.UnixMilli())
	switch {
	case s.nonces.has(nonce):
		return answer(vertexplay.CodeSignatureFailed, "signature verification failed: nonce already used"), false
	case expires <= s.nonceFloor:
		return answer(vertexplay.CodeSignatureFailed, "signature verification failed: x-timestamp older than the replay memory"), false
	}
	if old, full := s.nonces.add(nonce, expires); full {
		s.nonceFloor = max(s.nonceFloor, old.expires)
	}
	return result{}, true
}

func (s *Server) auth(r *http.Request, plain []byte) result {
	var p struct {
		AgentID string `json:"agentId"`
		Secret  string `json:"secret"`
	}
	if err := json.Unmarshal(plain, &p); err != nil {
		return answer(vertexplay.CodeParameters, "parameters error")
	}
	if p.AgentID != s.cfg.AgentID || !hmac.Equal([]byte(p.Secret), []byte(s.cfg.SecretKey)) {
		return answer(vertexplay.CodeAgentNotFound, "agent not found or blocked")
	}
	now := s.clock.Now()
	jti := make([]byte, 16)
	rand.Read(jti)
	claims := map[string]any{
		"agentId": p.AgentID,
		"iat":     now.Unix(),
		"exp":     now.Add(s.cfg.TokenLifetime).Unix(),
		"jti":     hex.EncodeToString(jti),
	}
	tok := s.signJWT(claims)
	s.mu.Lock()
	s.tokens.prune(now.UnixMilli())
	s.tokens.add(claims["jti"].(string), now.Add(s.cfg.TokenLifetime).UnixMilli())
	s.logins++
	s.mu.Unlock()
	return ok(map[string]any{
		"accessToken": tok,
		"expiresIn":   int64(s.cfg.ExpiresIn / time.Second),
		"tokenType":   "Bearer",
	})
}

var jwtHeader = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))

func (s *Server) signJWT(claims map[string]any) string {
	p, _ := json.Marshal(claims)
	signing := jwtHeader + "." + base64.RawURLEncoding.EncodeToString(p)
	m := hmac.New(sha256.New, s.jwtKey)
	m.Write([]byte(signing))
	return signing + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkToken verifies the Bearer JWT: signature, expiry on the simulator's
// clock, agent, and that it was not revoked.
func (s *Server) checkToken(r *http.Request) (result, bool) {
	reject := func(msg string) (result, bool) {
		res := answer(vertexplay.CodeAuthorization, "authorization error: "+msg)
		if s.cfg.RejectWithHTTP401 {
			res.status = http.StatusUnauthorized
		}
		return res, false
	}
	h := r.Header.Get("Authorization")
	tok, found := strings.CutPrefix(h, "Bearer ")
	if !found || tok == "" {
		return reject("missing Bearer token")
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 || parts[0] != jwtHeader {
		return reject("malformed token")
	}
	m := hmac.New(sha256.New, s.jwtKey)
	m.Write([]byte(parts[0] + "." + parts[1]))
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sig, m.Sum(nil)) {
		return reject("bad token signature")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return reject("malformed token")
	}
	var c struct {
		AgentID string `json:"agentId"`
		Exp     int64  `json:"exp"`
		JTI     string `json:"jti"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return reject("malformed token")
	}
	if s.clock.Now().Unix() >= c.Exp {
		return reject("token expired")
	}
	if c.AgentID != r.Header.Get(vertexplay.HeaderAgentID) {
		return reject("token belongs to another agent")
	}
	s.mu.Lock()
	live := s.tokens.has(c.JTI)
	s.mu.Unlock()
	if !live {
		return reject("token revoked")
	}
	return result{}, true
}

type reply = simfault.Reply[int]

// envelope is the vendor's reply.
func envelope(status, code int, msg string, data any) reply {
	if msg == "" {
		msg = messages[code]
		if msg == "" {
			msg = "error"
		}
	}
	env := struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Data    any    `json:"data,omitempty"`
		LogUUID string `json:"logUUID"`
	}{code, msg, data, uuid()}
	if code != 0 && code != vertexplay.CodePending {
		env.Data = nil // errors omit data
	}
	b, err := json.Marshal(env)
	if err != nil {
		b = []byte(`{"code":7,"message":"internal error"}`)
	}
	return reply{Status: status, Code: code, ContentType: "application/json", Body: b}
}

var messages = map[int]string{
	0:  "No error.",
	2:  "Balance not enough.",
	3:  "Transaction already exists.",
	7:  "Internal error.",
	10: "Agent not found or blocked.",
	11: "Parameters error.",
	12: "Authorization error.",
	20: "Wallet locked.",
	35: "Transaction pending.",
	77: "Too many requests.",
	83: "Signature verification failed.",
	84: "Encryption failed.",
}

func uuid() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func isLowerHex(s string, n int) bool {
	if len(s) != n {
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
