package icekredittest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authwire/authwire/clock"
	"github.com/authwire/authwire/providers/icekredit/icekredittest"
)

const form = "application/x-www-form-urlencoded"

type reply struct {
	Status       int
	ResponseCode string         `json:"response_code"`
	ResponseMsg  string         `json:"response_msg"`
	Message      string         `json:"message"`
	TokenID      string         `json:"token_id"`
	TraceID      string         `json:"trace_id"`
	Result       map[string]any `json:"result"`
}

// do sends one request straight to the handler (no network) and decodes the envelope.
func do(t *testing.T, h http.Handler, method, path, ctype, body string, hdr map[string]string) reply {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.RemoteAddr = "192.0.2.1:5555"
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Language", "en")
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
			continue
		}
		req.Header[k] = []string{v}
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	var r reply
	raw, _ := io.ReadAll(w.Body)
	if err := json.Unmarshal(raw, &r); err != nil && w.Code == 200 {
		t.Fatalf("%s %s: not JSON: %q", method, path, raw)
	}
	r.Status = w.Code
	return r
}

func login(t *testing.T, h http.Handler) string {
	t.Helper()
	r := do(t, h, "POST", icekredittest.LoginPath, form, "merchant_name=acme&merchant_pwd="+icekredittest.PasswordMD5, nil)
	if r.ResponseCode != "00" || r.TokenID == "" || r.ResponseMsg != "success" {
		t.Fatalf("login = %+v", r)
	}
	return r.TokenID
}

const product = `{"ID":"325","mobile":"09","equipment_sn":"e","sn":"s","borrow_count":2}`

func call(t *testing.T, h http.Handler, tok string) reply {
	t.Helper()
	return do(t, h, "POST", icekredittest.PathNigeriaAutoDecision, "application/json", product, map[string]string{"token_id": tok})
}

func TestLogin(t *testing.T) {
	tampered := []byte(icekredittest.PasswordMD5)
	tampered[5] ^= 1
	for _, tc := range []struct {
		name, ctype, body string
		hdr               map[string]string
		accept            icekredittest.Encodings
		want              string
	}{
		{"form", form, "merchant_name=acme&merchant_pwd=" + icekredittest.PasswordMD5, nil, 0, "00"},
		{"json", "application/json", `{"merchant_name":"acme","merchant_pwd":"` + icekredittest.PasswordMD5 + `"}`, nil, 0, "00"},
		{"json with charset", "application/json; charset=utf-8", `{"merchant_name":"acme","merchant_pwd":"` + icekredittest.PasswordMD5 + `"}`, nil, 0, "00"},
		{"tampered hash", form, "merchant_name=acme&merchant_pwd=" + string(tampered), nil, 0, "200002"},
		{"uppercase hash", form, "merchant_name=acme&merchant_pwd=" + strings.ToUpper(icekredittest.PasswordMD5), nil, 0, "200002"},
		{"plain password", form, "merchant_name=acme&merchant_pwd=P%40ssw0rd%21", nil, 0, "200002"},
		{"wrong merchant", form, "merchant_name=acmf&merchant_pwd=" + icekredittest.PasswordMD5, nil, 0, "200002"},
		{"missing password", form, "merchant_name=acme", nil, 0, "20100102"},
		{"missing name", "application/json", `{"merchant_pwd":"x"}`, nil, 0, "20100102"},
		{"number as name", "application/json", `{"merchant_name":5,"merchant_pwd":"x"}`, nil, 0, "20100103"},
		{"malformed json", "application/json", `{"merchant_name":`, nil, 0, "10000400"},
		{"malformed form", form, "merchant_name=%zz", nil, 0, "10000400"},
		{"text/plain", "text/plain", "acme", nil, 0, "10000415"},
		{"no content type", "", "acme", nil, 0, "10000415"},
		{"form refused", form, "merchant_name=acme&merchant_pwd=" + icekredittest.PasswordMD5, nil, icekredittest.AcceptJSONOnly, "10000415"},
		{"json refused", "application/json", `{"merchant_name":"acme","merchant_pwd":"` + icekredittest.PasswordMD5 + `"}`, nil, icekredittest.AcceptFormOnly, "10000415"},
		{"no Language", form, "merchant_name=acme&merchant_pwd=" + icekredittest.PasswordMD5, map[string]string{"Language": ""}, 0, "10000400"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := icekredittest.New(icekredittest.Config{LoginEncodings: tc.accept})
			r := do(t, s, "POST", icekredittest.LoginPath, tc.ctype, tc.body, tc.hdr)
			if r.ResponseCode != tc.want || r.ResponseMsg == "" {
				t.Fatalf("reply = %+v, want %s", r, tc.want)
			}
			if (r.TokenID != "") != (tc.want == "00") {
				t.Errorf("token_id = %q", r.TokenID)
			}
			st := s.Stats()
			if st.LoginAttempts != 1 || st.Logins != map[bool]int{true: 1}[tc.want == "00"] {
				t.Errorf("stats = %+v", st)
			}
		})
	}
	t.Run("GET", func(t *testing.T) {
		s := icekredittest.New(icekredittest.Config{})
		if r := do(t, s, "GET", icekredittest.LoginPath, "", "", nil); r.ResponseCode != "10000405" {
			t.Errorf("reply = %+v", r)
		}
	})
	t.Run("account states", func(t *testing.T) {
		s := icekredittest.New(icekredittest.Config{})
		for state, code := range map[icekredittest.AccountState]string{icekredittest.Locked: "200008", icekredittest.Expired: "200009"} {
			s.SetAccountState(state)
			body := "merchant_name=acme&merchant_pwd=" + icekredittest.PasswordMD5
			if r := do(t, s, "POST", icekredittest.LoginPath, form, body, nil); r.ResponseCode != code {
				t.Errorf("state %d: reply %+v, want %s", state, r, code)
			}
		}
	})
}

