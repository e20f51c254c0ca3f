package vertexplaytest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authwire/authwire/clock"
	"github.com/authwire/authwire/providers/vertexplay"
	"github.com/authwire/authwire/providers/vertexplay/vertexplaytest"
)

var t0 = time.Date(2026, 1, 30, 12, 0, 0, 0, time.UTC)

type harness struct {
	t      *testing.T
	sim    *vertexplaytest.Server
	clk    *clock.Fake
	signer *vertexplay.Signer
}

func newHarness(t *testing.T, cfg vertexplaytest.Config, version vertexplay.SignatureVersion) *harness {
	t.Helper()
	clk := clock.NewFake(t0)
	cfg.Clock = clk
	sim := vertexplaytest.New(cfg)
	s, err := vertexplay.NewSigner(vertexplay.SignerConfig{Credentials: sim.Credentials(), Version: version, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, sim: sim, clk: clk, signer: s}
}

type reply struct {
	status int
	Code   int             `json:"code"`
	Msg    string          `json:"message"`
	Data   json.RawMessage `json:"data"`
	UUID   string          `json:"logUUID"`
}

// send posts a sealed request through the simulator's handler.
func (h *harness) send(path string, sealed *vertexplay.Sealed, token string) reply {
	h.t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(sealed.Body))
	req.Header = sealed.Header()
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return h.do(req)
}

func (h *harness) do(req *http.Request) reply {
	h.t.Helper()
	rec := httptest.NewRecorder()
	h.sim.ServeHTTP(rec, req)
	var r reply
	if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
		h.t.Fatalf("reply is not an envelope: %q", rec.Body.String())
	}
	r.status = rec.Code
	if r.UUID == "" {
		h.t.Fatalf("reply has no logUUID: %q", rec.Body.String())
	}
	return r
}

func (h *harness) seal(plain string) *vertexplay.Sealed {
	h.t.Helper()
	s, err := h.signer.Seal([]byte(plain), vertexplay.Fixed{})
	if err != nil {
		h.t.Fatal(err)
	}
	return s
}

const authBody = `{"agentId":"integratorNBTest01","secret":"examplesecret=="}`

func (h *harness) login() string {
	h.t.Helper()
	r := h.send(vertexplay.AuthPath, h.seal(authBody), "")
	var d struct {
		AccessToken string `json:"accessToken"`
		ExpiresIn   int    `json:"expiresIn"`
		TokenType   string `json:"tokenType"`
	}
	if r.Code != 0 || json.Unmarshal(r.Data, &d) != nil || d.AccessToken == "" || d.TokenType != "Bearer" || d.ExpiresIn != 3600 {
		h.t.Fatalf("login: %+v", r)
	}
	return d.AccessToken
}

func TestAuthAndJWT(t *testing.T) {
	h := newHarness(t, vertexplaytest.Config{}, 0)
	tok := h.login()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q is not a JWT", tok)
	}
	if r := h.send(vertexplay.PathGames, h.seal("{}"), tok); r.Code != 0 {
		t.Fatalf("games: %+v", r)
	}
	if h.sim.Stats().Logins != 1 {
		t.Fatal("login not counted")
	}
}

