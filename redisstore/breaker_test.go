package redisstore_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/authwire/authwire/breaker"
	"github.com/authwire/authwire/redisstore"
)

// flaky answers 500 while failing is set, 200 otherwise, and counts hits.
type flaky struct {
	failing atomic.Bool
	hits    atomic.Int64
}

func (f *flaky) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	f.hits.Add(1)
	if f.failing.Load() {
		http.Error(w, "boom", http.StatusInternalServerError)
		return
	}
	_, _ = io.WriteString(w, "ok")
}

func get(c *http.Client, url string) (int, error) {
	resp, err := c.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// TestBreakerShared: failures seen by replica A open the breaker of replica B,
// which then refuses without calling the vendor.
func TestBreakerShared(t *testing.T) {
	onEachRedis(t, func(t *testing.T, url string) {
		rdb, prefix := testRedisAt(t, url)
		vendor := &flaky{}
		srv := httptest.NewServer(vendor)
		defer srv.Close()
		cfg := func() breaker.Config {
			return breaker.Config{ConsecutiveFailures: 3, Timeout: time.Minute,
				Store: redisstore.New(rdb, redisstore.WithPrefix(prefix)).BreakerStore()}
		}
		setA, setB := breaker.NewSet(cfg()), breaker.NewSet(cfg())
		a := &http.Client{Transport: &breaker.Transport{Set: setA}}
		b := &http.Client{Transport: &breaker.Transport{Set: setB}}

		if code, err := get(b, srv.URL); err != nil || code != 200 {
			t.Fatalf("B healthy: %d, %v", code, err)
		}
		vendor.failing.Store(true)
		for range 3 {
			if code, err := get(a, srv.URL); err != nil || code != 500 {
				t.Fatalf("A failing: %d, %v", code, err)
			}
		}
		host := strings.TrimPrefix(srv.URL, "http://")
		if st := setB.State(host); st != gobreaker.StateOpen {
			t.Fatalf("B's breaker = %v, want open (A tripped it)", st)
		}
		hits := vendor.hits.Load()
		_, err := get(b, srv.URL)
		if !errors.Is(err, breaker.ErrOpen) {
			t.Fatalf("B after A tripped: %v, want ErrOpen", err)
		}
		if vendor.hits.Load() != hits {
			t.Fatal("B called the vendor through an open breaker")
		}
	})
}

// replicaSets returns n breaker sets, each on its own Fleet and its own Redis
// client, as n processes would have them.
func replicaSets(t *testing.T, url, prefix string, n int, cfg breaker.Config) []*breaker.Set {
	t.Helper()
	sets := make([]*breaker.Set, n)
	for i := range sets {
		rdb, err := redisstore.ParseURL(url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { rdb.Close() })
		c := cfg
		c.Store = redisstore.New(rdb, redisstore.WithPrefix(prefix)).BreakerStore()
		sets[i] = breaker.NewSet(c)
	}
	return sets
}

// TestBreakerOutageOpensEveryReplica: the failures one replica sees open the
// breaker of the two others before their next request, which is refused
// without reaching the vendor. Then, once the open state has run out, the
// half-open breaker lets exactly MaxRequests probes through across the fleet.
//
// The open state, and each half-open round (probes unanswered for that long
// are given back), last the Timeout on Redis's clock, which a test cannot move.
// So the Timeout is a minute, long enough that no stall of the test can run
// either out, and the open state is ended by setting the breaker's expiry to
// the past, as the minute running out would leave it.
func TestBreakerOutageOpensEveryReplica(t *testing.T) {
	onEachRedis(t, func(t *testing.T, url string) {
		rdb, prefix := testRedisAt(t, url)
		vendor := &flaky{}
		var hold atomic.Bool
		var held atomic.Int32 // requests waiting at the vendor for release
		release := make(chan struct{})
		releaseAll := sync.OnceFunc(func() { close(release) })
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if hold.Load() {
				held.Add(1)
				<-release
			}
			vendor.ServeHTTP(w, r)
		}))
		defer srv.Close()
		defer releaseAll() // runs first: no handler outlives the test
		sets := replicaSets(t, url, prefix, 3, breaker.Config{ConsecutiveFailures: 3, Timeout: time.Minute, MaxRequests: 2})
		clients := make([]*http.Client, len(sets))
		for i, s := range sets {
			clients[i] = &http.Client{Transport: &breaker.Transport{Set: s}}
		}
		vendor.failing.Store(true)
		for range 3 {
			_, _ = get(clients[0], srv.URL)
		}
		hits := vendor.hits.Load()
		for i, c := range clients[1:] {
			if _, err := get(c, srv.URL); !errors.Is(err, breaker.ErrOpen) {
				t.Fatalf("replica %d after replica 0 saw the outage: %v, want ErrOpen", i+1, err)
			}
		}
		if n := vendor.hits.Load() - hits; n != 0 {
			t.Fatalf("%d requests reached the vendor through the open breaker", n)
		}

		// Half-open, fleet-wide: of 12 requests at once from 3 replicas, 2 probe.
		host := strings.TrimPrefix(srv.URL, "http://")
		if err := rdb.HSet(context.Background(), prefix+"{breaker:"+host+"}", "e", 0).Err(); err != nil {
			t.Fatal(err)
		}
		vendor.failing.Store(false)
		hold.Store(true)
		hits = vendor.hits.Load()
		var refused, sent atomic.Int32
		var wg sync.WaitGroup
		for i := range 12 {
			wg.Go(func() {
				_, err := get(clients[i%3], srv.URL)
				if errors.Is(err, breaker.ErrOpen) {
					refused.Add(1)
				} else {
					sent.Add(1)
				}
			})
		}
		// The refused ones return; the probes wait on the vendor until then.
		for guard := time.Now().Add(30 * time.Second); refused.Load() < 10; time.Sleep(time.Millisecond) {
			if time.Now().After(guard) {
				t.Fatalf("30 s on, %d of 12 requests refused, %d waiting at the vendor: want 10 refused while 2 probe",
					refused.Load(), held.Load())
			}
		}
		releaseAll()
		wg.Wait()
		if n := vendor.hits.Load() - hits; n != 2 || sent.Load() != 2 {
			t.Fatalf("half-open let %d requests reach the vendor (%d sent), want MaxRequests = 2", n, sent.Load())
		}
		for i, s := range sets {
			if st := s.State(host); st != gobreaker.StateClosed {
				t.Fatalf("replica %d after two good probes: %v, want closed", i, st)
			}
		}
	})
}

