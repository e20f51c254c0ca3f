package breaker_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/authwire/authwire/breaker"
	"github.com/authwire/authwire/outcome"
)

func TestOnlyUnhealthyOutcomesCount(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		open   bool
	}{
		{"5xx", 503, true},
		{"rate limited", 429, false},
		{"validation error", 400, false},
		{"token rejected", 401, false},
		{"success", 200, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(tc.status) }))
			defer srv.Close()
			set := breaker.NewSet(breaker.Config{ConsecutiveFailures: 3})
			c := &http.Client{Transport: &breaker.Transport{Set: set, Key: func(*http.Request) string { return "k" }}}
			for range 5 {
				resp, err := c.Get(srv.URL)
				if err != nil {
					if !tc.open || !errors.Is(err, breaker.ErrOpen) {
						t.Fatalf("unexpected error %v", err)
					}
					continue
				}
				resp.Body.Close()
			}
			if got := set.State("k") == gobreaker.StateOpen; got != tc.open {
				t.Fatalf("open = %v, want %v", got, tc.open)
			}
		})
	}
}

func TestOpenErrorIsTyped(t *testing.T) {
	err := error(&breaker.OpenError{Name: "vendor-a", State: gobreaker.StateOpen})
	var oe *breaker.OpenError
	if !errors.Is(err, breaker.ErrOpen) || !errors.As(err, &oe) || oe.Name != "vendor-a" {
		t.Fatalf("%v", err)
	}
	if k, _ := outcome.KindOf(err); k != outcome.Transient {
		t.Fatalf("kind %v", k)
	}
}

func ExampleNewSet() {
	set := breaker.NewSet(breaker.Config{
		ConsecutiveFailures: 5,
		OnStateChange: func(name string, from, to gobreaker.State) {
			fmt.Println(name, from, "->", to)
		},
	})
	client := &http.Client{Transport: &breaker.Transport{Set: set}}
	_ = client
	fmt.Println(set.State("api.example.com"))
	// Output: closed
}

// TestConsecutiveFailuresOnly: only an unbroken run of failures opens the
// breaker, whether the successes between them went through gobreaker or were
// let through without it (a closed breaker with no failure counted).
func TestConsecutiveFailuresOnly(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("fail") != "" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	for _, tc := range []struct {
		name string
		seq  string // f: a failure, s: a success
		open bool
	}{
		{"four failures", "ffff", false},
		{"five failures", "fffff", true},
		{"a success first", "sfffff", true},
		{"a success in the run", "ffffsffff", false},
		{"two successes then a run", "fffssfffff", true},
		{"failures apart", "fsfsfsfsfsfsf", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set := breaker.NewSet(breaker.Config{ConsecutiveFailures: 5})
			c := &http.Client{Transport: &breaker.Transport{Set: set}}
			for _, o := range tc.seq {
				u := srv.URL
				if o == 'f' {
					u += "/?fail=1"
				}
				resp, err := c.Get(u)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
			}
			host := srv.Listener.Addr().String()
			if got := set.State(host) == gobreaker.StateOpen; got != tc.open {
				t.Fatalf("after %s: open = %v, want %v", tc.seq, got, tc.open)
			}
		})
	}
}