func TestServiceChecks(t *testing.T) {
	clk := clock.NewFake(time.Unix(1e9, 0))
	s := icekredittest.New(icekredittest.Config{Clock: clk})
	tok := login(t, s)
	for _, tc := range []struct {
		name, method, path, ctype, body string
		hdr                             map[string]string
		want                            string
	}{
		{"ok", "POST", icekredittest.PathNigeriaAutoDecision, "application/json", product, map[string]string{"token_id": tok}, "00"},
		{"canonical header spelling also read", "POST", icekredittest.PathNigeriaAutoDecision, "application/json", product, map[string]string{"Token_id": tok}, "00"},
		{"no token", "POST", icekredittest.PathNigeriaAutoDecision, "application/json", product, nil, "200005"},
		{"token as Bearer", "POST", icekredittest.PathNigeriaAutoDecision, "application/json", product, map[string]string{"Authorization": "Bearer " + tok}, "200005"},
		{"token-id with a dash", "POST", icekredittest.PathNigeriaAutoDecision, "application/json", product, map[string]string{"Token-Id": tok}, "200005"},
		{"tampered token", "POST", icekredittest.PathNigeriaAutoDecision, "application/json", product, map[string]string{"token_id": tok[:len(tok)-1] + "x"}, "200005"},
		{"unknown product", "POST", "/person-ds/credit/Nope", "application/json", product, map[string]string{"token_id": tok}, "10000404"},
		{"GET", "GET", icekredittest.PathNigeriaAutoDecision, "", "", map[string]string{"token_id": tok}, "10000405"},
		{"form body", "POST", icekredittest.PathNigeriaAutoDecision, form, "ID=1", map[string]string{"token_id": tok}, "10000415"},
		{"malformed json", "POST", icekredittest.PathNigeriaAutoDecision, "application/json", `{"ID":`, map[string]string{"token_id": tok}, "10000400"},
		{"json array", "POST", icekredittest.PathNigeriaAutoDecision, "application/json", `[1]`, map[string]string{"token_id": tok}, "10000400"},
		{"trailing data", "POST", icekredittest.PathNigeriaAutoDecision, "application/json", product + "{}", map[string]string{"token_id": tok}, "10000400"},
		{"missing field", "POST", icekredittest.PathNigeriaAutoDecision, "application/json", `{"ID":"1"}`, map[string]string{"token_id": tok}, "20100102"},
		{"negative count", "POST", icekredittest.PathNigeriaAutoDecision, "application/json", `{"ID":"325","mobile":"09","equipment_sn":"e","sn":"s","borrow_count":-1}`, map[string]string{"token_id": tok}, "20100103"},
		{"no Language", "POST", icekredittest.PathNigeriaAutoDecision, "application/json", product, map[string]string{"token_id": tok, "Language": ""}, "10000400"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, s, tc.method, tc.path, tc.ctype, tc.body, tc.hdr)
			if r.ResponseCode != tc.want || r.TraceID == "" || r.Message == "" {
				t.Fatalf("reply = %+v, want %s", r, tc.want)
			}
			if tc.want == "00" {
				d, _ := r.Result["nigeria_auto_decision"].(map[string]any)
				if d["new_customer"] != float64(0) || d["risk_level"] == "" {
					t.Errorf("result = %v", r.Result)
				}
			}
		})
	}
}

