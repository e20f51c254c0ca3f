package redisstore_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"

	"github.com/authwire/authwire/breaker"
	"github.com/authwire/authwire/ratelimit"
	"github.com/authwire/authwire/redisstore"
	"github.com/authwire/authwire/roundtripper"
	"github.com/authwire/authwire/tokensource"
)

// TestPausedRedisCostsAtMostTheOpTimeout pauses Redis (CLIENT PAUSE 3000) under
// a full stack — shared token store, limiter and breaker — and measures the
// slowest request: it must not wait for the pause (3 s) or go-redis's own
// 3 s read timeout, only for the 200 ms op timeout and then the local
// fallback. Run with go-redis's default options (the fleet's watchdog bounds
// the call) and with ContextTimeoutEnabled (go-redis bounds it itself).
func TestPausedRedisCostsAtMostTheOpTimeout(t *testing.T) {
	own := startRedis(t)
	const opTimeout = 200 * time.Millisecond
	clients := map[string]func() redis.UniversalClient{
		"default options": func() redis.UniversalClient {
			return redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + itoa(own.Port)})
		},
		"ParseURL": func() redis.UniversalClient {
			c, err := redisstore.ParseURL(own.URL)
			if err != nil {
				t.Fatal(err)
			}
			return c
		},
	}
	srv := slowVendor(t, 0)
	for name, mk := range clients {
		t.Run(name, func(t *testing.T) {
			rdb := mk()
			defer rdb.Close()
			f := redisstore.New(rdb, redisstore.WithOpTimeout(opTimeout))
			store, _ := f.TokenStore(testKey())
			src := tokensource.New(tokensource.FetcherFunc(func(context.Context) (*oauth2.Token, error) {
				return &oauth2.Token{AccessToken: "t", Expiry: time.Now().Add(time.Hour)}, nil
			}), tokensource.WithStore(store, "paused"))
			defer src.Close()
			rt, err := roundtripper.New(roundtripper.Config{
				Hosts: roundtripper.Hosts{srv.URL}, Token: src,
				Limiter:  f.Limiter(ratelimit.Config{Rate: 10000, Burst: 100}),
				Breakers: breaker.NewSet(breaker.Config{Store: f.BreakerStore()}),
			})
			if err != nil {
				t.Fatal(err)
			}
			c := &http.Client{Transport: rt}
			if code, err := get(c, srv.URL); err != nil || code != 200 {
				t.Fatalf("before the pause: %d, %v", code, err)
			}
			admin := own.client(t)
			if err := admin.Do(context.Background(), "CLIENT", "PAUSE", "3000").Err(); err != nil {
				t.Fatal(err)
			}
			defer admin.Do(context.Background(), "CLIENT", "UNPAUSE")
			var mu sync.Mutex
			var worst time.Duration
			var wg sync.WaitGroup
			for range 10 {
				wg.Go(func() {
					for range 5 {
						start := time.Now()
						code, err := get(c, srv.URL)
						d := time.Since(start)
						if err != nil || code != 200 {
							t.Errorf("during the pause: %d, %v", code, err)
						}
						mu.Lock()
						worst = max(worst, d)
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			t.Logf("%s: slowest request during CLIENT PAUSE 3000 with a %v op timeout: %v", name, opTimeout, worst)
			if worst > 1500*time.Millisecond {
				t.Fatalf("a request waited %v for a paused Redis; the op timeout is %v", worst, opTimeout)
			}
		})
	}
}
