package benchmarks

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/authwire/authwire/breaker"
	"github.com/authwire/authwire/providers/vertexplay"
	"github.com/authwire/authwire/ratelimit"
	"github.com/authwire/authwire/roundtripper"
	"github.com/authwire/authwire/tokensource"
)

// Refresh storm: many goroutines ask for a token at the moment it needs
// replacing, while the upstream takes slowRefresh to answer.
const (
	stormCallers = 10000
	slowRefresh  = 50 * time.Millisecond
)

// The moments a refresh storm can hit, relative to a token that lives one hour
// and (with early refresh) is refreshed in the background during its last ten
// minutes.
type stormMode struct {
	name  string
	early bool          // early refresh on
	at    time.Duration // when the storm hits, after the token was fetched
	fetch bool          // a fetch is expected
}

var stormModes = []stormMode{
	// steady: a hit on a fresh token, no refresh anywhere: the baseline p99.
	{name: "steady", early: true, at: time.Minute},
	// early: the storm hits inside the early-refresh window: one background
	// refresh runs, every caller keeps the current token.
	{name: "early-refresh", early: true, at: 55 * time.Minute, fetch: true},
	// expired: no early refresh, the token has expired: every caller waits for
	// the one slow fetch.
	{name: "expired", early: false, at: 61 * time.Minute, fetch: true},
}

// refreshStorm runs one storm of len(lat) callers and returns the number of
// upstream fetches it caused (the fill of the cache not counted); lat receives
// each caller's latency. ready, if set, is called once the callers are parked,
// just before they are released.
//
// With gated, the refresh does not sleep but blocks until the callers are done
// (early refresh: proof that none waited for it, independent of timing) or until
// they are released (expired: they must wait).
func refreshStorm(tb testing.TB, m stormMode, lat []time.Duration, ready func(), gated bool) int64 {
	t0 := time.Unix(1_700_000_000, 0)
	clk := newAtomicClock(t0)
	var fetches atomic.Int64
	refreshed := make(chan struct{})
	gate := make(chan struct{})
	fetcher := tokensource.FetcherFunc(func(context.Context) (*oauth2.Token, error) {
		n := fetches.Add(1)
		if n > 1 {
			defer close(refreshed)
			if gated {
				<-gate
			} else {
				time.Sleep(slowRefresh) // the slow upstream; the fill is instant
			}
		}
		return &oauth2.Token{AccessToken: fmt.Sprintf("tok-%d", n), Expiry: clk.Now().Add(time.Hour)}, nil
	})
	window := time.Duration(0)
	if m.early {
		window = 10 * time.Minute
	}
	src := tokensource.New(fetcher, tokensource.WithClock(clk), tokensource.WithExpirySkew(0), tokensource.WithEarlyRefresh(window, 0))
	if _, err := src.Token(); err != nil {
		tb.Fatal(err)
	}
	clk.Advance(m.at)

	var parked, done sync.WaitGroup
	start := make(chan struct{})
	var failed atomic.Int64
	ctx := context.Background()
	for i := range lat {
		parked.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			parked.Done()
			<-start
			t := time.Now()
			_, err := src.TokenContext(ctx)
			lat[i] = time.Since(t)
			if err != nil {
				failed.Add(1)
			}
		}()
	}
	parked.Wait()
	if ready != nil {
		ready()
	}
	close(start)
	if gated && !m.early {
		close(gate) // expired: the callers wait for this fetch
	}
	finished := make(chan struct{})
	go func() { done.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(30 * time.Second):
		tb.Fatal("callers still waiting after 30 s: they wait for the background refresh")
	}
	if gated && m.early {
		close(gate)
	}
	if m.fetch {
		// Let the refresh finish before Close, which would cancel it.
		select {
		case <-refreshed:
		case <-time.After(10 * time.Second):
			tb.Error("the refresh never finished")
		}
	}
	src.Close()
	if n := failed.Load(); n > 0 {
		tb.Errorf("%d callers got an error", n)
	}
	return fetches.Load() - 1
}

// BenchmarkRefreshStorm: 10,000 goroutines at expiry. fetches/op must be 1 (0 in
// steady state); waiters/op counts the callers that waited for the refresh (at
// least half of its slowRefresh): 0 is the goal of early refresh, and a caller
// that waited cannot hide in a percentile. ns/op is the whole storm, goroutine
// start-up included.
func BenchmarkRefreshStorm(b *testing.B) {
	for _, m := range stormModes {
		b.Run("when="+m.name, func(b *testing.B) {
			lat := make([]time.Duration, stormCallers)
			var fetches, waiters int64
			for b.Loop() {
				b.StopTimer()
				fetches += refreshStorm(b, m, lat, b.StartTimer, false)
				for _, d := range lat {
					if d >= slowRefresh/2 {
						waiters++
					}
				}
			}
			b.ReportMetric(float64(fetches)/float64(b.N), "fetches/op")
			b.ReportMetric(float64(waiters)/float64(b.N), "waiters/op")
		})
	}
}

