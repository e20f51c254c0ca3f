package nxcloud_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authwire/authwire/clock"
	"github.com/authwire/authwire/outcome"
	"github.com/authwire/authwire/provider"
	"github.com/authwire/authwire/providers/nxcloud"
	"github.com/authwire/authwire/providers/nxcloud/nxcloudtest"
	"github.com/authwire/authwire/ratelimit"
	"github.com/authwire/authwire/retry"
)

const phone = "+8613800138000"

// recLimiter is an adaptive limiter that remembers the keys and outcomes it saw.
type recLimiter struct {
	*ratelimit.Adaptive
	mu   sync.Mutex
	key  string
	seen []outcome.Kind
}

func (l *recLimiter) Observe(key string, r outcome.Result) {
	l.mu.Lock()
	l.key = key
	l.seen = append(l.seen, r.Kind)
	l.mu.Unlock()
	l.Adaptive.Observe(key, r)
}

type fixture struct {
	sim *nxcloudtest.Server
	srv *httptest.Server
	c   *nxcloud.Client
	lim *recLimiter
}

// setup serves a simulator and builds a client for it, with fast retries and a
// generous limiter unless mod says otherwise.
func setup(t *testing.T, simCfg nxcloudtest.Config, mod func(*nxcloud.Config)) *fixture {
	t.Helper()
	sim := nxcloudtest.New(simCfg)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	cfg := nxcloud.Config{
		BaseURL:     srv.URL,
		Credentials: nxcloud.NewCredentials(nxcloudtest.AccessKey, nxcloudtest.AccessSecret),
		Options: provider.Options{
			Transport: srv.Client().Transport,
			Retry:     &retry.Policy{MaxAttempts: 4, WaitMin: time.Millisecond, WaitMax: 2 * time.Millisecond},
			Clock:     simCfg.Clock,
		},
	}
	var lc ratelimit.Config
	if mod != nil {
		mod(&cfg)
	}
	if cfg.Limiter == nil {
		lc = ratelimit.Config{Rate: 1000, Burst: 100, Clock: cfg.Clock}
	}
	f := &fixture{sim: sim, srv: srv}
	if cfg.Limiter == nil {
		f.lim = &recLimiter{Adaptive: ratelimit.NewAdaptive(lc)}
		cfg.Limiter = f.lim
	} else if rl, ok := cfg.Limiter.(*recLimiter); ok {
		f.lim = rl
	}
	c, err := nxcloud.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	f.c = c
	return f
}

// autoAdvance moves fc by step whenever something sleeps on it, until stop: the
// limiter's pauses pass at once, and nothing waits on the wall clock.
func autoAdvance(fc *clock.Fake, step time.Duration) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for fc.WaitForSleepers(ctx, 1) == nil {
			fc.Advance(step)
		}
	}()
	return func() { cancel(); <-done }
}

func TestRoundTrip(t *testing.T) {
	for _, alg := range []nxcloud.Algorithm{"", nxcloud.MD5, nxcloud.SHA256} {
		t.Run("algorithm "+string(alg), func(t *testing.T) {
			f := setup(t, nxcloudtest.Config{}, func(c *nxcloud.Config) { c.Algorithm = alg })
			ctx := context.Background()

			tok, err := f.c.Login(ctx)
			if err != nil || tok == "" {
				t.Fatalf("Login = %q, %v", tok, err)
			}
			if n := f.sim.Logins(); n != 1 {
				t.Errorf("logins = %d, want 1", n)
			}

			if err := f.c.GetCode(ctx, phone, nxcloud.MethodVoice); err != nil {
				t.Fatalf("GetCode: %v", err)
			}
			if n := f.sim.CodesSent(phone); n != 1 {
				t.Errorf("codes sent = %d, want 1", n)
			}

			res, err := f.c.OTAInit(ctx, nxcloud.OTAInitRequest{AppKey: nxcloudtest.AppKey, Phone: phone, UserIP: "203.0.113.7"})
			if err != nil {
				t.Fatalf("OTAInit: %v", err)
			}
			if res.RequestID == "" || !strings.Contains(res.URL, res.RequestID) {
				t.Errorf("OTAInit = %+v", res)
			}
			if n := f.sim.Inits(); n != 1 {
				t.Errorf("inits = %d, want 1", n)
			}

			_, err = f.c.OTAInit(ctx, nxcloud.OTAInitRequest{AppKey: "no-such-app", Phone: phone, UserIP: "2001:db8::1"})
			var ne *nxcloud.Error
			if !errors.As(err, &ne) || ne.Code != "9906" || ne.Kind != outcome.Permanent || ne.Message == "" {
				t.Errorf("unknown appkey: err = %v, want a permanent 9906 *nxcloud.Error", err)
			}
			if n := f.sim.Requests(nxcloudtest.PathOTAInit); n != 2 {
				t.Errorf("init requests = %d, want 2 (a permanent error is not retried)", n)
			}
		})
	}
}

