package roundtripper_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/authwire/authwire/outcome"
	"github.com/authwire/authwire/ratelimit"
	"github.com/authwire/authwire/retry"
	"github.com/authwire/authwire/roundtripper"
	"github.com/authwire/authwire/tokensource"
)

// vendor is a tiny loopback vendor: it accepts one current token and answers
// {"code":N} envelopes, 12 meaning "token invalid" inside an HTTP 200.
type vendor struct {
	mu      sync.Mutex
	valid   string
	hits    atomic.Int32
	headers chan http.Header // optional: every request's headers
	bodies  chan string      // optional: every request's body

	// holdRejections, when set, holds every rejected request until that many
	// have arrived, so they are all in flight with the same token at once.
	holdRejections int32
	rejected       atomic.Int32
	allRejected    chan struct{}
}

func (v *vendor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	v.hits.Add(1)
	b, _ := io.ReadAll(r.Body)
	if v.headers != nil {
		v.headers <- r.Header.Clone()
	}
	if v.bodies != nil {
		v.bodies <- string(b)
	}
	v.mu.Lock()
	ok := r.Header.Get("Authorization") == "Bearer "+v.valid
	v.mu.Unlock()
	if !ok {
		if v.holdRejections > 0 {
			if v.rejected.Add(1) == v.holdRejections {
				close(v.allRejected)
			}
			<-v.allRejected
		}
		fmt.Fprint(w, `{"code":12,"message":"token invalid"}`)
		return
	}
	fmt.Fprintf(w, `{"code":0,"echo":%q}`, b)
}

func (v *vendor) accept(tok string) { v.mu.Lock(); v.valid = tok; v.mu.Unlock() }

var table = outcome.Table[int]{
	Codes: map[int]outcome.Rule{
		12:    {Kind: outcome.TokenRejected, Meaning: "token invalid"},
		42900: {Kind: outcome.RateLimited, Meaning: "too frequent"},
		7:     {Kind: outcome.Transient, Meaning: "internal error"},
		11:    {Kind: outcome.Permanent, Meaning: "parameters error"},
	},
	Undocumented:   outcome.Transient,
	RateLimitAfter: time.Second,
}

// classify reads {"code":N} envelopes; other replies are classified by status.
func classify(resp *http.Response, body []byte) outcome.Result {
	var env struct {
		Code *int `json:"code"`
	}
	if json.Unmarshal(body, &env) != nil || env.Code == nil {
		return outcome.ByStatus(resp, body)
	}
	r := table.Lookup(*env.Code)
	res := outcome.Result{Kind: r.Kind}
	if r.Kind == outcome.RateLimited {
		res.After = table.RateLimitAfter
	}
	if r.Kind != outcome.Success {
		res.Err = fmt.Errorf("vendor code %d: %s", *env.Code, r.Meaning)
	}
	return res
}

// logins issues tok-1, tok-2, … and tells the vendor to accept the newest.
type logins struct {
	v *vendor
	n atomic.Int32
}

func (l *logins) Fetch(context.Context) (*oauth2.Token, error) {
	tok := fmt.Sprintf("tok-%d", l.n.Add(1))
	l.v.accept(tok)
	return &oauth2.Token{AccessToken: tok, Expiry: time.Now().Add(time.Hour)}, nil
}

func hostsOf(t *testing.T, urls ...string) roundtripper.Hosts {
	t.Helper()
	h, err := roundtripper.HostsOf(urls...)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestRejectionStormOneRelogin(t *testing.T) {
	const requests = 1000
	v := &vendor{holdRejections: requests, allRejected: make(chan struct{})}
	srv := httptest.NewServer(v)
	defer srv.Close()
	l := &logins{v: v}
	src := tokensource.New(l)
	defer src.Close()
	if _, err := src.Token(); err != nil { // tok-1 cached
		t.Fatal(err)
	}
	v.accept("revoked") // the vendor revokes tok-1: every request now gets code 12

	client := &http.Client{Transport: &roundtripper.Token{
		Source: src, Hosts: hostsOf(t, srv.URL), Classifier: classify,
		Base: &http.Transport{MaxIdleConnsPerHost: requests},
	}}
	var wg sync.WaitGroup
	var ok atomic.Int32
	for i := range requests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := client.Post(srv.URL+"/x", "application/json", strings.NewReader(fmt.Sprintf(`{"i":%d}`, i)))
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if !strings.Contains(string(b), `"code":0`) || !strings.Contains(string(b), fmt.Sprintf(`{\"i\":%d}`, i)) {
				t.Errorf("request %d: %s", i, b)
				return
			}
			ok.Add(1)
		}()
	}
	wg.Wait()
	if got := l.n.Load(); got != 2 {
		t.Fatalf("logins = %d, want 2 (1 initial + 1 re-login for %d rejections)", got, requests)
	}
	if ok.Load() != requests {
		t.Fatalf("%d of %d succeeded", ok.Load(), requests)
	}
	if h := v.hits.Load(); h != 2*requests {
		t.Fatalf("vendor hits = %d, want %d: each request re-sent exactly once", h, 2*requests)
	}
}