// TestRecoveredBreakerCountsAgain: after half-open → closed, the breaker opens
// again on the next run of failures.
//
// gobreaker times the open state on the wall clock, and the test needs a short
// timeout to get to half-open; so what it checks is the state changes, recorded
// as gobreaker makes them, not a State read after the fact: a stall longer than
// the timeout between the failures and such a read would find the breaker
// already half-open.
func TestRecoveredBreakerCountsAgain(t *testing.T) {
	var fail atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fail.Load() {
			w.WriteHeader(http.StatusBadGateway)
		}
	}))
	defer srv.Close()
	var mu sync.Mutex
	var changes []string
	set := breaker.NewSet(breaker.Config{
		ConsecutiveFailures: 2,
		Timeout:             time.Millisecond,
		OnStateChange: func(_ string, from, to gobreaker.State) {
			mu.Lock()
			defer mu.Unlock()
			changes = append(changes, from.String()+"->"+to.String())
		},
	})
	// took returns the state changes since the last call.
	took := func() string {
		mu.Lock()
		defer mu.Unlock()
		got := strings.Join(changes, " ")
		changes = nil
		return got
	}
	c := &http.Client{Transport: &breaker.Transport{Set: set, Key: func(*http.Request) string { return "k" }}}
	get := func() error {
		resp, err := c.Get(srv.URL)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	for round := range 3 {
		fail.Store(true)
		if err := get(); err != nil {
			t.Fatalf("round %d: first failure: %v", round, err)
		}
		if got := took(); got != "" {
			t.Fatalf("round %d: one failure changed the state: %s", round, got)
		}
		if err := get(); err != nil {
			t.Fatalf("round %d: second failure: %v", round, err)
		}
		if got := took(); got != "closed->open" {
			t.Fatalf("round %d: two failures changed the state %q, want closed->open", round, got)
		}
		fail.Store(false)
		// Wait out the 1 ms open timeout.
		for set.State("k") == gobreaker.StateOpen {
			time.Sleep(time.Millisecond)
		}
		if err := get(); err != nil {
			t.Fatalf("round %d: the probe failed: %v", round, err)
		}
		// A closed breaker with no Interval has no timer: this read is not racy.
		if set.State("k") != gobreaker.StateClosed {
			t.Fatalf("round %d: a good probe did not close the breaker", round)
		}
		if got := took(); got != "open->half-open half-open->closed" {
			t.Fatalf("round %d: the probe changed the state %q, want open->half-open half-open->closed", round, got)
		}
		for range 10 {
			if err := get(); err != nil {
				t.Fatal(err)
			}
		}
		if got := took(); got != "" {
			t.Fatalf("round %d: successes changed the state: %s", round, got)
		}
	}
}

// TestConcurrentFailuresOpen: many goroutines, all failing, open the breaker
// and no request is let through once it is open (-race checks the flag).
func TestConcurrentFailuresOpen(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer srv.Close()
	set := breaker.NewSet(breaker.Config{ConsecutiveFailures: 5, Timeout: time.Hour})
	c := &http.Client{Transport: &breaker.Transport{Set: set}}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 20 {
				resp, err := c.Get(srv.URL)
				if err == nil {
					resp.Body.Close()
				}
			}
		})
	}
	wg.Wait()
	if set.State(srv.Listener.Addr().String()) != gobreaker.StateOpen {
		t.Fatal("160 failures did not open the breaker")
	}
	// Requests already in flight when it opened may land; none after.
	before := hits.Load()
	for range 10 {
		if _, err := c.Get(srv.URL); !errors.Is(err, breaker.ErrOpen) {
			t.Fatalf("open breaker let a request through: %v", err)
		}
	}
	if hits.Load() != before || before > 5+8 {
		t.Fatalf("%d requests reached the vendor (at most 5 + 8 in flight expected), %d after opening", before, hits.Load()-before)
	}
}

// panicking is a RoundTripper that panics with its own value, or, with the
// pass flag set, sends the request on to base.
type panicking struct {
	pass atomic.Bool
	base http.RoundTripper
}

type testPanic struct{}

func (p *panicking) RoundTrip(req *http.Request) (*http.Response, error) {
	if p.pass.Load() {
		return p.base.RoundTrip(req)
	}
	panic(testPanic{})
}