func TestRawHTTPClient(t *testing.T) {
	f := setup(t, nxcloudtest.Config{}, nil)
	// No bizType/action headers: the signer knows the path.
	resp, err := f.c.HTTPClient().Post(f.srv.URL+nxcloud.PathLogin, "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if r := nxcloud.Classify(resp, body); r.Kind != outcome.Success || !strings.Contains(string(body), `"token"`) {
		t.Errorf("raw login: %s %v", body, r.Err)
	}
}

// TestRateLimitStorm: the simulator answers 2206 to the next requests; the client
// slows down (the limiter halves its rate and pauses a second per 2206, on the
// fake clock) and the call succeeds, with exactly one code sent.
func TestRateLimitStorm(t *testing.T) {
	const storm = 4
	fc := clock.NewFake(time.Now())
	lim := &recLimiter{Adaptive: ratelimit.NewAdaptive(ratelimit.Config{Rate: 10, Burst: 1, Clock: fc})}
	f := setup(t, nxcloudtest.Config{Clock: fc}, func(c *nxcloud.Config) {
		c.Limiter = lim
		c.Retry = &retry.Policy{MaxAttempts: storm + 2, WaitMin: time.Millisecond, WaitMax: 2 * time.Millisecond}
	})
	f.sim.Inject(nxcloudtest.Fault{Path: nxcloudtest.PathGetCode, Count: storm, Code: nxcloudtest.CodeRateLimited})

	start := fc.Now()
	stop := autoAdvance(fc, time.Second)
	err := f.c.GetCode(context.Background(), phone, nxcloud.MethodSMS)
	stop()
	if err != nil {
		t.Fatalf("GetCode after a 2206 storm: %v", err)
	}
	st := f.sim.Stats()
	if st.Requests[nxcloudtest.PathGetCode] != storm+1 || st.Codes[nxcloudtest.CodeRateLimited] != storm {
		t.Errorf("requests = %d, 2206 answered = %d; want %d and %d", st.Requests[nxcloudtest.PathGetCode], st.Codes[2206], storm+1, storm)
	}
	if n := f.sim.CodesSent(phone); n != 1 {
		t.Errorf("codes sent = %d, want exactly 1", n)
	}
	if waited := fc.Now().Sub(start); waited < storm*time.Second {
		t.Errorf("client waited %v of fake time, want at least %v (1 s per 2206)", waited, storm*time.Second)
	}
	if r := lim.Rate(lim.key); r >= 10 {
		t.Errorf("limiter rate = %v, want below the 10/s it started at", r)
	}
}

