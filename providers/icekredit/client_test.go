package icekredit_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authwire/authwire/clock"
	"github.com/authwire/authwire/outcome"
	"github.com/authwire/authwire/provider"
	"github.com/authwire/authwire/providers/icekredit"
	"github.com/authwire/authwire/providers/icekredit/icekredittest"
	"github.com/authwire/authwire/ratelimit"
	"github.com/authwire/authwire/retry"
)

var sample = icekredit.NigeriaAutoDecisionRequest{ID: "32500000000004", Mobile: "09012345678", EquipmentSN: "eq-1", SN: "bv2-1", BorrowCount: 0}

type env struct {
	clk *clock.Fake
	sim *icekredittest.Server
	srv *httptest.Server
	c   *icekredit.Client
}

// setup runs a simulator and a client sharing one fake clock. mutate adjusts
// either configuration before they are built.
func setup(t *testing.T, simCfg icekredittest.Config, mutate func(*icekredit.Config)) *env {
	t.Helper()
	clk := clock.NewFake(time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC))
	simCfg.Clock = clk
	sim := icekredittest.New(simCfg)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	cfg := icekredit.Config{
		LoginURL:    srv.URL,
		BaseURL:     srv.URL,
		Credentials: icekredit.NewCredentials(icekredittest.MerchantName, icekredittest.Password),
		Options: provider.Options{
			Clock: clk,
			// A generous limiter on real time: these tests are about logins, not pacing.
			Limiter: ratelimit.NewAdaptive(ratelimit.Config{Rate: 1e6, Burst: 1e6, Pause: time.Millisecond}),
			Retry:   &retry.Policy{WaitMin: time.Millisecond, WaitMax: 5 * time.Millisecond},
		},
	}
	if mutate != nil {
		mutate(&cfg)
	}
	c, err := icekredit.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &env{clk: clk, sim: sim, srv: srv, c: c}
}

func (e *env) call(t *testing.T) {
	t.Helper()
	res, err := e.c.NigeriaAutoDecision(context.Background(), sample)
	if err != nil {
		t.Fatalf("NigeriaAutoDecision: %v", err)
	}
	if res.RiskLevel == "" || res.NewCustomer != 1 {
		t.Fatalf("result = %+v", res)
	}
}

func TestConcurrentFirstCallsLogInOnce(t *testing.T) {
	e := setup(t, icekredittest.Config{}, nil)
	const n = 200
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			if _, err := e.c.NigeriaAutoDecision(context.Background(), sample); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	st := e.sim.Stats()
	if st.LoginAttempts != 1 || st.Logins != 1 {
		t.Errorf("login attempts %d, logins %d; want 1 and 1", st.LoginAttempts, st.Logins)
	}
	if st.Processed[icekredit.PathNigeriaAutoDecision] != n {
		t.Errorf("processed %d, want %d", st.Processed[icekredit.PathNigeriaAutoDecision], n)
	}
}

func TestIdleTokenPastTTLLogsInAgainOnce(t *testing.T) {
	e := setup(t, icekredittest.Config{}, nil)
	e.call(t)
	e.clk.Advance(21 * time.Minute)
	e.call(t)
	if st := e.sim.Stats(); st.Logins != 2 || st.LoginAttempts != 2 || st.Codes["200005"] != 0 {
		t.Errorf("stats = %+v; want 2 logins and no 200005 (the client knew the token was dead)", st)
	}
}

// The vendor may end a token earlier than the client thinks (a shorter TTL than
// configured): the 200005 answer triggers one re-login and the call succeeds.
func TestVendorExpiresTokenFirst(t *testing.T) {
	e := setup(t, icekredittest.Config{TokenTTL: 10 * time.Minute}, nil)
	e.call(t)
	e.clk.Advance(15 * time.Minute)
	e.call(t)
	if st := e.sim.Stats(); st.Logins != 2 || st.Codes["200005"] != 1 || st.ServiceCalls != 3 {
		t.Errorf("stats = %+v; want 2 logins, one 200005, 3 service calls", st)
	}
}