// TestTamperedRequestsAreRejected: the simulator is not a rubber stamp.
func TestTamperedRequestsAreRejected(t *testing.T) {
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	for _, tc := range []struct {
		name   string
		mutate func(h *harness, s *vertexplay.Sealed)
		code   int
	}{
		{"untouched", func(*harness, *vertexplay.Sealed) {}, 0},
		{"cipherText byte, signature kept", func(h *harness, s *vertexplay.Sealed) {
			s.CipherText = flip(s.CipherText, 45)
			s.Body = vertexplay.WireBody(s.CipherText)
		}, vertexplay.CodeSignatureFailed},
		{"cipherText byte, re-signed", func(h *harness, s *vertexplay.Sealed) {
			s.CipherText = flip(s.CipherText, 45)
			s.Body = vertexplay.WireBody(s.CipherText)
			s.Signature = vertexplay.Signature(vertexplay.SignatureV2, s.AgentID, s.Timestamp, s.Nonce, s.CipherText, s.Body)
		}, vertexplay.CodeEncryptionFailed},
		{"tag byte, re-signed", func(h *harness, s *vertexplay.Sealed) {
			s.CipherText = flip(s.CipherText, 20)
			s.Body = vertexplay.WireBody(s.CipherText)
			s.Signature = vertexplay.Signature(vertexplay.SignatureV2, s.AgentID, s.Timestamp, s.Nonce, s.CipherText, s.Body)
		}, vertexplay.CodeEncryptionFailed},
		{"IV byte, re-signed", func(h *harness, s *vertexplay.Sealed) {
			s.CipherText = flip(s.CipherText, 3)
			s.Body = vertexplay.WireBody(s.CipherText)
			s.Signature = vertexplay.Signature(vertexplay.SignatureV2, s.AgentID, s.Timestamp, s.Nonce, s.CipherText, s.Body)
		}, vertexplay.CodeEncryptionFailed},
		{"signature byte", func(h *harness, s *vertexplay.Sealed) { s.Signature = flip(s.Signature, 0) }, vertexplay.CodeSignatureFailed},
		{"timestamp", func(h *harness, s *vertexplay.Sealed) { s.Timestamp = s.Timestamp[:len(s.Timestamp)-1] + "9" }, vertexplay.CodeSignatureFailed},
		{"nonce", func(h *harness, s *vertexplay.Sealed) { s.Nonce = flip(s.Nonce, 0) }, vertexplay.CodeSignatureFailed},
		{"v1 signature sent to a v2 simulator", func(h *harness, s *vertexplay.Sealed) {
			s.Signature = vertexplay.Signature(vertexplay.SignatureV1, s.AgentID, s.Timestamp, s.Nonce, s.CipherText, s.Body)
		}, vertexplay.CodeSignatureFailed},
		{"other agent", func(h *harness, s *vertexplay.Sealed) { s.AgentID = "someoneElse" }, vertexplay.CodeAgentNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, vertexplaytest.Config{}, 0)
			s := h.seal(authBody)
			tc.mutate(h, s)
			if r := h.send(vertexplay.AuthPath, s, ""); r.Code != tc.code {
				t.Fatalf("code %d (%s), want %d", r.Code, r.Msg, tc.code)
			}
		})
	}
}

func TestSignatureVersions(t *testing.T) {
	both := []vertexplay.SignatureVersion{vertexplay.SignatureV1, vertexplay.SignatureV2}
	for _, tc := range []struct {
		name     string
		accepted []vertexplay.SignatureVersion
		client   vertexplay.SignatureVersion
		code     int
	}{
		{"v2 default", nil, vertexplay.SignatureV2, 0},
		{"v1 to default", nil, vertexplay.SignatureV1, vertexplay.CodeSignatureFailed},
		{"v1 to v1", []vertexplay.SignatureVersion{vertexplay.SignatureV1}, vertexplay.SignatureV1, 0},
		{"v2 to v1", []vertexplay.SignatureVersion{vertexplay.SignatureV1}, vertexplay.SignatureV2, vertexplay.CodeSignatureFailed},
		{"v1 to both", both, vertexplay.SignatureV1, 0},
		{"v2 to both", both, vertexplay.SignatureV2, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, vertexplaytest.Config{Signatures: tc.accepted}, tc.client)
			if r := h.send(vertexplay.AuthPath, h.seal(authBody), ""); r.Code != tc.code {
				t.Fatalf("code %d, want %d", r.Code, tc.code)
			}
		})
	}
}

func TestTimestampWindowAndReplay(t *testing.T) {
	h := newHarness(t, vertexplaytest.Config{}, 0)
	ts := func(d time.Duration) string { return strconv.FormatInt(t0.Add(d).UnixMilli(), 10) }
	for _, tc := range []struct {
		name string
		ts   string
		code int
	}{
		{"now", ts(0), 0},
		{"4m59s behind", ts(-299 * time.Second), 0},
		{"4m59s ahead", ts(299 * time.Second), 0},
		{"5m01s behind", ts(-301 * time.Second), vertexplay.CodeSignatureFailed},
		{"5m01s ahead", ts(301 * time.Second), vertexplay.CodeSignatureFailed},
		{"seconds, not ms", strconv.FormatInt(t0.Unix(), 10), vertexplay.CodeSignatureFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := h.signer.Seal([]byte(authBody), vertexplay.Fixed{Timestamp: tc.ts})
			if err != nil {
				t.Fatal(err)
			}
			if r := h.send(vertexplay.AuthPath, s, ""); r.Code != tc.code {
				t.Fatalf("code %d (%s), want %d", r.Code, r.Msg, tc.code)
			}
		})
	}
	t.Run("replay", func(t *testing.T) {
		s := h.seal(authBody)
		if r := h.send(vertexplay.AuthPath, s, ""); r.Code != 0 {
			t.Fatalf("first: %+v", r)
		}
		if r := h.send(vertexplay.AuthPath, s, ""); r.Code != vertexplay.CodeSignatureFailed || !strings.Contains(r.Msg, "nonce") {
			t.Fatalf("replay answered %d %q, want 83 nonce", r.Code, r.Msg)
		}
	})
}