// TestPanicCounts: a request that panics is counted as a failure, whether it went
// through gobreaker (a breaker with failures counted) or past it (a healthy
// one), and the panic reaches the caller with its own value.
func TestPanicCounts(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	base := &panicking{base: http.DefaultTransport}
	set := breaker.NewSet(breaker.Config{ConsecutiveFailures: 2, Timeout: time.Hour})
	tr := &breaker.Transport{Set: set, Key: func(*http.Request) string { return "k" }, Base: base}
	send := func() (p any) {
		defer func() { p = recover() }()
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		if resp, err := tr.RoundTrip(req); err == nil {
			resp.Body.Close()
		}
		return nil
	}
	if p := send(); p != (testPanic{}) {
		t.Fatalf("first request: recovered %v, want the transport's own panic", p)
	}
	if st := set.State("k"); st != gobreaker.StateClosed {
		t.Fatalf("after one panic: %v, want closed", st)
	}
	if p := send(); p != (testPanic{}) {
		t.Fatalf("second request: recovered %v, want the transport's own panic", p)
	}
	if st := set.State("k"); st != gobreaker.StateOpen {
		t.Fatalf("after two panics in a row: %v, want open", st)
	}
	base.pass.Store(true)
	if p := send(); p != nil {
		t.Fatalf("open breaker: recovered %v", p)
	}
}

// TestSuccessInFlightResets: a success that was sent while the breaker was
// healthy, and lands after another request's failure, ends the run of failures
// as it would have inside gobreaker.
func TestSuccessInFlightResets(t *testing.T) {
	arrived, release := make(chan struct{}), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("do") {
		case "fail":
			w.WriteHeader(http.StatusServiceUnavailable)
		case "hold":
			close(arrived)
			<-release
		}
	}))
	defer srv.Close()
	set := breaker.NewSet(breaker.Config{ConsecutiveFailures: 3, Timeout: time.Hour})
	c := &http.Client{Transport: &breaker.Transport{Set: set, Key: func(*http.Request) string { return "k" }}}
	get := func(do string) {
		t.Helper()
		resp, err := c.Get(srv.URL + "/?do=" + do)
		if err != nil {
			t.Error(err)
			return
		}
		resp.Body.Close()
	}
	held := make(chan struct{})
	go func() {
		defer close(held)
		get("hold") // sent while the breaker is healthy
	}()
	<-arrived
	get("fail") // one failure counted
	close(release)
	<-held // the success lands: the run of failures ends
	get("fail")
	get("fail")
	if st := set.State("k"); st != gobreaker.StateClosed {
		t.Fatalf("two failures after the success: %v, want closed (the success that landed between ended the run of failures)", st)
	}
	get("fail")
	if st := set.State("k"); st != gobreaker.StateOpen {
		t.Fatalf("three failures in a row: %v, want open", st)
	}
}

// recordingStore is a SharedStore that admits every request and records the
// outcomes reported to it.
type recordingStore struct {
	mu   sync.Mutex
	done []breaker.Result
}

func (s *recordingStore) Allow(context.Context, string, breaker.Policy) (breaker.Ticket, error) {
	return breaker.Ticket{Allowed: true, State: gobreaker.StateHalfOpen}, nil
}

func (s *recordingStore) Done(_ context.Context, _ string, _ breaker.Ticket, r breaker.Result, _ breaker.Policy) (gobreaker.State, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.done = append(s.done, r)
	return gobreaker.StateHalfOpen, nil
}

func (s *recordingStore) State(context.Context, string, breaker.Policy) (gobreaker.State, error) {
	return gobreaker.StateHalfOpen, nil
}

// TestSharedPanicReported: a request that panics through a shared breaker is
// reported to the store as a failure (a half-open probe slot is given back),
// and the panic reaches the caller.
func TestSharedPanicReported(t *testing.T) {
	store := &recordingStore{}
	set := breaker.NewSet(breaker.Config{Store: store})
	tr := &breaker.Transport{Set: set, Key: func(*http.Request) string { return "k" }, Base: &panicking{}}
	func() {
		defer func() {
			if p := recover(); p != (testPanic{}) {
				t.Fatalf("recovered %v, want the transport's own panic", p)
			}
		}()
		req, _ := http.NewRequest(http.MethodGet, "http://vendor.test/", nil)
		tr.RoundTrip(req)
	}()
	if len(store.done) != 1 || store.done[0] != breaker.Failure {
		t.Fatalf("reported %v, want one Failure", store.done)
	}
}
