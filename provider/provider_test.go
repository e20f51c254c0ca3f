package provider_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/goleak"

	"github.com/authwire/authwire/outcome"
	"github.com/authwire/authwire/provider"
	"github.com/authwire/authwire/ratelimit"
	"github.com/authwire/authwire/retry"
)

var env = &outcome.Envelope{
	Vendor: "kit", CodeField: "code", MessageFields: []string{"msg"},
	Codes: outcome.Table[string]{Success: "0", Undocumented: outcome.Transient, Codes: map[string]outcome.Rule{
		"401": {Kind: outcome.TokenRejected, Meaning: "token invalid"},
		"403": {Kind: outcome.Permanent, Meaning: "bad password"},
	}},
}

// vendor is a small test vendor: /login returns tok-N; everything else needs it.
// handle, if set, answers first (true: handled).
type vendor struct {
	*httptest.Server
	logins atomic.Int64
}

func newVendor(t *testing.T, handle func(w http.ResponseWriter, r *http.Request) bool) *vendor {
	v := &vendor{}
	v.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if handle != nil && handle(w, r) {
			return
		}
		if r.URL.Path == "/login" {
			fmt.Fprintf(w, `{"code":0,"data":{"token":"tok-%d","ttl":3600}}`, v.logins.Add(1))
			return
		}
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer tok-") {
			fmt.Fprint(w, `{"code":401}`)
			return
		}
		fmt.Fprint(w, `{"code":0,"data":{"ok":true}}`)
	}))
	t.Cleanup(v.Close)
	return v
}

func spec(base string) provider.Spec {
	return provider.Spec{
		Name: "kit", BaseURLs: []string{base}, LoginURL: "/login", Envelope: env,
		Login: provider.JSONLogin{Body: provider.JSONBody(map[string]string{"k": "v"}), TokenField: "data.token", LifetimeField: "data.ttl"},
	}
}