func TestSecondRejectionIsReturnedNotLooped(t *testing.T) {
	v := &vendor{}
	srv := httptest.NewServer(v)
	defer srv.Close()
	// A login whose tokens the vendor never accepts.
	var n atomic.Int32
	src := tokensource.New(tokensource.FetcherFunc(func(context.Context) (*oauth2.Token, error) {
		return &oauth2.Token{AccessToken: fmt.Sprintf("bad-%d", n.Add(1))}, nil
	}))
	defer src.Close()
	client := &http.Client{Transport: &roundtripper.Token{Source: src, Hosts: hostsOf(t, srv.URL), Classifier: classify}}
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"code":12`) {
		t.Fatalf("body = %s, want the vendor's rejection", b)
	}
	if n.Load() != 2 || v.hits.Load() != 2 {
		t.Fatalf("logins %d, sends %d: want 2 and 2 (re-auth once, never loop)", n.Load(), v.hits.Load())
	}
}

func TestHeaderTokenExactName(t *testing.T) {
	headers := make(chan http.Header, 1)
	var raw string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		headers <- r.Header.Clone()
		raw = fmt.Sprint(r.Header)
	}))
	defer srv.Close()
	src := tokensource.New(tokensource.FetcherFunc(func(context.Context) (*oauth2.Token, error) {
		return &oauth2.Token{AccessToken: "abc"}, nil
	}))
	defer src.Close()
	client := &http.Client{Transport: &roundtripper.Token{Source: src, Header: "x_token", Format: roundtripper.RawToken, Hosts: hostsOf(t, srv.URL)}}
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	h := <-headers
	// The server canonicalises on read; what matters is that the value arrived
	// under that name and that no Authorization header was invented.
	if h.Get("X_token") != "abc" || h.Get("Authorization") != "" {
		t.Fatalf("headers = %v", raw)
	}
}

func TestRedirectToOtherHostCarriesNoCredential(t *testing.T) {
	leaked := make(chan http.Header, 1)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked <- r.Header.Clone()
	}))
	defer other.Close()
	home := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" || r.Header.Get("X-Sign") == "" {
			t.Errorf("home host got no credential")
		}
		http.Redirect(w, r, other.URL+"/steal", http.StatusFound)
	}))
	defer home.Close()

	src := tokensource.New(tokensource.FetcherFunc(func(context.Context) (*oauth2.Token, error) {
		return &oauth2.Token{AccessToken: "secret-token"}, nil
	}))
	defer src.Close()
	signer := roundtripper.SignerFunc(func(r *http.Request, body []byte) ([]byte, error) {
		r.Header.Set("X-Sign", "signature")
		return body, nil
	})
	rt, err := roundtripper.New(roundtripper.Config{Hosts: hostsOf(t, home.URL), Token: src, Signer: signer})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Transport: rt}).Get(home.URL + "/start")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	h := <-leaked
	for _, name := range []string{"Authorization", "X-Sign"} {
		if v := h.Get(name); v != "" {
			t.Errorf("redirect to another host carried %s: %q", name, v)
		}
	}
}

func TestCredentialTransportsNeedHosts(t *testing.T) {
	src := tokensource.New(tokensource.FetcherFunc(func(context.Context) (*oauth2.Token, error) {
		return &oauth2.Token{AccessToken: "x"}, nil
	}))
	defer src.Close()
	body := &closeRecorder{Reader: strings.NewReader("{}")}
	req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:1/", body)
	if _, err := (&roundtripper.Token{Source: src}).RoundTrip(req); !errors.Is(err, roundtripper.ErrNoHosts) {
		t.Fatalf("err = %v, want ErrNoHosts", err)
	}
	if !body.closed {
		t.Fatal("request body not closed on error")
	}
	if _, err := roundtripper.New(roundtripper.Config{Token: src}); !errors.Is(err, roundtripper.ErrNoHosts) {
		t.Fatalf("New without hosts: %v", err)
	}
}

type closeRecorder struct {
	io.Reader
	closed bool
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }

func TestHostsMatchOrigins(t *testing.T) {
	h := hostsOf(t, "https://API.example.com", "http://127.0.0.1:8080/base", "http://[::1]:9000")
	for _, tc := range []struct {
		url  string
		want bool
	}{
		{"https://api.example.com/v2/x", true},
		{"https://api.example.com:443/v2/x", true},
		{"http://api.example.com/v2/x", false}, // scheme downgrade
		{"https://api.example.com.evil.io/", false},
		{"https://evil.io/?https://api.example.com", false},
		{"http://127.0.0.1:8080/other", true},
		{"http://127.0.0.1:8081/", false},
		{"http://[::1]:9000/x", true},
		{"http://[::1]:9001/x", false},
		{"http://127.0.0.1/", false},
		{"HTTPS://Api.Example.COM/v2/x", true}, // not spelled as stored: the slow path
		{"https://api.example.com:444/v2/x", false},
		{"https://user@api.example.com/v2/x", true}, // user info is not the host
	} {
		t.Run(tc.url, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, tc.url, nil)
			if got := h.Allows(req.URL); got != tc.want {
				t.Fatalf("Allows = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestHostsHandWritten: Hosts written by hand, not by HostsOf, are matched by
// origin too, whatever their spelling.
func TestHostsHandWritten(t *testing.T) {
	h := roundtripper.Hosts{"HTTPS://api.example.com:443/base", "http://localhost:80"}
	for _, tc := range []struct {
		url  string
		want bool
	}{
		{"https://api.example.com/x", true},
		{"http://localhost/x", true},
		{"http://localhost:80/x", true},
		{"https://localhost/x", false},
		{"https://api.example.com:8443/x", false},
	} {
		req, _ := http.NewRequest(http.MethodGet, tc.url, nil)
		if got := h.Allows(req.URL); got != tc.want {
			t.Errorf("Allows(%s) = %v, want %v", tc.url, got, tc.want)
		}
	}
}

func TestCancelledWhileWaitingForToken(t *testing.T) {
	release := make(chan struct{})
	src := tokensource.New(tokensource.FetcherFunc(func(ctx context.Context) (*oauth2.Token, error) {
		<-release
		return &oauth2.Token{AccessToken: "x"}, nil
	}))
	defer src.Close()
	defer close(release)
	rt := &roundtripper.Token{Source: src, Hosts: hostsOf(t, "http://127.0.0.1:1")}
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:1/", nil)
	errc := make(chan error, 1)
	go func() { _, err := rt.RoundTrip(req); errc <- err }()
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestSignerReplacesBodyAndCallerRequestUntouched(t *testing.T) {
	bodies := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.ContentLength != int64(len(b)) {
			t.Errorf("Content-Length %d for %d bytes", r.ContentLength, len(b))
		}
		bodies <- string(b) + "|" + r.Header.Get("X-Sig")
	}))
	defer srv.Close()
	signer := roundtripper.SignerFunc(func(r *http.Request, body []byte) ([]byte, error) {
		r.Header.Set("X-Sig", fmt.Sprint(len(body)))
		return []byte(`{"cipherText":"` + strings.ToUpper(string(body)) + `"}`), nil
	})
	client := &http.Client{Transport: &roundtripper.Signing{Signer: signer, Hosts: hostsOf(t, srv.URL)}}
	req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader("hello"))
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := <-bodies; got != `{"cipherText":"HELLO"}|5` {
		t.Fatalf("server got %q", got)
	}
	if req.Header.Get("X-Sig") != "" {
		t.Fatal("the caller's request was modified")
	}
}

// countingLimiter lets requests through and counts the waits per key; from the
// refuseFrom-th wait on (0: never) it refuses, as a limiter does when the wait
// would outlast the caller's deadline.
type countingLimiter struct {
	mu         sync.Mutex
	waits      map[string]int
	n          int
	refuseFrom int
}

func (l *countingLimiter) Wait(_ context.Context, key string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n++
	l.waits[key]++
	if l.refuseFrom > 0 && l.n >= l.refuseFrom {
		return &ratelimit.WaitError{Key: key, Wait: time.Minute}
	}
	return nil
}

func (l *countingLimiter) Observe(string, outcome.Result) {}

// TestReauthResendIsPaced: the re-send after a rejected token waits for the
// limiter, under the request's limit key, as any attempt does: it spends the
// vendor's budget too. A wait the limiter refuses leaves it unsent.
func TestReauthResendIsPaced(t *testing.T) {
	for _, tc := range []struct {
		name       string
		refuseFrom int // the first call waits once; the second twice: send, re-send
		wantWaits  int
		wantHits   int32
		wantErr    error
	}{
		{"paced", 0, 3, 3, nil},
		{"refused", 3, 3, 2, ratelimit.ErrDeadline},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := &vendor{}
			srv := httptest.NewServer(v)
			defer srv.Close()
			src := tokensource.New(&logins{v: v})
			defer src.Close()
			lim := &countingLimiter{waits: map[string]int{}, refuseFrom: tc.refuseFrom}
			client := stack(t, srv.URL, roundtripper.Config{Token: src, Limiter: lim,
				LimitKey: func(*http.Request) string { return "acme" }, Retry: &retry.Policy{MaxAttempts: 1}})
			get := func() error {
				resp, err := client.Get(srv.URL)
				if err == nil {
					resp.Body.Close()
				}
				return err
			}
			if err := get(); err != nil {
				t.Fatal(err)
			}
			v.accept("revoked") // the cached token is rejected from now on
			if err := get(); !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
				t.Fatalf("call with a rejected token: %v, want %v", err, tc.wantErr)
			}
			if lim.waits["acme"] != tc.wantWaits || len(lim.waits) != 1 {
				t.Errorf("limiter waits %v, want %d under acme", lim.waits, tc.wantWaits)
			}
			if h := v.hits.Load(); h != tc.wantHits {
				t.Errorf("vendor hits %d, want %d", h, tc.wantHits)
			}
		})
	}
}
