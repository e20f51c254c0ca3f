package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authwire/authwire/providers/icekredit/icekredittest"
	"github.com/authwire/authwire/redisstore"
)

// redisURLs returns the test Redis node and cluster URLs, skipping (or, under
// CI=true, failing) when they are not set, as redisstore's tests do.
func redisURLs(t *testing.T) map[string]string {
	out := map[string]string{}
	for name, env := range map[string]string{"node": "AUTHWIRE_TEST_REDIS", "cluster": "AUTHWIRE_TEST_REDIS_CLUSTER"} {
		u := os.Getenv(env)
		if u == "" {
			msg := env + " is not set: run `source .ci/redis.sh`"
			if os.Getenv("CI") == "true" {
				t.Fatal(msg + " — required under CI=true")
			}
			t.Skip(msg)
		}
		out[name] = u
	}
	return out
}

type report struct {
	Requests int      `json:"requests"`
	OK       int      `json:"ok"`
	Failed   int      `json:"failed"`
	Errors   []string `json:"errors"`
}

// stamped counts the simulator's product calls with their arrival times.
type stamped struct {
	h     http.Handler
	mu    sync.Mutex
	calls []time.Time
}

func (s *stamped) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.Contains(r.URL.Path, "login") && !strings.Contains(r.URL.Path, "token") {
		s.mu.Lock()
		s.calls = append(s.calls, time.Now())
		s.mu.Unlock()
	}
	s.h.ServeHTTP(w, r)
}

// TestFleetIceKredit runs 20 replicas (processes) of the real icekredit client
// against the IceKredit simulator, sharing one token and one rate budget
// through Redis. Mid-run the simulator revokes every token (an expiry): the
// fleet logs in once at the start and once after the expiry — once per token
// lifetime — and the product calls the simulator counts keep to the fleet-wide
// rate within 10%. On a single node and on a Redis Cluster.
func TestFleetIceKredit(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 20 processes")
	}
	urls := redisURLs(t)
	bin := filepath.Join(t.TempDir(), "fleetprobe")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, name := range []string{"node", "cluster"} {
		t.Run(name, func(t *testing.T) { fleetIceKredit(t, bin, urls[name]) })
	}
}

func fleetIceKredit(t *testing.T, bin, url string) {
	const (
		replicas = 20
		rate     = 100 // fleet-wide requests/s
		burst    = 10
		runFor   = 2500 * time.Millisecond
	)
	prefix := "authwire-fleetprobe-test:" + time.Now().Format("150405.000000") + ":"
	t.Cleanup(func() { cleanup(url, prefix) })
	sim := icekredittest.New(icekredittest.Config{TokenTTL: time.Minute})
	counted := &stamped{h: sim}
	srv := httptest.NewServer(counted)
	defer srv.Close()

	reports := make([]report, replicas)
	stderrs := make([]*bytes.Buffer, replicas)
	var wg sync.WaitGroup
	for i := range replicas {
		cmd := exec.Command(bin, "-vendor", "icekredit", "-login", srv.URL, "-api", srv.URL, "-redis", url, "-prefix", prefix,
			"-rate", strconv.Itoa(rate), "-burst", strconv.Itoa(burst), "-every", "0s",
			// 20 processes on a small machine: a generous op timeout, so that
			// a slow scheduler is not taken for a Redis outage.
			"-optimeout", "2s", "-for", runFor.String())
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		stderrs[i] = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			if err := cmd.Wait(); err != nil {
				t.Errorf("replica %d: %v\n%s", i, err, stderr.String())
				return
			}
			if err := json.Unmarshal(stdout.Bytes(), &reports[i]); err != nil {
				t.Errorf("replica %d: bad report %q", i, stdout.String())
			}
		})
	}
	time.Sleep(runFor / 2) // mid-run, while every replica calls
	sim.RevokeAll()
	wg.Wait()

	var failed, requests int
	for _, r := range reports {
		failed += r.Failed
		requests += r.Requests
	}
	counted.mu.Lock()
	calls := append([]time.Time(nil), counted.calls...)
	counted.mu.Unlock()
	sort.Slice(calls, func(i, j int) bool { return calls[i].Before(calls[j]) })
	if len(calls) < 50 {
		t.Fatalf("only %d product calls", len(calls))
	}
	// The steady window: all replicas have started and none has stopped.
	from, to := calls[0].Add(500*time.Millisecond), calls[len(calls)-1].Add(-300*time.Millisecond)
	n := 0
	for _, c := range calls {
		if !c.Before(from) && c.Before(to) {
			n++
		}
	}
	// GCRA lets a burst through after any idle spell (the re-login after the
	// expiry is one): the budget over a window W is rate×W + burst.
	got := float64(n-burst) / to.Sub(from).Seconds()
	t.Logf("%d replicas: %d logins (1 + 1 after the expiry), %d product calls, %d requests (%d failed); fleet rate %.1f/s (burst excluded) against a budget of %d/s",
		replicas, sim.Logins(), len(calls), requests, failed, got, rate)
	if sim.Logins() != 2 {
		t.Errorf("%d logins, want 2: one at the start, one after the expiry", sim.Logins())
		for i, e := range stderrs {
			if e.Len() > 0 {
				t.Logf("replica %d:\n%s", i, e.String())
			}
		}
	}
	// The budget holds: never more than 10% over. How close the fleet comes
	// to it from below depends on how busy the machine is (20 processes on
	// two cores), so the lower bound only shows the test measures something.
	if got > rate*1.1 || got < rate*0.5 {
		t.Errorf("fleet rate %.1f/s, want at most 10%% over %d/s (and more than half of it)", got, rate)
	}
}

// cleanup deletes the test's keys.
func cleanup(url, prefix string) {
	c, err := redisstore.ParseURL(url)
	if err != nil {
		return
	}
	defer c.Close()
	ctx := context.Background()
	for _, pattern := range []string{prefix + "*", "rate:" + prefix + "*"} {
		iter := c.Scan(ctx, 0, pattern, 100).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
	}
}