func newClient(t *testing.T, s provider.Spec, o provider.Options) *provider.Client {
	t.Helper()
	if o.Retry == nil {
		o.Retry = &retry.Policy{WaitMin: time.Millisecond, WaitMax: time.Millisecond}
	}
	c, err := provider.New(s, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestExistingHTTPClientIsHonoured: the wrapped client's Timeout, Jar and
// CheckRedirect all apply to the provider's calls.
func TestExistingHTTPClientIsHonoured(t *testing.T) {
	release := make(chan struct{})
	var cookieSeen atomic.Bool
	v := newVendor(t, func(w http.ResponseWriter, r *http.Request) bool {
		switch r.URL.Path {
		case "/slow":
			select { // until the client gives up (or the test ends)
			case <-r.Context().Done():
			case <-release:
			}
			return true
		case "/set":
			http.SetCookie(w, &http.Cookie{Name: "session", Value: "s-1", Path: "/"})
		case "/check":
			if c, err := r.Cookie("session"); err == nil && c.Value == "s-1" {
				cookieSeen.Store(true)
			}
		case "/moved":
			http.Redirect(w, r, "/check", http.StatusFound)
			return true
		}
		return false
	})
	defer close(release)
	jar, _ := cookiejar.New(nil)
	var redirects atomic.Int32
	hc := &http.Client{
		Timeout: time.Second, // short enough to wait out, long enough for the calls that must succeed
		Jar:     jar,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			redirects.Add(1)
			return nil
		},
	}
	c := newClient(t, spec(v.URL), provider.Options{HTTPClient: hc})
	ctx := context.Background()

	// The 1 s Timeout fires: the call fails with the deadline.
	_, err := c.DoJSON(ctx, http.MethodPost, "/slow", map[string]int{"a": 1}, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("slow call: err = %v, want the 1 s deadline", err)
	}
	// The Jar keeps the cookie and sends it back.
	if _, err := c.DoJSON(ctx, http.MethodGet, "/set", nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DoJSON(ctx, http.MethodGet, "/check", nil, nil); err != nil {
		t.Fatal(err)
	}
	if !cookieSeen.Load() {
		t.Error("the cookie from the Jar was not sent back")
	}
	// CheckRedirect is consulted.
	if _, err := c.DoJSON(ctx, http.MethodGet, "/moved", nil, nil); err != nil {
		t.Fatal(err)
	}
	if redirects.Load() != 1 {
		t.Errorf("CheckRedirect called %d times, want 1", redirects.Load())
	}
	// The same holds for the *http.Client the provider hands out.
	cookieSeen.Store(false)
	resp, err := c.HTTPClient().Get(v.URL + "/check")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !cookieSeen.Load() {
		t.Error("HTTPClient(): the cookie from the Jar was not sent back")
	}
}

// TestHTTPClientIsACopy: changing the returned client changes nothing else.
func TestHTTPClientIsACopy(t *testing.T) {
	v := newVendor(t, nil)
	c := newClient(t, spec(v.URL), provider.Options{Timeout: 5 * time.Second})
	hc := c.HTTPClient()
	hc.Timeout = time.Nanosecond
	hc.Transport = http.NewFileTransport(http.Dir("/nonexistent"))
	if got := c.HTTPClient(); got == hc || got.Timeout != 0 || got.Transport == hc.Transport {
		t.Fatalf("HTTPClient() = %+v after changing an earlier copy", got)
	}
	if _, err := c.DoJSON(context.Background(), http.MethodPost, "/x", nil, nil); err != nil {
		t.Fatalf("the provider's calls changed with the copy: %v", err)
	}
}

// TestHTTPClientTimeout: the overall timeout bounds a call through the client
// HTTPClient returns, over real loopback HTTP, though its Timeout field is zero:
// waiting for the headers, reading a stalled body, and across a redirect, whose
// next hop gets only what is left of the first hop's time.
func TestHTTPClientTimeout(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	stall := func(r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}
	v := newVendor(t, func(w http.ResponseWriter, r *http.Request) bool {
		switch r.URL.Path {
		case "/slow":
			stall(r)
		case "/stalled-body":
			// More than the stack reads to classify: the rest streams to the
			// caller, whose read stalls.
			w.Write([]byte(strings.Repeat(" ", outcome.MaxBody+1)))
			w.(http.Flusher).Flush()
			stall(r)
		case "/moved":
			http.Redirect(w, r, "/slow", http.StatusFound)
		default:
			return false
		}
		return true
	})
	// The deadline of every request as it goes on the wire, hop by hop.
	var mu sync.Mutex
	var deadlines []time.Time
	record := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		d, ok := req.Context().Deadline()
		if !ok {
			t.Errorf("%s went out without a deadline", req.URL.Path)
		}
		mu.Lock()
		deadlines = append(deadlines, d)
		mu.Unlock()
		return http.DefaultTransport.RoundTrip(req)
	})
	// 1 s: the stalled body's first megabyte (read for the classification)
	// must arrive within it, which took over 200 ms with three test runs at once.
	c := newClient(t, spec(v.URL), provider.Options{Timeout: time.Second, AttemptTimeout: -1, Transport: record,
		Retry: &retry.Policy{MaxAttempts: 1}})
	hc := c.HTTPClient()
	if hc.Timeout != 0 {
		t.Fatalf("HTTPClient().Timeout = %v: net/http would time each request itself", hc.Timeout)
	}

	_, err := hc.Get(v.URL + "/slow")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("slow headers: err = %v, want the deadline", err)
	}
	resp, err := hc.Get(v.URL + "/stalled-body")
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("stalled body: err = %v, want the deadline", err)
	}

	mu.Lock()
	deadlines = deadlines[:0]
	mu.Unlock()
	if _, err := hc.Get(v.URL + "/moved"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("redirected to a slow path: err = %v, want the deadline", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(deadlines) != 2 || !deadlines[1].Equal(deadlines[0]) {
		t.Errorf("deadlines of the first hop and the next = %v, want two, equal", deadlines)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// TestCredentialsOnlyOverTLS: a non-loopback http origin is refused when the
// client is built, before anything is sent; https and loopback http are fine;
// AllowInsecureHTTP opts in.
func TestCredentialsOnlyOverTLS(t *testing.T) {
	var sent atomic.Int32
	probe := &countingTransport{n: &sent}
	tests := []struct {
		name     string
		base     string
		login    string
		insecure bool
		wantErr  string // "" means accepted
	}{
		{"https", "https://api.vendor.example", "/login", false, ""},
		{"https login elsewhere", "https://api.vendor.example", "https://sso.vendor.example/login", false, ""},
		{"loopback v4", "http://127.0.0.1:8080", "/login", false, ""},
		{"loopback v4 range", "http://127.8.9.10", "/login", false, ""},
		{"loopback v6", "http://[::1]:9000", "/login", false, ""},
		{"localhost", "http://localhost:9000", "/login", false, ""},
		{"plain http", "http://api.vendor.example", "/login", false, "http://api.vendor.example"},
		{"plain http login", "https://api.vendor.example", "http://sso.vendor.example/login", false, "http://sso.vendor.example"},
		{"lookalike", "http://127.0.0.1.vendor.example", "/login", false, "http://127.0.0.1.vendor.example"},
		{"private address", "http://10.0.0.1", "/login", false, "http://10.0.0.1"},
		{"opt-in", "http://api.vendor.example", "/login", true, ""},
		{"not http", "ftp://api.vendor.example", "/login", true, "scheme"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := spec(tt.base)
			s.LoginURL = tt.login
			c, err := provider.New(s, provider.Options{Transport: probe, AllowInsecureHTTP: tt.insecure})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				c.Close()
				return
			}
			if err == nil {
				c.Close()
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tt.wantErr) || (tt.wantErr != "scheme" && !strings.Contains(err.Error(), "Options.AllowInsecureHTTP")) {
				t.Errorf("error %q does not name %q and the opt-in", err, tt.wantErr)
			}
		})
	}
	if n := sent.Load(); n != 0 {
		t.Errorf("%d requests sent while building clients", n)
	}
}

type countingTransport struct{ n *atomic.Int32 }

func (c *countingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	c.n.Add(1)
	return nil, errors.New("not sent in this test")
}

// TestCloseStopsTheTokenSource: after Close no goroutine of the client is left,
// even with a background refresh due.
func TestCloseStopsTheTokenSource(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	v := newVendor(t, nil)
	s := spec(v.URL)
	s.Token.EarlyRefresh = time.Hour // every use starts a refresh in the background
	c, err := provider.New(s, provider.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := c.DoJSON(context.Background(), http.MethodPost, "/x", nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
	v.Close()
}

// TestOnlyCredentialedHostsGetState: a request to another host through the
// provider's client creates no limiter key and carries no token.
func TestOnlyCredentialedHostsGetState(t *testing.T) {
	v := newVendor(t, nil)
	var other atomic.Value
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		other.Store(r.Header.Get("Authorization"))
		fmt.Fprint(w, `{"code":0}`)
	}))
	defer elsewhere.Close()
	lim := &keyRecorder{Limiter: ratelimit.NewAdaptive(ratelimit.Config{Rate: 1000, Burst: 100})}
	// Both servers listen on 127.0.0.1: the port tells them apart.
	c := newClient(t, spec(v.URL), provider.Options{Limiter: lim})
	if _, err := c.DoJSON(context.Background(), http.MethodPost, "/x", nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DoJSON(context.Background(), http.MethodPost, elsewhere.URL+"/y", nil, nil); err != nil {
		t.Fatal(err)
	}
	if got := other.Load(); got != "" {
		t.Errorf("the other host received Authorization %q", got)
	}
	for _, k := range lim.keys() {
		if strings.Contains(elsewhere.URL, k) {
			t.Errorf("limiter key %q created for a host without credentials", k)
		}
	}
	if len(lim.keys()) == 0 {
		t.Error("the vendor's requests were not paced")
	}
}

type keyRecorder struct {
	ratelimit.Limiter
	mu sync.Mutex
	m  map[string]bool
}

func (k *keyRecorder) Wait(ctx context.Context, key string) error {
	k.mu.Lock()
	if k.m == nil {
		k.m = map[string]bool{}
	}
	k.m[key] = true
	k.mu.Unlock()
	return k.Limiter.Wait(ctx, key)
}

func (k *keyRecorder) keys() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []string
	for key := range k.m {
		out = append(out, key)
	}
	return out
}

