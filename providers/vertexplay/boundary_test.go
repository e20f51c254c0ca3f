package vertexplay_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authwire/authwire/clock"
	"github.com/authwire/authwire/outcome"
	"github.com/authwire/authwire/provider"
	"github.com/authwire/authwire/providers/vertexplay"
	"github.com/authwire/authwire/providers/vertexplay/vertexplaytest"
	"github.com/authwire/authwire/retry"
)

// slowReply wraps the simulator: requests to path are processed, and then their
// reply is held until the client gives up (its context ends the connection).
func slowReply(sim http.Handler, path string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != path {
			sim.ServeHTTP(w, r)
			return
		}
		sim.ServeHTTP(httptest.NewRecorder(), r) // processed: the money moves
		<-r.Context().Done()
	})
}

// TestTransferOrCheckAfterCallerDeadline (issue 14, item 1): the vendor
// processed the transfer and answers after the caller's deadline (1 s: long
// enough to send the transfer on a loaded test machine). The check must run on
// a detached context, so the caller gets the resolved transaction, or, when the
// check fails too, an UnresolvedError matching both outcome.ErrUnknown and the
// deadline — never a bare "context deadline exceeded".
func TestTransferOrCheckAfterCallerDeadline(t *testing.T) {
	for _, tc := range []struct {
		name      string
		checkFail bool
	}{{"check resolves it", false}, {"check fails too", true}} {
		t.Run(tc.name, func(t *testing.T) {
			sim := vertexplaytest.New(vertexplaytest.Config{})
			srv := httptest.NewServer(slowReply(sim, vertexplay.PathTransfer))
			t.Cleanup(srv.Close)
			// Quick retries: the failing check gives up in milliseconds.
			c := newClient(t, srv.URL, sim.Credentials(), provider.Options{Retry: &retry.Policy{MaxAttempts: 3, WaitMin: time.Millisecond, WaitMax: time.Millisecond}})
			sim.AddPlayer("kim", "0")
			if _, err := c.Balance(context.Background(), "kim"); err != nil { // the token, before the clock starts
				t.Fatal(err)
			}
			if tc.checkFail {
				sim.Inject(vertexplaytest.Fault{Path: vertexplay.PathCheckTransaction, Code: vertexplay.CodeInternal, Count: 100})
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			tr, err := c.TransferOrCheck(ctx, vertexplay.TransferRequest{Username: "kim", Amount: "5", TransID: "slow-1"})
			if n := sim.TransferRequests("slow-1"); n != 1 {
				t.Fatalf("transfer sent %d times, want 1", n)
			}
			if _, done := sim.Transaction("slow-1"); !done {
				t.Fatal("the simulator did not process the transfer")
			}
			if !tc.checkFail {
				if err != nil || tr == nil || tr.Amount != "5.00" {
					t.Fatalf("TransferOrCheck = %+v, %v; want the transaction found by the check", tr, err)
				}
				return
			}
			var ue *vertexplay.UnresolvedError
			if !errors.As(err, &ue) || !errors.Is(err, outcome.ErrUnknown) || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v, want an UnresolvedError matching outcome.ErrUnknown and the deadline", err)
			}
		})
	}
}