// TestClockSkew: a clock 90 s off is reported as a permanent authentication
// error that names the ±60 s window, and is not retried.
func TestClockSkew(t *testing.T) {
	tests := []struct {
		name         string
		clientOffset time.Duration
		serverOffset time.Duration
	}{
		{"client clock 90 s behind", -90 * time.Second, 0},
		{"client clock 90 s ahead", 90 * time.Second, 0},
		{"server clock 90 s ahead", 0, 90 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t, nxcloudtest.Config{}, func(c *nxcloud.Config) { c.ClockOffset = tt.clientOffset })
			f.sim.SetClockOffset(tt.serverOffset)
			_, err := f.c.Login(context.Background())
			var ne *nxcloud.Error
			if !errors.As(err, &ne) {
				t.Fatalf("err = %v, want *nxcloud.Error", err)
			}
			if !nxcloud.IsAuth(err) || ne.Code < "1000" || ne.Code > "1009" || ne.Kind != outcome.Permanent || !outcome.IsPermanent(err) {
				t.Errorf("error = %+v, want a permanent 1000~1009", ne)
			}
			if !strings.Contains(err.Error(), "±60 s") || !strings.Contains(ne.Hint, "clock") {
				t.Errorf("error %q does not name the ±60 s window and the clock", err)
			}
			if n := f.sim.Requests(nxcloudtest.PathLogin); n != 1 {
				t.Errorf("login requests = %d, want 1: an authentication error is not retried", n)
			}
		})
	}
}

// TestLostReplyNotResent: the simulator sends the SMS and drops the connection;
// the client does not send it again and says the outcome is unknown.
func TestLostReplyNotResent(t *testing.T) {
	tests := []struct {
		name  string
		fault nxcloudtest.Fault
	}{
		{"lost after processing", nxcloudtest.Fault{Path: nxcloudtest.PathGetCode, Lose: true}},
		{"HTTP 503", nxcloudtest.Fault{Path: nxcloudtest.PathGetCode, Status: http.StatusServiceUnavailable}},
		{"9001 system business error", nxcloudtest.Fault{Path: nxcloudtest.PathGetCode, Code: 9001}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t, nxcloudtest.Config{}, nil)
			f.sim.Inject(tt.fault)
			err := f.c.GetCode(context.Background(), phone, nxcloud.MethodSMS)
			if !errors.Is(err, outcome.ErrUnknown) {
				t.Fatalf("err = %v, want one matching outcome.ErrUnknown", err)
			}
			if n := f.sim.Requests(nxcloudtest.PathGetCode); n != 1 {
				t.Errorf("getCode requests = %d, want 1: never re-sent", n)
			}
			want := 0
			if tt.fault.Lose {
				want = 1
			}
			if n := f.sim.CodesSent(phone); n != want {
				t.Errorf("codes sent = %d, want %d", n, want)
			}
			if strings.Contains(err.Error(), nxcloudtest.AccessSecret) || strings.Contains(err.Error(), phone) {
				t.Errorf("error %q leaks the secret or the body", err)
			}
		})
	}
}

// TestLoginRetried: login has no side effect, so a lost reply or a 5xx is retried.
func TestLoginRetried(t *testing.T) {
	f := setup(t, nxcloudtest.Config{}, nil)
	f.sim.Inject(
		nxcloudtest.Fault{Path: nxcloudtest.PathLogin, Lose: true},
		nxcloudtest.Fault{Path: nxcloudtest.PathLogin, Status: http.StatusBadGateway},
	)
	tok, err := f.c.Login(context.Background())
	if err != nil || tok == "" {
		t.Fatalf("Login = %q, %v", tok, err)
	}
	if n := f.sim.Requests(nxcloudtest.PathLogin); n != 3 {
		t.Errorf("login requests = %d, want 3", n)
	}
}