func TestSlidingExpiryAndBinding(t *testing.T) {
	clk := clock.NewFake(time.Unix(1e9, 0))
	s := icekredittest.New(icekredittest.Config{Clock: clk, TokenTTL: 20 * time.Minute})
	tok := login(t, s)
	for range 10 { // used every 19 minutes: stays alive
		clk.Advance(19 * time.Minute)
		if r := call(t, s, tok); r.ResponseCode != "00" {
			t.Fatalf("reply = %+v", r)
		}
	}
	clk.Advance(20 * time.Minute)
	if r := call(t, s, tok); r.ResponseCode != "200005" || !strings.Contains(r.Message, "expired") {
		t.Fatalf("idle token: reply = %+v, want 200005 expired", r)
	}

	tok = login(t, s)
	s.ChangeClientIP()
	if r := call(t, s, tok); r.ResponseCode != "200006" {
		t.Fatalf("after IP change: reply = %+v, want 200006", r)
	}
	tok = login(t, s)
	if r := call(t, s, tok); r.ResponseCode != "00" {
		t.Fatalf("new token: reply = %+v", r)
	}
	s.RevokeAll()
	if r := call(t, s, tok); r.ResponseCode != "200005" {
		t.Fatalf("revoked: reply = %+v", r)
	}
	if n := s.LiveTokens(); n != 0 {
		t.Errorf("live tokens = %d", n)
	}
	if st := s.Stats(); st.Logins != 3 || st.Processed[icekredittest.PathNigeriaAutoDecision] != 11 {
		t.Errorf("stats = %+v", st)
	}
}

func TestScriptedFaults(t *testing.T) {
	s := icekredittest.New(icekredittest.Config{})
	tok := login(t, s)
	s.Inject(
		icekredittest.Fault{Path: icekredittest.PathNigeriaAutoDecision, Code: "10000429", Count: 2},
		icekredittest.Fault{Path: icekredittest.LoginPath, Status: 502},
		icekredittest.Fault{Path: icekredittest.PathNigeriaAutoDecision, Code: "10000001", Status: 500},
	)
	for i, want := range []string{"10000429", "10000429", "10000001", "00"} {
		r := call(t, s, tok)
		if r.ResponseCode != want {
			t.Fatalf("call %d: %+v, want %s", i, r, want)
		}
		if want == "10000001" && r.Status != 500 {
			t.Errorf("status = %d, want 500", r.Status)
		}
	}
	if r := do(t, s, "POST", icekredittest.LoginPath, form, "merchant_name=acme&merchant_pwd="+icekredittest.PasswordMD5, nil); r.Status != 502 || r.ResponseCode != "" {
		t.Errorf("login fault: %+v", r)
	}
	st := s.Stats()
	if st.Faults != 4 || st.Codes["10000429"] != 2 || st.LoginAttempts != 2 || st.Logins != 1 {
		t.Errorf("stats = %+v", st)
	}
}