// TestPerAttemptHook: the hook runs on every attempt, logins included, on a copy;
// the attempt timeout bounds one attempt.
func TestPerAttemptHook(t *testing.T) {
	var withHeader, without atomic.Int32
	v := newVendor(t, func(w http.ResponseWriter, r *http.Request) bool {
		if r.Header.Get("Language") == "en" {
			withHeader.Add(1)
		} else {
			without.Add(1)
		}
		if r.URL.Path == "/hang" {
			<-r.Context().Done()
			return true
		}
		return false
	})
	s := spec(v.URL)
	s.PerAttempt = func(r *http.Request) { r.Header.Set("Language", "en") }
	c := newClient(t, s, provider.Options{AttemptTimeout: 50 * time.Millisecond, Retry: &retry.Policy{MaxAttempts: 2, WaitMin: time.Millisecond, WaitMax: time.Millisecond}})
	req, _ := http.NewRequest(http.MethodPost, v.URL+"/x", nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if req.Header.Get("Language") != "" {
		t.Error("the hook changed the caller's request")
	}
	if withHeader.Load() != 2 || without.Load() != 0 { // the login and the call
		t.Errorf("hook ran on %d requests, missed %d", withHeader.Load(), without.Load())
	}
	// An idempotent call that hangs: each attempt is cut at 50 ms, both are made.
	before := withHeader.Load()
	_, err = c.DoJSON(retry.Idempotent(context.Background()), http.MethodPost, "/hang", nil, nil)
	if err == nil {
		t.Fatal("a hanging vendor answered")
	}
	if n := withHeader.Load() - before; n != 2 {
		t.Errorf("%d attempts, want 2 (each cut by the attempt timeout)", n)
	}
}

// TestLoginFailures: a permanent login code is held (one login for many calls)
// and is an *outcome.Error; the kind is what the Spec's login classifier says.
func TestLoginFailures(t *testing.T) {
	var logins atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/login" {
			logins.Add(1)
			fmt.Fprint(w, `{"code":"403","msg":"wrong password"}`)
			return
		}
		t.Error("a call was sent without a token")
	}))
	defer srv.Close()
	c := newClient(t, spec(srv.URL), provider.Options{})
	for range 5 {
		_, err := c.DoJSON(context.Background(), http.MethodPost, "/x", nil, nil)
		var e *outcome.Error
		if !errors.As(err, &e) || e.Kind != outcome.Permanent || e.Code != "403" || e.Op != "/login" {
			t.Fatalf("err = %v, want the login's permanent *outcome.Error", err)
		}
	}
	if n := logins.Load(); n != 1 {
		t.Errorf("%d logins, want 1 (a permanent error is held)", n)
	}
}