func TestValidation(t *testing.T) {
	f := setup(t, nxcloudtest.Config{}, nil)
	ctx := context.Background()
	okInit := nxcloud.OTAInitRequest{AppKey: nxcloudtest.AppKey, Phone: phone, UserIP: "203.0.113.7"}
	tests := []struct {
		name, field string
		call        func() error
	}{
		{"getCode empty phone", "phone_number", func() error { return f.c.GetCode(ctx, "", nxcloud.MethodSMS) }},
		{"getCode phone with letters", "phone_number", func() error { return f.c.GetCode(ctx, "185xxx99", nxcloud.MethodSMS) }},
		{"getCode method fax", "method", func() error { return f.c.GetCode(ctx, phone, "fax") }},
		{"getCode empty method", "method", func() error { return f.c.GetCode(ctx, phone, "") }},
		{"init no appkey", "appkey", func() error {
			r := okInit
			r.AppKey = ""
			_, err := f.c.OTAInit(ctx, r)
			return err
		}},
		{"init bad phone", "phone", func() error {
			r := okInit
			r.Phone = "12"
			_, err := f.c.OTAInit(ctx, r)
			return err
		}},
		{"init bad userIp", "userIp", func() error {
			r := okInit
			r.UserIP = "localhost"
			_, err := f.c.OTAInit(ctx, r)
			return err
		}},
		{"init empty userIp", "userIp", func() error {
			r := okInit
			r.UserIP = ""
			_, err := f.c.OTAInit(ctx, r)
			return err
		}},
		{"Call unknown path", "bizType/action", func() error { return f.c.Call(ctx, "/api/unknown", nil, nil) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			var pe *nxcloud.ParamError
			if !errors.As(err, &pe) || pe.Field != tt.field || !outcome.IsPermanent(err) {
				t.Errorf("err = %v, want a permanent *ParamError for %s", err, tt.field)
			}
		})
	}
	if st := f.sim.Stats(); len(st.Requests) != 0 {
		t.Errorf("the simulator received %v: invalid calls must not be sent", st.Requests)
	}
}

func TestLoginTokenSource(t *testing.T) {
	fc := clock.NewFake(time.Now())
	f := setup(t, nxcloudtest.Config{Clock: fc}, nil)
	ctx := context.Background()
	src := f.c.TokenSource()
	if src != f.c.TokenSource() {
		t.Fatal("TokenSource returned a second source")
	}
	var wg sync.WaitGroup
	toks := make([]string, 8)
	for i := range toks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := src.TokenContext(ctx)
			if err != nil {
				t.Error(err)
				return
			}
			toks[i] = tok.AccessToken
		}()
	}
	wg.Wait()
	for _, tk := range toks {
		if tk == "" || tk != toks[0] {
			t.Fatalf("tokens = %v, want one shared token", toks)
		}
	}
	if n := f.sim.Logins(); n != 1 {
		t.Errorf("logins = %d, want 1 for 8 callers", n)
	}
	tok, _ := src.TokenContext(ctx)
	if got := tok.Expiry.Sub(fc.Now()); got != nxcloud.DefaultLoginTokenTTL {
		t.Errorf("token lifetime = %v, want %v", got, nxcloud.DefaultLoginTokenTTL)
	}

	fc.Advance(nxcloud.DefaultLoginTokenTTL + time.Second)
	tok2, err := src.TokenContext(ctx)
	if err != nil || tok2.AccessToken == tok.AccessToken {
		t.Fatalf("after the TTL: %v, %v; want a new token", tok2, err)
	}
	src.Invalidate(tok2) // the embedded page reported it rejected
	tok3, err := src.TokenContext(ctx)
	if err != nil || tok3.AccessToken == tok2.AccessToken {
		t.Fatalf("after Invalidate: %v, %v; want a new token", tok3, err)
	}
	if n := f.sim.Logins(); n != 3 {
		t.Errorf("logins = %d, want 3", n)
	}
}

func TestLoginTokenTTLAndPermanentError(t *testing.T) {
	fc := clock.NewFake(time.Now())
	f := setup(t, nxcloudtest.Config{Clock: fc}, func(c *nxcloud.Config) { c.LoginTokenTTL = time.Minute })
	tok, err := f.c.Fetcher().Fetch(context.Background())
	if err != nil || tok.Expiry.Sub(fc.Now()) != time.Minute {
		t.Fatalf("Fetch = %v, %v; want a token for 1 minute", tok, err)
	}

	bad := setup(t, nxcloudtest.Config{Clock: fc}, func(c *nxcloud.Config) {
		c.Credentials = nxcloud.NewCredentials(nxcloudtest.AccessKey, "wrong")
	})
	src := bad.c.TokenSource()
	for range 3 {
		_, err := src.TokenContext(context.Background())
		var ne *nxcloud.Error
		if !errors.As(err, &ne) || !nxcloud.IsAuth(err) {
			t.Fatalf("err = %v, want an authentication *nxcloud.Error", err)
		}
	}
	if n := bad.sim.Requests(nxcloudtest.PathLogin); n != 1 {
		t.Errorf("login requests = %d, want 1: a permanent error is held, not retried", n)
	}
	bad.c.Close()
	if _, err := bad.c.TokenSource().TokenContext(context.Background()); err == nil {
		t.Error("token after Close")
	}
}