func TestTokens(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cfg    vertexplaytest.Config
		status int
	}{
		{"code 12", vertexplaytest.Config{}, http.StatusOK},
		{"HTTP 401", vertexplaytest.Config{RejectWithHTTP401: true}, http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.cfg, 0)
			reject := func(what, tok string) {
				t.Helper()
				if r := h.send(vertexplay.PathGames, h.seal("{}"), tok); r.Code != vertexplay.CodeAuthorization || r.status != tc.status {
					t.Fatalf("%s: %d/HTTP %d, want 12/HTTP %d", what, r.Code, r.status, tc.status)
				}
			}
			reject("no token", "")
			reject("garbage", "abc")
			tok := h.login()
			reject("tampered", tok[:len(tok)-2]+"xx")
			parts := strings.Split(tok, ".")
			reject("forged payload", parts[0]+"."+parts[1]+"e30."+parts[2])
			// Expiry on the simulator's clock.
			h.clk.Advance(59 * time.Minute)
			if r := h.send(vertexplay.PathGames, h.seal("{}"), tok); r.Code != 0 {
				t.Fatalf("token dead before its hour: %+v", r)
			}
			h.clk.Advance(time.Minute)
			reject("expired", tok)
			// Revocation.
			tok = h.login()
			h.sim.RevokeAll()
			reject("revoked", tok)
			if r := h.send(vertexplay.PathGames, h.seal("{}"), h.login()); r.Code != 0 {
				t.Fatalf("new token after revocation: %+v", r)
			}
		})
	}
}

func TestWallet(t *testing.T) {
	h := newHarness(t, vertexplaytest.Config{}, 0)
	tok := h.login()
	call := func(path, body string) reply { return h.send(path, h.seal(body), tok) }
	for _, tc := range []struct {
		path, body string
		code       int
	}{
		{vertexplay.PathCreatePlayer, `{"username":"amy","siteId":3}`, 0},
		{vertexplay.PathCreatePlayer, `{"username":"amy"}`, vertexplaytest.CodePlayerExists},
		{vertexplay.PathCreatePlayer, `{}`, vertexplay.CodeParameters},
		{vertexplay.PathBalance, `{"username":"nobody"}`, vertexplaytest.CodePlayerNotFound},
		{vertexplay.PathTransfer, `{"username":"amy","amount":10,"transId":"a"}`, 0},
		{vertexplay.PathTransfer, `{"username":"amy","amount":10,"transId":"a"}`, vertexplay.CodeTransactionExists},
		{vertexplay.PathTransfer, `{"username":"amy","amount":-11,"transId":"b"}`, vertexplay.CodeBalanceNotEnough},
		{vertexplay.PathTransfer, `{"username":"amy","amount":"x","transId":"c"}`, vertexplay.CodeParameters},
		{vertexplay.PathTransfer, `{"username":"amy","amount":1}`, vertexplay.CodeParameters},
		{vertexplay.PathCheckTransaction, `{"username":"amy","transId":"a"}`, 0},
		{vertexplay.PathCheckTransaction, `{"username":"bob","transId":"a"}`, vertexplaytest.CodeTransactionNotFound},
		{vertexplay.PathBalance, `{"username":"amy"}`, 0},
	} {
		if r := call(tc.path, tc.body); r.Code != tc.code {
			t.Fatalf("%s %s: code %d (%s), want %d", tc.path, tc.body, r.Code, r.Msg, tc.code)
		}
	}
	if b, _ := h.sim.Balance("amy"); b != "10.00" {
		t.Fatalf("balance %s", b)
	}
	if n := h.sim.TransferRequests("a"); n != 2 {
		t.Fatalf("transfer requests for a = %d, want 2 (one performed, one refused)", n)
	}
	if st := h.sim.Stats(); st.Transfers != 1 {
		t.Fatalf("transfers = %d", st.Transfers)
	}
}