func TestParseLifetime(t *testing.T) {
	tests := []struct {
		in   any
		want time.Duration
		ok   bool
	}{
		{json.RawMessage(`3600`), time.Hour, true},
		{json.RawMessage(`"3600"`), time.Hour, true},
		{json.RawMessage(`3600.5`), time.Hour + 500*time.Millisecond, true},
		{json.RawMessage(`18446744074`), provider.MaxTokenLifetime, true},
		{json.RawMessage(`1e300`), provider.MaxTokenLifetime, true},
		{json.RawMessage(`0`), 0, false},
		{json.RawMessage(`-5`), 0, false},
		{json.RawMessage(`null`), 0, false},
		{json.RawMessage(`"soon"`), 0, false},
		{json.Number("60"), time.Minute, true},
		{float64(1.5), 1500 * time.Millisecond, true},
		{nil, 0, false},
	}
	for _, tt := range tests {
		got, ok := provider.ParseLifetime(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseLifetime(%s) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// TestOwnMeterProvider: the client's metrics go to the MeterProvider in its
// Options, not to the global one.
func TestOwnMeterProvider(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	var n atomic.Int32
	v := newVendor(t, func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/login" && n.Add(1) == 1 {
			fmt.Fprint(w, `{"code":401}`) // one re-login
			return true
		}
		return false
	})
	c := newClient(t, spec(v.URL), provider.Options{MeterProvider: mp})
	if _, err := c.DoJSON(context.Background(), http.MethodPost, "/x", nil, nil); err != nil {
		t.Fatal(err)
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if d, ok := m.Data.(metricdata.Sum[int64]); ok {
				for _, dp := range d.DataPoints {
					got[m.Name] += dp.Value
				}
			}
		}
	}
	if got["authwire.logins"] != 2 || got["authwire.reauths"] != 1 {
		t.Errorf("own provider received %v, want 2 logins and 1 re-auth", got)
	}
}
