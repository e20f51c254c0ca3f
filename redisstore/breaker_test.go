package redisstore_test

import (
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
	rdb, prefix := testRedis(t)
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