// authServer answers okBody to the current token and 401 to any other. A request
// with a stale token is held until need of them have arrived, so the rejections
// are truly concurrent: need requests in flight, all rejected at once.
type authServer struct {
	valid atomic.Pointer[string]
	round atomic.Pointer[authRound]
	calls atomic.Int64
}

type authRound struct {
	need    int64
	arrived atomic.Int64
	gate    chan struct{}
}

func (s *authServer) newRound(need int) {
	s.round.Store(&authRound{need: int64(need), gate: make(chan struct{})})
}

func (s *authServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.calls.Add(1)
	tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if v := s.valid.Load(); v != nil && tok == *v {
		w.Write([]byte(okBody))
		return
	}
	rd := s.round.Load()
	if rd.arrived.Add(1) == rd.need {
		close(rd.gate)
	}
	select {
	case <-rd.gate:
	case <-time.After(10 * time.Second): // never hang a broken run
	}
	w.WriteHeader(http.StatusUnauthorized)
	w.Write([]byte(`{"code":12,"message":"token invalid"}`))
}

// reauthStorm sends n concurrent GETs through the full stack with a token the
// server has just revoked, and returns the number of logins it caused.
func reauthStorm(tb testing.TB, srv *authServer, url string, base http.RoundTripper, n int, ready func()) (logins int64) {
	var count atomic.Int64
	login := tokensource.FetcherFunc(func(context.Context) (*oauth2.Token, error) {
		tok := fmt.Sprintf("tok-%d", count.Add(1))
		srv.valid.Store(&tok)
		return &oauth2.Token{AccessToken: tok, TokenType: "Bearer", Expiry: time.Now().Add(time.Hour)}, nil
	})
	src := tokensource.New(login)
	defer src.Close()
	if _, err := src.Token(); err != nil {
		tb.Fatal(err)
	}
	revoked := "revoked"
	srv.valid.Store(&revoked) // the vendor drops every session
	srv.newRound(n)

	hosts, _ := roundtripper.HostsOf(url)
	rt, err := roundtripper.New(roundtripper.Config{
		Hosts:      hosts,
		Classifier: vertexplay.Classify,
		Token:      src,
		Limiter:    ratelimit.NewAdaptive(ratelimit.Config{Rate: 1e9, Burst: 1 << 20}),
		Breakers:   breaker.NewSet(breaker.Config{}),
		Base:       base,
	})
	if err != nil {
		tb.Fatal(err)
	}
	c := &http.Client{Transport: rt}
	var parked, done sync.WaitGroup
	start := make(chan struct{})
	var failed atomic.Int64
	for range n {
		parked.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			parked.Done()
			<-start
			if err := do(c, http.MethodGet, url, nil); err != nil {
				failed.Add(1)
			}
		}()
	}
	parked.Wait()
	if ready != nil {
		ready()
	}
	close(start)
	done.Wait()
	if f := failed.Load(); f > 0 {
		tb.Errorf("%d of %d requests failed", f, n)
	}
	return count.Load() - 1
}

// Benchmark401Storm: 1,000 in-flight requests rejected at once (the vendor
// revoked the token) must cause exactly one re-login (relogins/op); each request
// is re-sent once (vendor-calls/op 2000).
func Benchmark401Storm(b *testing.B) {
	const n = 1000
	srv := &authServer{}
	ts := newServer(b, srv)
	base := baseTransport(b)
	var logins int64
	var calls int64
	for b.Loop() {
		b.StopTimer()
		before := srv.calls.Load()
		logins += reauthStorm(b, srv, ts.URL, base, n, b.StartTimer)
		calls += srv.calls.Load() - before
	}
	b.ReportMetric(float64(logins)/float64(b.N), "relogins/op")
	b.ReportMetric(float64(calls)/float64(b.N), "vendor-calls/op")
}

// TestRefreshStormOneFetch is the refresh storm at test scale: one fetch, and with
// early refresh no caller waits for it.
func TestRefreshStormOneFetch(t *testing.T) {
	for _, m := range stormModes {
		t.Run(m.name, func(t *testing.T) {
			lat := make([]time.Duration, 1000)
			want := int64(0)
			if m.fetch {
				want = 1
			}
			// Gated: with early refresh the fetch is held until every caller
			// has its token, so the storm ends only if none waited for it.
			if got := refreshStorm(t, m, lat, nil, true); got != want {
				t.Errorf("fetches = %d, want %d", got, want)
			}
		})
	}
}

// TestReauthStormOneLogin is the 401 storm at test scale.
func TestReauthStormOneLogin(t *testing.T) {
	srv := &authServer{}
	ts := newServer(t, srv)
	const n = 200
	before := srv.calls.Load()
	if got := reauthStorm(t, srv, ts.URL, baseTransport(t), n, nil); got != 1 {
		t.Errorf("re-logins = %d, want 1", got)
	}
	if got := srv.calls.Load() - before; got != 2*n {
		t.Errorf("vendor calls = %d, want %d (each request sent, rejected, re-sent once)", got, 2*n)
	}
}