func newClient(t *testing.T, baseURL string, creds vertexplay.Credentials, opts provider.Options) *vertexplay.Client {
	t.Helper()
	c, err := vertexplay.New(vertexplay.Config{BaseURL: baseURL, Credentials: creds, Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// fakeVP answers /v2/auth with authData (unchecked: these tests are about
// decoding the reply) and every other path with an empty success; it counts
// logins.
func fakeVP(t *testing.T, authData string, logins *atomic.Int64) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == vertexplay.AuthPath {
			logins.Add(1)
			fmt.Fprintf(w, `{"code":0,"message":"No error.","data":%s,"logUUID":"u-auth"}`, authData)
			return
		}
		fmt.Fprint(w, `{"code":0,"message":"No error.","data":[]}`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestExpiresInDecodedRobustly (issue 14, item 7): expiresIn as a huge number
// is capped instead of overflowing to 0.29 s (a login per call), and a numeric
// string or a fraction is read, not a failed login.
func TestExpiresInDecodedRobustly(t *testing.T) {
	creds, _ := vertexplay.NewCredentials(vecAgent, vecAPIKey, vecSecret)
	for _, tc := range []struct {
		expiresIn string
		want      time.Duration
	}{
		{`18446744074`, provider.MaxTokenLifetime},
		{`"3600"`, time.Hour},
		{`3600.5`, time.Hour + 500*time.Millisecond},
		{`" 600 "`, 10 * time.Minute},
		{`null`, provider.DefaultTokenLifetime},
	} {
		t.Run(tc.expiresIn, func(t *testing.T) {
			var logins atomic.Int64
			srv := fakeVP(t, `{"accessToken":"opaque-token","expiresIn":`+tc.expiresIn+`,"tokenType":"Bearer"}`, &logins)
			clk := clock.NewFake(t0)
			c := newClient(t, srv.URL, creds, provider.Options{Clock: clk})
			for range 3 {
				if _, err := c.Games(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			if n := logins.Load(); n != 1 {
				t.Fatalf("%d logins for 3 calls, want 1", n)
			}
			tok, err := c.TokenSource().TokenContext(context.Background())
			if err != nil || tok.AccessToken != "opaque-token" {
				t.Fatalf("token %v, %v", tok, err)
			}
			if got := tok.Expiry.Sub(t0); got != tc.want {
				t.Fatalf("lifetime %v, want %v", got, tc.want)
			}
		})
	}
}

// TestRedirectNotFollowedIsAnError (issue 14, item 3): the API does not
// redirect; a 3xx that is not followed is an error naming the Location, for the
// typed calls and for raw requests classified by Classify (the CLI's path).
func TestRedirectNotFollowedIsAnError(t *testing.T) {
	sim := vertexplaytest.New(vertexplaytest.Config{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == vertexplay.PathGames {
			http.Redirect(w, r, "https://moved.example/v3/games", http.StatusTemporaryRedirect)
			return
		}
		sim.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, srv.URL, sim.Credentials(), provider.Options{})
	_, err := c.Games(context.Background())
	if err == nil || !strings.Contains(err.Error(), "https://moved.example/v3/games") {
		t.Fatalf("err = %v, want an error naming the Location", err)
	}
	if n := sim.Stats().Requests[vertexplay.PathGames]; n != 0 {
		t.Fatalf("the redirect was followed (%d requests reached the simulator's games)", n)
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+vertexplay.PathGames, strings.NewReader("{}"))
	resp, err := c.HTTPClient().Do(req)
	if err == nil {
		r := outcome.Read(resp, vertexplay.Classify)
		resp.Body.Close()
		if err = r.Err; r.Kind == outcome.Success {
			t.Fatalf("a %d through HTTPClient classified as a success", resp.StatusCode)
		}
	}
	if !strings.Contains(err.Error(), "https://moved.example/v3/games") {
		t.Fatalf("raw err = %v, want it to name the Location", err)
	}
}

// TestExistingHTTPClient passes an *http.Client with a 1 s Timeout, a cookie
// Jar and a CheckRedirect, and shows each honoured by the typed calls.
func TestExistingHTTPClient(t *testing.T) {
	sim := vertexplaytest.New(vertexplaytest.Config{})
	sim.AddPlayer("lee", "3")
	var slow atomic.Bool
	release := make(chan struct{})
	var cookieSeen atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := r.Cookie("vp-lb"); err == nil {
			cookieSeen.Add(1)
		}
		switch {
		case r.URL.Path == vertexplay.PathBalance:
			http.SetCookie(w, &http.Cookie{Name: "vp-lb", Value: "node-2", Path: "/"})
		case r.URL.Path == vertexplay.PathGames && slow.Load():
			select { // answers only once the client gave up
			case <-r.Context().Done():
			case <-release:
			}
			return
		case r.URL.Path == vertexplay.PathCreatePlayer:
			http.Redirect(w, r, "/v2/elsewhere", http.StatusFound)
			return
		}
		sim.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs first
	jar, _ := cookiejar.New(nil)
	var redirects atomic.Int64
	hc := &http.Client{Timeout: time.Second, Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		redirects.Add(1)
		return http.ErrUseLastResponse
	}}
	c := newClient(t, srv.URL, sim.Credentials(), provider.Options{HTTPClient: hc})
	ctx := context.Background()

	if b, err := c.Balance(ctx, "lee"); err != nil || b.Balance != "3.00" {
		t.Fatalf("Balance = %+v, %v", b, err)
	}
	if _, err := c.Games(ctx); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(srv.URL)
	if len(jar.Cookies(u)) != 1 || cookieSeen.Load() != 1 {
		t.Fatalf("jar holds %v, the server saw the cookie %d times: the Jar was not used", jar.Cookies(u), cookieSeen.Load())
	}

	_, err := c.CreatePlayer(ctx, vertexplay.CreatePlayerRequest{Username: "max"})
	if redirects.Load() != 1 || err == nil || !strings.Contains(err.Error(), "/v2/elsewhere") {
		t.Fatalf("CheckRedirect called %d times, err = %v; want 1 and an error naming the Location", redirects.Load(), err)
	}

	slow.Store(true)
	if _, err := c.Games(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Games against a server that never answers: %v, want the 1 s Timeout", err)
	}
}