// TestMalformedInputNeverPanics: every malformed request gets a vendor error.
func TestMalformedInputNeverPanics(t *testing.T) {
	h := newHarness(t, vertexplaytest.Config{}, 0)
	good := h.seal(authBody)
	mk := func(method, path, body string, hdr http.Header) *http.Request {
		r := httptest.NewRequest(method, path, strings.NewReader(body))
		if hdr != nil {
			r.Header = hdr.Clone()
		}
		return r
	}
	without := func(name string) http.Header { x := good.Header(); x.Del(name); return x }
	withHdr := func(name, v string) http.Header { x := good.Header(); x.Set(name, v); return x }
	for _, tc := range []struct {
		name   string
		req    *http.Request
		code   int
		status int
	}{
		{"GET", mk(http.MethodGet, vertexplay.AuthPath, "", good.Header()), vertexplay.CodeParameters, 405},
		{"unknown path", mk(http.MethodPost, "/v2/nope", string(good.Body), good.Header()), vertexplay.CodeParameters, 404},
		{"no headers", mk(http.MethodPost, vertexplay.AuthPath, string(good.Body), http.Header{}), vertexplay.CodeAgentNotFound, 200},
		{"no timestamp", mk(http.MethodPost, vertexplay.AuthPath, string(good.Body), without("x-timestamp")), vertexplay.CodeSignatureFailed, 200},
		{"no nonce", mk(http.MethodPost, vertexplay.AuthPath, string(good.Body), without("x-nonce")), vertexplay.CodeSignatureFailed, 200},
		{"upper-case nonce", mk(http.MethodPost, vertexplay.AuthPath, string(good.Body), withHdr("x-nonce", strings.ToUpper(good.Nonce))), vertexplay.CodeSignatureFailed, 200},
		{"no signature", mk(http.MethodPost, vertexplay.AuthPath, string(good.Body), without("x-signature")), vertexplay.CodeSignatureFailed, 200},
		{"empty body", mk(http.MethodPost, vertexplay.AuthPath, "", good.Header()), vertexplay.CodeParameters, 200},
		{"not JSON", mk(http.MethodPost, vertexplay.AuthPath, "\x00\xff", good.Header()), vertexplay.CodeParameters, 200},
		{"cipherText not a string", mk(http.MethodPost, vertexplay.AuthPath, `{"cipherText":5}`, good.Header()), vertexplay.CodeParameters, 200},
		{"huge body", mk(http.MethodPost, vertexplay.AuthPath, strings.Repeat("a", 2<<20), good.Header()), vertexplay.CodeParameters, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do(tc.req)
			if r.Code != tc.code || r.status != tc.status {
				t.Fatalf("code %d/HTTP %d (%s), want %d/HTTP %d", r.Code, r.status, r.Msg, tc.code, tc.status)
			}
		})
	}
	// Correctly signed garbage: short, bad base64, a plaintext that is not JSON.
	for _, ct := range []string{"", "AAAA", strings.Repeat("!", 60)} {
		s := h.seal("{}")
		s.CipherText = ct
		s.Body = vertexplay.WireBody(ct)
		s.Signature = vertexplay.Signature(vertexplay.SignatureV2, s.AgentID, s.Timestamp, s.Nonce, ct, s.Body)
		if r := h.send(vertexplay.AuthPath, s, ""); r.Code != vertexplay.CodeEncryptionFailed {
			t.Fatalf("cipherText %q: code %d", ct, r.Code)
		}
	}
	if r := h.send(vertexplay.AuthPath, h.seal("not json"), ""); r.Code != vertexplay.CodeParameters {
		t.Fatalf("non-JSON plaintext: code %d", r.Code)
	}
	if r := h.send(vertexplay.AuthPath, h.seal(`{"agentId":"integratorNBTest01","secret":"nope"}`), ""); r.Code != vertexplay.CodeAgentNotFound {
		t.Fatalf("wrong secret: code %d", r.Code)
	}
}