// TestBreakerNoLockAcrossRequests: 30 concurrent requests to a 100 ms vendor
// through 3 replicas sharing one breaker take about as long as without the
// shared breaker, not 30 × 100 ms. The numbers are measured by
// BenchmarkSharedBreakerConcurrency; this asserts only a bound that cannot
// flake: well under the 3 s they would take one at a time.
func TestBreakerNoLockAcrossRequests(t *testing.T) {
	onEachRedis(t, func(t *testing.T, url string) {
		_, prefix := testRedisAt(t, url)
		srv := slowVendor(t, 100*time.Millisecond)
		shared := replicaSets(t, url, prefix, 3, breaker.Config{})
		local := []*breaker.Set{breaker.NewSet(breaker.Config{}), breaker.NewSet(breaker.Config{}), breaker.NewSet(breaker.Config{})}
		burst(t, local, srv.URL) // warm up: connections, scripts
		burst(t, shared, srv.URL)
		without := burst(t, local, srv.URL)
		with := burst(t, shared, srv.URL)
		t.Logf("30 concurrent requests, 3 replicas, 100 ms vendor: %v with the shared breaker, %v without", with, without)
		// Serialised, they would take 30 × 100 ms = 3 s.
		if with > 1500*time.Millisecond {
			t.Fatalf("with the shared breaker %v, without %v: requests are serialised", with, without)
		}
	})
}

func slowVendor(t testing.TB, d time.Duration) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(d) // the vendor's latency
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	return srv
}

// burst sends 10 concurrent requests through each set at once and returns how
// long all 30 took.
func burst(t testing.TB, sets []*breaker.Set, url string) time.Duration {
	clients := make([]*http.Client, len(sets))
	for i, s := range sets {
		clients[i] = &http.Client{Transport: &breaker.Transport{Set: s, Base: &http.Transport{MaxIdleConnsPerHost: 10}}}
	}
	start := time.Now()
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Go(func() {
			if code, err := get(clients[i%len(clients)], url); err != nil || code != 200 {
				t.Errorf("request: %d, %v", code, err)
			}
		})
	}
	wg.Wait()
	return time.Since(start)
}

// BenchmarkSharedBreakerConcurrency measures one burst of 30 concurrent
// requests to a 100 ms vendor through 3 replicas, with and without the shared
// breaker, alternating the two stacks burst by burst.
func BenchmarkSharedBreakerConcurrency(b *testing.B) {
	url := testRedisURL(b)
	_, prefix := testRedisAt(b, url)
	srv := slowVendor(b, 100*time.Millisecond)
	shared := make([]*breaker.Set, 3)
	for i := range shared {
		rdb, _ := redisstore.ParseURL(url)
		b.Cleanup(func() { rdb.Close() })
		shared[i] = breaker.NewSet(breaker.Config{Store: redisstore.New(rdb, redisstore.WithPrefix(prefix)).BreakerStore()})
	}
	local := []*breaker.Set{breaker.NewSet(breaker.Config{}), breaker.NewSet(breaker.Config{}), breaker.NewSet(breaker.Config{})}
	var with, without time.Duration
	for b.Loop() {
		without += burst(b, local, srv.URL)
		with += burst(b, shared, srv.URL)
	}
	b.ReportMetric(float64(with.Milliseconds())/float64(b.N), "ms-shared/burst")
	b.ReportMetric(float64(without.Milliseconds())/float64(b.N), "ms-local/burst")
	b.ReportMetric(float64(with)/float64(without), "ratio")
}

// TestBreakerRedisDown: without Redis the breaker store never makes a request
// fail, and the breaker still works as a local one.
func TestBreakerRedisDown(t *testing.T) {
	var logs logBuffer
	vendor := &flaky{}
	srv := httptest.NewServer(vendor)
	defer srv.Close()
	f := redisstore.New(deadRedis(t), redisstore.WithLogger(logs.logger()))
	set := breaker.NewSet(breaker.Config{ConsecutiveFailures: 3, Timeout: time.Minute, Store: f.BreakerStore()})
	c := &http.Client{Transport: &breaker.Transport{Set: set}}

	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 5 {
				if code, err := get(c, srv.URL); err != nil || code != 200 {
					t.Errorf("request without Redis: %d, %v", code, err)
				}
			}
		})
	}
	wg.Wait()
	vendor.failing.Store(true)
	for range 3 {
		_, _ = get(c, srv.URL)
	}
	if _, err := get(c, srv.URL); !errors.Is(err, breaker.ErrOpen) {
		t.Fatalf("local fallback breaker after 3 failures: %v, want ErrOpen", err)
	}
	if n := strings.Count(logs.String(), "redis unreachable"); n != 1 {
		t.Fatalf("outage logged %d times, want once:\n%s", n, logs.String())
	}
}
