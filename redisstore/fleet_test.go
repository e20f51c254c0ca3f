package redisstore_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authwire/authwire/redisstore"
)

// The multi-process tests run 8 copies of internal/fleetprobe, each a replica
// with its own token source, against one fake vendor in this process.
const (
	replicas      = 8
	tokenLifetime = 1200 * time.Millisecond
	runFor        = 3 * time.Second
)

var (
	probeOnce sync.Once
	probePath string
	probeErr  error
	probeDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if probeDir != "" {
		os.RemoveAll(probeDir)
	}
	os.Exit(code)
}

// buildProbe builds the replica program once per test binary.
func buildProbe(t *testing.T) string {
	t.Helper()
	probeOnce.Do(func() {
		probeDir, probeErr = os.MkdirTemp("", "fleetprobe")
		if probeErr != nil {
			return
		}
		probePath = filepath.Join(probeDir, "fleetprobe")
		out, err := exec.Command("go", "build", "-o", probePath, "github.com/authwire/authwire/internal/fleetprobe").CombinedOutput()
		if err != nil {
			probeErr = fmt.Errorf("go build fleetprobe: %v\n%s", err, out)
		}
	})
	if probeErr != nil {
		t.Fatal(probeErr)
	}
	return probePath
}

// vendor is a fake login API: POST /login issues a token valid for
// tokenLifetime; GET /api accepts only an issued, unexpired Bearer token.
type vendor struct {
	logins   atomic.Int64
	ok       atomic.Int64
	rejected atomic.Int64
	mu       sync.Mutex
	issued   map[string]time.Time
}

func newVendor(t *testing.T) (*vendor, *httptest.Server) {
	v := &vendor{issued: make(map[string]time.Time)}
	srv := httptest.NewServer(v)
	t.Cleanup(srv.Close)
	return v, srv
}

func (v *vendor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/login":
		n := v.logins.Add(1)
		tok := fmt.Sprintf("tok-%d-%s", n, randHex(8))
		v.mu.Lock()
		v.issued[tok] = time.Now().Add(tokenLifetime)
		v.mu.Unlock()
		_ = json.NewEncoder(w).Encode(map[string]any{"token": tok, "expires_ms": tokenLifetime.Milliseconds(), "serial": n})
	case "/api":
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		v.mu.Lock()
		exp, ok := v.issued[tok]
		v.mu.Unlock()
		if !ok || time.Now().After(exp) {
			v.rejected.Add(1)
			http.Error(w, "token expired", http.StatusUnauthorized)
			return
		}
		v.ok.Add(1)
		_, _ = w.Write([]byte("ok"))
	default:
		http.NotFound(w, r)
	}
}

type probeReport struct {
	Requests int      `json:"requests"`
	OK       int      `json:"ok"`
	Failed   int      `json:"failed"`
	Errors   []string `json:"errors"`
	Stderr   string   `json:"-"`
}

// runFleet runs n replicas to completion, calling during (if set) while they run.
func runFleet(t *testing.T, n int, srv *httptest.Server, extra []string, during func()) []probeReport {
	t.Helper()
	bin := buildProbe(t)
	args := append([]string{"-login", srv.URL + "/login", "-api", srv.URL + "/api", "-for", runFor.String()}, extra...)
	reports := make([]probeReport, n)
	var wg sync.WaitGroup
	for i := range n {
		cmd := exec.Command(bin, args...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			err := cmd.Wait()
			reports[i].Stderr = stderr.String()
			if err != nil {
				t.Errorf("replica %d: %v\n%s", i, err, stderr.String())
				return
			}
			if err := json.Unmarshal(stdout.Bytes(), &reports[i]); err != nil {
				t.Errorf("replica %d: bad report %q: %v", i, stdout.String(), err)
			}
		})
	}
	if during != nil {
		during()
	}
	wg.Wait()
	return reports
}

func sum(rs []probeReport) (requests, failed int, errs []string) {
	for _, r := range rs {
		requests += r.Requests
		failed += r.Failed
		errs = append(errs, r.Errors...)
	}
	return
}

// TestFleetLoginsOncePerLifetime is the point of the package: 8 replicas (OS
// processes) calling through an expiry log in once per token lifetime with
// Redis, and each by itself without.
// It runs on a single node and on a Redis Cluster.
func TestFleetLoginsOncePerLifetime(t *testing.T) {
	onEachRedis(t, fleetLoginsOncePerLifetime)
}