func TestContinuousUseKeepsOneToken(t *testing.T) {
	e := setup(t, icekredittest.Config{}, nil)
	for range 24 { // a call every 5 minutes for 2 hours
		e.call(t)
		e.clk.Advance(5 * time.Minute)
	}
	e.call(t)
	if n := e.sim.LoginAttempts(); n != 1 {
		t.Errorf("login attempts = %d over 2 hours of use, want 1", n)
	}
}

func TestWrongPasswordFailsFastOnce(t *testing.T) {
	const wrong = "hunter2-wrong"
	e := setup(t, icekredittest.Config{}, func(c *icekredit.Config) {
		c.Credentials = icekredit.NewCredentials(icekredittest.MerchantName, wrong)
	})
	for i := range 3 {
		_, err := e.c.NigeriaAutoDecision(context.Background(), sample)
		var ie *icekredit.Error
		if !errors.As(err, &ie) || ie.Code != icekredit.CodeInvalidCredentials || ie.Kind != outcome.Permanent {
			t.Fatalf("call %d: err = %v, want a permanent *Error 200002", i, err)
		}
		if !outcome.IsPermanent(err) {
			t.Errorf("call %d: outcome.IsPermanent(%v) = false", i, err)
		}
		msg := err.Error()
		if !strings.Contains(msg, "200002") {
			t.Errorf("error %q does not name 200002", msg)
		}
		for _, secret := range []string{wrong, md5hex(wrong)} {
			if strings.Contains(msg, secret) || strings.Contains(fmt.Sprintf("%+v %#v", err, ie), secret) {
				t.Errorf("error %q contains a secret", msg)
			}
		}
	}
	if st := e.sim.Stats(); st.LoginAttempts != 1 || st.ServiceCalls != 0 {
		t.Errorf("login attempts %d, service calls %d; want 1 and 0", st.LoginAttempts, st.ServiceCalls)
	}
	// After the hold the client asks again (the password may have been fixed at the vendor).
	e.clk.Advance(icekredit.LoginErrorHold + time.Second)
	if _, err := e.c.NigeriaAutoDecision(context.Background(), sample); err == nil {
		t.Fatal("wrong password accepted")
	}
	if n := e.sim.LoginAttempts(); n != 2 {
		t.Errorf("login attempts after the hold = %d, want 2", n)
	}
}

func TestPermanentAccountStates(t *testing.T) {
	for _, tc := range []struct {
		state icekredittest.AccountState
		code  string
	}{{icekredittest.Locked, "200008"}, {icekredittest.Expired, "200009"}} {
		t.Run(tc.code, func(t *testing.T) {
			e := setup(t, icekredittest.Config{}, nil)
			e.sim.SetAccountState(tc.state)
			for range 2 {
				_, err := e.c.NigeriaAutoDecision(context.Background(), sample)
				var ie *icekredit.Error
				if !errors.As(err, &ie) || ie.Code != tc.code || ie.Kind != outcome.Permanent || ie.Hint == "" {
					t.Fatalf("err = %v, want permanent %s with a hint", err, tc.code)
				}
			}
			if n := e.sim.LoginAttempts(); n != 1 {
				t.Errorf("login attempts = %d, want 1", n)
			}
		})
	}
}