func TestScriptedFaults(t *testing.T) {
	sim := vertexplaytest.New(vertexplaytest.Config{})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	post := func(path string) (*http.Response, error) {
		return http.Post(srv.URL+path, "application/json", strings.NewReader("{}"))
	}
	sim.Inject(vertexplaytest.Fault{Path: vertexplay.PathGames, Code: 77})
	sim.Inject(vertexplaytest.Fault{Path: vertexplay.PathGames, Status: 503})
	sim.Inject(vertexplaytest.Fault{Path: vertexplay.PathGames, Drop: true})

	resp, err := post(vertexplay.PathBalance) // another path: no fault, a normal (rejected) answer
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"code":10`) {
		t.Fatalf("unsigned request answered %s", b)
	}
	resp, err = post(vertexplay.PathGames)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"code":77`) {
		t.Fatalf("first fault answered %s", b)
	}
	resp, err = post(vertexplay.PathGames)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 {
		t.Fatalf("second fault answered HTTP %d", resp.StatusCode)
	}
	if _, err = post(vertexplay.PathGames); err == nil {
		t.Fatal("dropped connection answered")
	}
	st := sim.Stats()
	if st.Dropped != 1 || st.Requests[vertexplay.PathGames] != 3 || st.Codes[77] != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestLatencyOnTheSimulatorClock(t *testing.T) {
	clk := clock.NewFake(t0)
	sim := vertexplaytest.New(vertexplaytest.Config{Clock: clk})
	sim.Inject(vertexplaytest.Fault{Latency: 5 * time.Second, Code: 7})
	done := make(chan int, 1)
	go func() {
		rec := httptest.NewRecorder()
		sim.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, vertexplay.PathGames, nil))
		done <- rec.Code
	}()
	if err := clk.WaitForSleepers(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
		t.Fatal("answered before the latency passed")
	default:
	}
	clk.Advance(5 * time.Second)
	if code := <-done; code != 200 {
		t.Fatalf("HTTP %d", code)
	}
}

func TestRandomFaultsAreSeeded(t *testing.T) {
	run := func() []int {
		sim := vertexplaytest.New(vertexplaytest.Config{Seed: 7, Chaos: vertexplaytest.Chaos{ServerErrorRate: 0.3, RateLimitRate: 0.3}})
		var codes []int
		for range 50 {
			rec := httptest.NewRecorder()
			sim.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, vertexplay.PathGames, nil))
			codes = append(codes, rec.Code*100+sim.Stats().Codes[77])
		}
		return codes
	}
	a, b := run(), run()
	n5xx := 0
	for i := range a {
		if a[i] != b[i] {
			t.Fatal("same seed, different faults")
		}
		if a[i]/100 >= 500 {
			n5xx++
		}
	}
	if n5xx == 0 || n5xx == 50 {
		t.Fatalf("%d of 50 answered 5xx at a 0.3 rate", n5xx)
	}
}

// TestContentType: the vendor asks for application/json in UTF-8; another media
// type or charset gets the parameters error (11) in an HTTP 415.
func TestContentType(t *testing.T) {
	for _, tc := range []struct {
		ctype  string
		code   int
		status int
	}{
		{"application/json", 0, 200},
		{"application/json; charset=UTF-8", 0, 200},
		{"application/json;charset=utf-8", 0, 200},
		{"application/json; charset=ISO-8859-1", vertexplay.CodeParameters, 415},
		{"text/plain", vertexplay.CodeParameters, 415},
		{"application/x-www-form-urlencoded", vertexplay.CodeParameters, 415},
		{"", vertexplay.CodeParameters, 415},
	} {
		t.Run(tc.ctype, func(t *testing.T) {
			h := newHarness(t, vertexplaytest.Config{}, 0)
			sealed := h.seal(authBody)
			req := httptest.NewRequest(http.MethodPost, vertexplay.AuthPath, bytes.NewReader(sealed.Body))
			req.Header = sealed.Header()
			req.Header.Set("Content-Type", tc.ctype)
			if r := h.do(req); r.Code != tc.code || r.status != tc.status {
				t.Errorf("code %d/HTTP %d (%s), want %d/HTTP %d", r.Code, r.status, r.Msg, tc.code, tc.status)
			}
			if n := h.sim.Stats().Logins; n != 1-min(tc.code, 1) {
				t.Errorf("logins = %d", n)
			}
		})
	}
}