func fleetLoginsOncePerLifetime(t *testing.T, url string) {
	_, prefix := testRedisAt(t, url) // for the key cleanup
	withV, withSrv := newVendor(t)
	aloneV, aloneSrv := newVendor(t)

	var with, alone []probeReport
	var wg sync.WaitGroup
	// The two fleets run side by side, against separate vendors, to keep the
	// test short.
	wg.Go(func() { with = runFleet(t, replicas, withSrv, []string{"-redis", url, "-prefix", prefix}, nil) })
	wg.Go(func() { alone = runFleet(t, replicas, aloneSrv, nil, nil) })
	wg.Wait()

	lifetimes := int(runFor / tokenLifetime) // full lifetimes in the run
	t.Logf("%d replicas, %v each, token lifetime %v (%d full lifetimes; tokens are refreshed up to 450 ms early)",
		replicas, runFor, tokenLifetime, lifetimes)
	t.Logf("logins WITH Redis:    %d (vendor served %d requests, rejected %d)", withV.logins.Load(), withV.ok.Load(), withV.rejected.Load())
	t.Logf("logins WITHOUT Redis: %d (vendor served %d requests, rejected %d)", aloneV.logins.Load(), aloneV.ok.Load(), aloneV.rejected.Load())

	for name, rs := range map[string][]probeReport{"with Redis": with, "without Redis": alone} {
		if req, failed, errs := sum(rs); failed > 0 || req == 0 {
			t.Errorf("%s: %d of %d requests failed: %v", name, failed, req, errs)
		}
	}
	// Early refresh makes a cycle about 0.75–0.95 s: 4 or 5 logins in 3 s, the
	// first included. Allow one more for scheduling noise on a busy machine.
	maxWith := int(runFor/(tokenLifetime-450*time.Millisecond)) + 2
	if n := int(withV.logins.Load()); n > maxWith {
		t.Errorf("with Redis: %d logins, want at most %d (one per token lifetime)", n, maxWith)
	}
	if n, w := aloneV.logins.Load(), withV.logins.Load(); n < int64(replicas)*int64(lifetimes) || n < 4*w {
		t.Errorf("without Redis: %d logins; want every replica to log in each lifetime (>= %d) — is the test measuring anything?",
			n, replicas*lifetimes)
	}
}

// TestFleetRedisDies kills Redis in the middle of a run: no request is lost,
// every replica says so once in its log, and logins go on per replica.
func TestFleetRedisDies(t *testing.T) {
	own := startRedis(t)
	v, srv := newVendor(t)
	var killedAt time.Duration
	start := time.Now()
	rs := runFleet(t, replicas, srv, []string{"-redis", own.URL, "-limiter", "-breaker"}, func() {
		time.Sleep(runFor * 2 / 5)
		own.Kill()
		killedAt = time.Since(start)
	})
	req, failed, errs := sum(rs)
	t.Logf("Redis killed after %v: %d requests, %d failed, %d logins (vendor rejected %d)",
		killedAt.Round(time.Millisecond), req, failed, v.logins.Load(), v.rejected.Load())
	if failed > 0 {
		t.Errorf("%d of %d requests failed after Redis died: %v", failed, req, errs)
	}
	for i, r := range rs {
		if n := strings.Count(r.Stderr, "redis unreachable"); n != 1 {
			t.Errorf("replica %d logged the outage %d times, want once:\n%s", i, n, r.Stderr)
		}
		if r.Requests < 10 {
			t.Errorf("replica %d sent only %d requests", i, r.Requests)
		}
	}
}

// TestFleetLockLeaseExpiry: a replica dies holding the refresh lock; the lock
// is free again once its lease runs out, not before.
func TestFleetLockLeaseExpiry(t *testing.T) {
	onEachRedis(t, fleetLockLeaseExpiry)
}

func fleetLockLeaseExpiry(t *testing.T, url string) {
	rdb, prefix := testRedisAt(t, url)
	bin := buildProbe(t)
	const lease = 500 * time.Millisecond
	holder := exec.Command(bin, "-redis", url, "-prefix", prefix, "-lease", lease.String(), "-holdlock", "acct")
	out, err := holder.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = holder.Process.Kill(); _ = holder.Wait() })
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "locked\n" {
		t.Fatalf("holder said %q", line)
	}

	store, _ := redisstore.New(rdb, redisstore.WithPrefix(prefix), redisstore.WithLockLease(lease)).TokenStore(testKey())
	// Alive, the holder renews its lease: the lock stays taken past 2 leases.
	ctx, cancel := context.WithTimeout(context.Background(), 2*lease)
	_, err = store.Lock(ctx, "acct")
	cancel()
	if err == nil {
		t.Fatal("took the lock of a live holder")
	}
	// Killed, it stops renewing; the lock frees within one lease. What says so
	// is the time Redis gives the lock to live, on Redis's own clock: at most a
	// lease, and nothing renews it any more. How long the take-over below took
	// is only logged: on a loaded machine it says little.
	_ = holder.Process.Kill()
	_ = holder.Wait()
	killed := time.Now()
	// PTTL answers -2 for a lock already gone (freed: fine) and -1 for one
	// that would never expire.
	ttl, err := rdb.PTTL(context.Background(), prefix+"{acct}:lock").Result()
	if err != nil || ttl == -1 || ttl > lease {
		t.Fatalf("the dead holder's lock lives %v more (%v), want at most the lease %v", ttl, err, lease)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 10*lease) // a guard against a hang
	defer cancel()
	unlock, err := store.Lock(ctx, "acct")
	if err != nil {
		t.Fatalf("lock of a dead holder never freed: %v", err)
	}
	unlock()
	t.Logf("lock taken over %v after the holder was killed (lease %v, %v left on the lock)", time.Since(killed).Round(time.Millisecond), lease, ttl)
}