func TestLoginEncodingFallbackIsRemembered(t *testing.T) {
	for _, tc := range []struct {
		name   string
		accept icekredittest.Encodings
		first  icekredit.LoginEncoding
		want   []icekredittest.LoginRecord
	}{
		{"form to json", icekredittest.AcceptJSONOnly, icekredit.Form,
			[]icekredittest.LoginRecord{{Encoding: "form", Code: "10000415"}, {Encoding: "json", Code: "00"}, {Encoding: "json", Code: "00"}}},
		{"json to form", icekredittest.AcceptFormOnly, icekredit.JSON,
			[]icekredittest.LoginRecord{{Encoding: "json", Code: "10000415"}, {Encoding: "form", Code: "00"}, {Encoding: "form", Code: "00"}}},
		{"no fallback needed", icekredittest.AcceptBoth, icekredit.Form,
			[]icekredittest.LoginRecord{{Encoding: "form", Code: "00"}, {Encoding: "form", Code: "00"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := setup(t, icekredittest.Config{LoginEncodings: tc.accept}, func(c *icekredit.Config) { c.LoginEncoding = tc.first })
			e.call(t)
			e.sim.RevokeAll() // forces a second login
			e.call(t)
			got := e.sim.LoginLog()
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("login log = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestLoginEncodingFallsBackOnlyOnce(t *testing.T) {
	e := setup(t, icekredittest.Config{}, nil)
	e.sim.Inject(icekredittest.Fault{Path: icekredit.LoginPath, Code: "10000415", Count: 3})
	_, err := e.c.NigeriaAutoDecision(context.Background(), sample)
	var ie *icekredit.Error
	if !errors.As(err, &ie) || ie.Code != "10000415" {
		t.Fatalf("err = %v, want 10000415", err)
	}
	if n := e.sim.LoginAttempts(); n != 2 {
		t.Errorf("login attempts = %d, want 2 (one fallback)", n)
	}
}

func TestTokenRejectionLogsInAgainOnce(t *testing.T) {
	for _, tc := range []struct {
		name    string
		trigger func(*icekredittest.Server)
	}{
		{"200005 revoked", func(s *icekredittest.Server) { s.RevokeAll() }},
		{"200006 ip changed", func(s *icekredittest.Server) { s.ChangeClientIP() }},
		{"10000401", func(s *icekredittest.Server) {
			s.Inject(icekredittest.Fault{Path: icekredit.PathNigeriaAutoDecision, Code: "10000401"})
		}},
		{"02", func(s *icekredittest.Server) {
			s.Inject(icekredittest.Fault{Path: icekredit.PathNigeriaAutoDecision, Code: "02"})
		}},
		{"200005 in an HTTP 401", func(s *icekredittest.Server) {
			s.Inject(icekredittest.Fault{Path: icekredit.PathNigeriaAutoDecision, Code: "200005", Status: 401})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := setup(t, icekredittest.Config{}, nil)
			e.call(t)
			tc.trigger(e.sim)
			e.call(t)
			if st := e.sim.Stats(); st.Logins != 2 || st.ServiceCalls != 3 {
				t.Errorf("logins %d, service calls %d; want 2 and 3", st.Logins, st.ServiceCalls)
			}
		})
	}
}

func TestSecondRejectionIsReturned(t *testing.T) {
	e := setup(t, icekredittest.Config{}, nil)
	e.sim.Inject(icekredittest.Fault{Path: icekredit.PathNigeriaAutoDecision, Code: "200005", Count: 5})
	_, err := e.c.NigeriaAutoDecision(context.Background(), sample)
	var ie *icekredit.Error
	if !errors.As(err, &ie) || ie.Code != "200005" || ie.Kind != outcome.TokenRejected {
		t.Fatalf("err = %v, want 200005", err)
	}
	if st := e.sim.Stats(); st.Logins != 2 || st.ServiceCalls != 2 {
		t.Errorf("logins %d, service calls %d; want 2 and 2 (one re-login, no loop)", st.Logins, st.ServiceCalls)
	}
}

func TestRateLimitedSlowsDownAndRetries(t *testing.T) {
	lclk := clock.NewFake(time.Unix(0, 0)) // the limiter's own clock, so its pause is driven by the test
	e := setup(t, icekredittest.Config{}, func(c *icekredit.Config) {
		c.Limiter = ratelimit.NewAdaptive(ratelimit.Config{Rate: 1000, Burst: 1000, Clock: lclk})
	})
	e.call(t)
	e.sim.Inject(icekredittest.Fault{Path: icekredit.PathNigeriaAutoDecision, Code: icekredit.CodeRateLimited})
	done := make(chan error, 1)
	go func() {
		// Not marked idempotent: a rate-limited request was refused unprocessed, so it is resent anyway.
		done <- e.c.Do(context.Background(), icekredit.PathNigeriaAutoDecision, sample, nil)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := lclk.WaitForSleepers(ctx, 1); err != nil {
		t.Fatal("the limiter did not pause after 10000429")
	}
	lclk.Advance(time.Second) // the default pause for 10000429 without Retry-After
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st := e.sim.Stats(); st.ServiceCalls != 3 || st.Processed[icekredit.PathNigeriaAutoDecision] != 2 {
		t.Errorf("stats = %+v", st)
	}
}

func TestTransientFailures(t *testing.T) {
	for _, tc := range []struct {
		name          string
		fault         icekredittest.Fault
		idempotent    bool
		wantErr       bool
		wantProcessed int
	}{
		{"503 idempotent retried", icekredittest.Fault{Status: 503}, true, false, 1},
		{"503 not idempotent", icekredittest.Fault{Status: 503}, false, true, 0},
		{"10000001 in a 500 retried", icekredittest.Fault{Status: 500, Code: "10000001"}, true, false, 1},
		{"lost idempotent retried", icekredittest.Fault{Lose: true}, true, false, 2},
		{"lost not idempotent", icekredittest.Fault{Lose: true}, false, true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := setup(t, icekredittest.Config{}, nil)
			e.call(t) // log in first, so the fault hits the product call
			tc.fault.Path = icekredit.PathNigeriaAutoDecision
			e.sim.Inject(tc.fault)
			ctx := context.Background()
			if tc.idempotent {
				ctx = retry.Idempotent(ctx)
			}
			var out map[string]any
			err := e.c.Do(ctx, icekredit.PathNigeriaAutoDecision, sample, &out)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if tc.wantErr && !errors.Is(err, outcome.ErrUnknown) {
				t.Errorf("err = %v, want one matching outcome.ErrUnknown", err)
			}
			if !tc.wantErr && out["nigeria_auto_decision"] == nil {
				t.Errorf("result = %v", out)
			}
			if got := e.sim.Stats().Processed[icekredit.PathNigeriaAutoDecision] - 1; got != tc.wantProcessed {
				t.Errorf("processed by the faulted call = %d, want %d", got, tc.wantProcessed)
			}
		})
	}
}

// TestAttemptTimeout: an attempt that does not answer is cut by the attempt
// timeout and retried. The slow answer would take twice the call's own
// timeout: the call succeeds only if the attempt was cut. No time is measured.
func TestAttemptTimeout(t *testing.T) {
	e := setup(t, icekredittest.Config{}, func(c *icekredit.Config) { c.AttemptTimeout = 50 * time.Millisecond })
	e.call(t)
	if e.c.Timeout() <= 0 {
		t.Fatalf("call timeout %v, want one", e.c.Timeout())
	}
	e.sim.Inject(icekredittest.Fault{Path: icekredit.PathNigeriaAutoDecision, Latency: 2 * e.c.Timeout()})
	e.call(t)
	if n := e.sim.ServiceCalls(); n != 3 {
		t.Errorf("service calls = %d, want 3", n)
	}
}

func TestLoginTransientIsRetried(t *testing.T) {
	e := setup(t, icekredittest.Config{}, nil)
	e.sim.Inject(icekredittest.Fault{Path: icekredit.LoginPath, Status: 502},
		icekredittest.Fault{Path: icekredit.LoginPath, Lose: true})
	e.call(t)
	if st := e.sim.Stats(); st.LoginAttempts != 3 {
		t.Errorf("login attempts = %d, want 3", st.LoginAttempts)
	}
}

// recorder captures what goes on the wire.
type recorder struct {
	mu   sync.Mutex
	reqs []recorded
}

type recorded struct {
	path   string
	header http.Header
	body   string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	r.mu.Lock()
	r.reqs = append(r.reqs, recorded{req.URL.Path, req.Header.Clone(), string(body)})
	r.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

func TestWire(t *testing.T) {
	rec := &recorder{}
	e := setup(t, icekredittest.Config{}, func(c *icekredit.Config) { c.Transport = rec })
	e.call(t)
	if len(rec.reqs) != 2 {
		t.Fatalf("%d requests, want login + call", len(rec.reqs))
	}
	login, call := rec.reqs[0], rec.reqs[1]
	if login.path != icekredit.LoginPath || login.body != "merchant_name=acme&merchant_pwd=8a24367a1f46c141048752f2d5bbd14b" ||
		login.header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		t.Errorf("login = %+v", login)
	}
	//lint:ignore SA1008 IceKredit reads the header spelled exactly token_id; the test checks that spelling
	if _, ok := login.header["token_id"]; ok {
		t.Error("the login carries a token_id")
	}
	for _, r := range rec.reqs {
		if r.header.Get("Language") != "en" {
			t.Errorf("%s: Language = %q", r.path, r.header.Get("Language"))
		}
	}
	//lint:ignore SA1008 IceKredit reads the header spelled exactly token_id; the test checks that spelling
	if v := call.header["token_id"]; len(v) != 1 || len(v[0]) == 0 {
		t.Errorf("call headers %v: want the exact key token_id", call.header)
	}
	for _, k := range []string{"Token_id", "Token-Id", "Authorization"} {
		if _, ok := call.header[k]; ok {
			t.Errorf("call carries %s", k)
		}
	}
	if call.header.Get("Content-Type") != "application/json; charset=utf-8" || !strings.Contains(call.body, `"ID":"32500000000004"`) {
		t.Errorf("call = %+v", call)
	}
}

func TestSeparateHostsAndTokenScope(t *testing.T) {
	clk := clock.NewFake(time.Now())
	sim := icekredittest.New(icekredittest.Config{Clock: clk})
	loginSrv, apiSrv := httptest.NewServer(sim), httptest.NewServer(sim)
	defer loginSrv.Close()
	defer apiSrv.Close()
	var leaked http.Header
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked = r.Header.Clone()
		io.WriteString(w, `{"response_code":"00"}`)
	}))
	defer other.Close()
	c, err := icekredit.New(icekredit.Config{
		LoginURL: loginSrv.URL, BaseURL: apiSrv.URL, Options: provider.Options{Clock: clk},
		Credentials: icekredit.NewCredentials(icekredittest.MerchantName, icekredittest.Password),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.NigeriaAutoDecision(context.Background(), sample); err != nil {
		t.Fatal(err)
	}
	resp, err := c.HTTPClient().Post(other.URL+"/x", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if leaked.Get("token_id") != "" {
		t.Error("the token went to a host outside BaseURL")
	}
	// An absolute URL on a host the client does not know gets no token either, so
	// IceKredit's answer (here a stand-in) cannot be a success with our token.
	if err := c.Do(context.Background(), other.URL+"/x", nil, nil); err != nil {
		t.Fatal(err)
	}
	if leaked.Get("token_id") != "" {
		t.Error("Do sent the token to a foreign host")
	}
}

func TestGenericDo(t *testing.T) {
	const echo = "/person-ds/test/Echo"
	e := setup(t, icekredittest.Config{Products: map[string]icekredittest.ProductFunc{
		echo: func(req map[string]any) (map[string]any, string, string) {
			return map[string]any{"echo": req}, "", ""
		},
	}}, nil)
	var out struct {
		Echo map[string]any `json:"echo"`
	}
	if err := e.c.Do(context.Background(), echo, map[string]string{"a": "b"}, &out); err != nil {
		t.Fatal(err)
	}
	if out.Echo["a"] != "b" {
		t.Errorf("echo = %v", out.Echo)
	}
	for _, tc := range []struct {
		name   string
		path   string
		params any
		code   string
	}{
		{"unknown product", "/person-ds/credit/Nope", map[string]any{}, "10000404"},
		{"missing parameter", icekredit.PathNigeriaAutoDecision, map[string]any{"ID": "1"}, "20100102"},
		{"bad parameter", icekredit.PathNigeriaAutoDecision, map[string]any{"ID": "1", "mobile": "2", "equipment_sn": "3", "sn": "4", "borrow_count": "x"}, "20100103"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := e.c.Do(context.Background(), tc.path, tc.params, nil)
			var ie *icekredit.Error
			if !errors.As(err, &ie) || ie.Code != tc.code || ie.Kind != outcome.Permanent || ie.TraceID == "" || ie.Op != tc.path {
				t.Fatalf("err = %#v, want permanent %s with a trace id", err, tc.code)
			}
		})
	}
}

func TestNewValidatesConfig(t *testing.T) {
	good := icekredit.NewCredentials("acme", "x")
	for _, tc := range []struct {
		name string
		cfg  icekredit.Config
		want string
	}{
		{"no merchant", icekredit.Config{Credentials: icekredit.NewCredentials("", "x")}, "MerchantName"},
		{"no password", icekredit.Config{Credentials: icekredit.Credentials{MerchantName: "acme"}}, "Password"},
		{"bad login URL", icekredit.Config{Credentials: good, LoginURL: "sso-ng"}, "LoginURL"},
		{"bad base URL", icekredit.Config{Credentials: good, BaseURL: "::"}, "BaseURL"},
		{"bad encoding", icekredit.Config{Credentials: good, LoginEncoding: 7}, "LoginEncoding"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := icekredit.New(tc.cfg)
			if err == nil {
				c.Close()
				t.Fatal("New accepted the config")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to name %s", err, tc.want)
			}
		})
	}
}

func TestNothingPrintsSecrets(t *testing.T) {
	rec := &recorder{}
	e := setup(t, icekredittest.Config{}, func(c *icekredit.Config) { c.Transport = rec })
	e.call(t)
	var token string
	//lint:ignore SA1008 IceKredit reads the header spelled exactly token_id; the test checks that spelling
	if v := rec.reqs[1].header["token_id"]; len(v) == 1 {
		token = v[0]
	}
	if token == "" {
		t.Fatal("no token captured")
	}
	e.sim.Inject(icekredittest.Fault{Path: icekredit.PathNigeriaAutoDecision, Code: "200005", Count: 2})
	_, rejected := e.c.NigeriaAutoDecision(context.Background(), sample)
	if rejected == nil {
		t.Fatal("want an error")
	}

	creds := icekredit.NewCredentials(icekredittest.MerchantName, icekredittest.Password)
	cfg := icekredit.Config{Credentials: creds}
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("x", "creds", creds, "cfg", cfg, "err", rejected)
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "creds", creds, "err", rejected)
	var out []string
	for _, v := range []any{creds, &creds, cfg, &cfg, e.c, rejected} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
			out = append(out, fmt.Sprintf(verb, v))
		}
	}
	out = append(out, creds.String(), creds.GoString(), logs.String(), rejected.Error())
	all := strings.Join(out, "\n")
	for _, secret := range []string{icekredittest.Password, icekredittest.PasswordMD5, token, icekredittest.MerchantName} {
		if strings.Contains(all, secret) {
			t.Errorf("output contains %q:\n%s", secret, all)
		}
	}
	if !strings.Contains(creds.String(), "REDACTED") || !strings.Contains(logs.String(), "REDACTED") {
		t.Errorf("redacted form missing: %s / %s", creds, logs.String())
	}
}

func md5hex(s string) string { return fmt.Sprintf("%x", md5.Sum([]byte(s))) }