// TestChaosNoDuplicateCodes: under random 2206s, 5xx and dropped connections, no
// phone ever gets two codes, and a nil error means exactly one was sent.
func TestChaosNoDuplicateCodes(t *testing.T) {
	fc := clock.NewFake(time.Now())
	f := setup(t, nxcloudtest.Config{Clock: fc, Seed: 7}, func(c *nxcloud.Config) {
		c.Retry = &retry.Policy{MaxAttempts: 8, WaitMin: time.Millisecond, WaitMax: 2 * time.Millisecond}
		c.Limiter = &recLimiter{Adaptive: ratelimit.NewAdaptive(ratelimit.Config{Rate: 100, Burst: 10, Clock: c.Clock})}
	})
	f.sim.SetChaos(nxcloudtest.Chaos{RateLimitRate: 0.3, ServerErrorRate: 0.1, LoseRate: 0.1})
	stop := autoAdvance(fc, 100*time.Millisecond)
	defer stop()

	const n = 12
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f.c.GetCode(context.Background(), fmt.Sprintf("+86138000%05d", i), nxcloud.MethodSMS)
		}()
	}
	wg.Wait()
	stop()
	ok := 0
	for i, err := range errs {
		sent := f.sim.CodesSent(fmt.Sprintf("+86138000%05d", i))
		switch {
		case sent > 1:
			t.Errorf("phone %d got %d codes", i, sent)
		case err == nil && sent != 1:
			t.Errorf("phone %d: success but %d codes sent", i, sent)
		case err != nil && !errors.Is(err, outcome.ErrUnknown) && sent != 0:
			t.Errorf("phone %d: %v, yet %d codes sent", i, err, sent)
		}
		if err == nil {
			ok++
		}
	}
	if ok == 0 {
		t.Errorf("no call succeeded under chaos: %v", errs)
	}
	st := f.sim.Stats()
	t.Logf("%d of %d calls succeeded; simulator: %d requests, codes %v, %d HTTP errors, %d dropped",
		ok, n, st.Requests[nxcloudtest.PathGetCode], st.Codes, st.HTTPErrors, st.Dropped)
}

func TestNewConfigErrors(t *testing.T) {
	creds := nxcloud.NewCredentials("key", "secret")
	tests := []struct {
		name string
		cfg  nxcloud.Config
		want string
	}{
		{"no credentials", nxcloud.Config{}, "AccessKey"},
		{"no secret", nxcloud.Config{Credentials: nxcloud.Credentials{AccessKey: "key"}}, "AccessSecret"},
		{"empty secret", nxcloud.Config{Credentials: nxcloud.NewCredentials("key", "")}, "AccessSecret"},
		{"bad algorithm", nxcloud.Config{Credentials: creds, Algorithm: "sha1"}, "Algorithm"},
		{"bad base URL", nxcloud.Config{Credentials: creds, BaseURL: "ftp://example.com"}, "BaseURL"},
		{"relative base URL", nxcloud.Config{Credentials: creds, BaseURL: "api2.nxcloud.com"}, "BaseURL"},
		{"negative TTL", nxcloud.Config{Credentials: creds, LoginTokenTTL: -time.Second}, "LoginTokenTTL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := nxcloud.New(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New = %v, %v; want an error naming %s", c, err, tt.want)
			}
		})
	}
	c, err := nxcloud.New(nxcloud.Config{Credentials: creds})
	if err != nil {
		t.Fatalf("defaults: %v", err)
	}
	c.Close()
}