func TestLoseOverTheNetwork(t *testing.T) {
	s := icekredittest.New(icekredittest.Config{})
	srv := httptest.NewServer(s)
	defer srv.Close()
	s.Inject(icekredittest.Fault{Path: icekredittest.LoginPath, Lose: true})
	req, _ := http.NewRequest("POST", srv.URL+icekredittest.LoginPath, strings.NewReader("merchant_name=acme&merchant_pwd="+icekredittest.PasswordMD5))
	req.Header.Set("Content-Type", form)
	req.Header.Set("Language", "en")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("dropped connection answered")
	}
	if st := s.Stats(); st.Dropped != 1 || st.Logins != 1 {
		t.Errorf("stats = %+v: the login is processed, then dropped", st)
	}
}

// Chaos and garbage must produce vendor answers or dropped connections, never a
// panic or a data race.
func TestChaosAndGarbage(t *testing.T) {
	s := icekredittest.New(icekredittest.Config{Seed: 42})
	srv := httptest.NewServer(s)
	defer srv.Close()
	tok := login(t, s)
	s.SetChaos(icekredittest.Chaos{ServerErrorRate: 0.2, RateLimitRate: 0.2, LoseRate: 0.1, LatencyRate: 0.1, Latency: time.Millisecond})
	bodies := []string{"", "{", "null", `{"ID":null}`, strings.Repeat("[", 10000), product, "\xff\xfe", `{"merchant_name":["a"]}`}
	paths := []string{icekredittest.LoginPath, icekredittest.PathNigeriaAutoDecision, "/", "/%2e%2e"}
	var wg sync.WaitGroup
	for i := range 80 {
		wg.Go(func() {
			req, _ := http.NewRequest("POST", srv.URL+paths[i%len(paths)], strings.NewReader(bodies[i%len(bodies)]))
			req.Header.Set("Content-Type", []string{"application/json", form, "x/y"}[i%3])
			req.Header.Set("Language", "en")
			req.Header["token_id"] = []string{tok}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return // a dropped connection
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			var r reply
			if resp.StatusCode == 200 && (json.Unmarshal(raw, &r) != nil || r.ResponseCode == "") {
				t.Errorf("no envelope: %d %q", resp.StatusCode, raw)
			}
		})
	}
	wg.Wait()
	if st := s.Stats(); st.Faults == 0 || st.ServiceCalls+st.LoginAttempts != 81 {
		t.Errorf("stats = %+v", st)
	}
}

// TestTokensAreBounded: logins past MaxTokens forget the least recently used
// token, and idle tokens are forgotten once their sliding TTL has passed.
func TestTokensAreBounded(t *testing.T) {
	clk := clock.NewFake(time.Unix(1e9, 0))
	s := icekredittest.New(icekredittest.Config{Clock: clk, MaxTokens: 3})
	var toks []string
	for range 4 {
		toks = append(toks, login(t, s))
		clk.Advance(time.Second)
	}
	if n := s.LiveTokens(); n != 3 {
		t.Errorf("live tokens = %d after 4 logins, want 3", n)
	}
	if r := call(t, s, toks[0]); r.ResponseCode != "200005" {
		t.Errorf("least recently used token: %+v, want 200005", r)
	}
	if r := call(t, s, toks[1]); r.ResponseCode != "00" { // now the most recently used
		t.Errorf("second token: %+v", r)
	}
	login(t, s) // forgets toks[2], the least recently used now
	if r := call(t, s, toks[2]); r.ResponseCode != "200005" {
		t.Errorf("token unused the longest: %+v, want 200005", r)
	}
	clk.Advance(icekredittest.DefaultTokenTTL)
	if n := s.LiveTokens(); n != 0 {
		t.Errorf("live tokens = %d after the TTL, want 0", n)
	}
	if n := len(s.LoginLog()); n != 5 {
		t.Errorf("login log holds %d, want 5", n)
	}
}

// TestLoginLogIsBounded: the log keeps the last MaxLoginLog logins.
func TestLoginLogIsBounded(t *testing.T) {
	s := icekredittest.New(icekredittest.Config{})
	for range 3*icekredittest.MaxLoginLog + 7 {
		do(t, s, "POST", icekredittest.LoginPath, "text/plain", "x", nil) // 10000415, logged
	}
	login(t, s)
	log := s.LoginLog()
	if len(log) != icekredittest.MaxLoginLog || log[len(log)-1].Code != "00" || log[0].Code != "10000415" {
		t.Errorf("log of %d, last %+v", len(log), log[len(log)-1])
	}
}
