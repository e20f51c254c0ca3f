package redisstore_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authwire/authwire/redisstore"
)

// testRedisURL returns AUTHWIRE_TEST_REDIS. Without it the test is skipped with
// a hint, except under CI=true, where it fails: CI must not pass by skipping.
func testRedisURL(t testing.TB) string { return envURL(t, "AUTHWIRE_TEST_REDIS") }

// envURL returns the Redis URL in the environment variable name, under the
// skip-or-fail rule of testRedisURL.
func envURL(t testing.TB, name string) string {
	t.Helper()
	u := os.Getenv(name)
	if u == "" {
		msg := name + " is not set: run `source .ci/redis.sh` to start a test Redis node and cluster"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + " — required under CI=true")
		}
		t.Skip(msg)
	}
	return u
}

// onEachRedis runs fn as a subtest on the single node (AUTHWIRE_TEST_REDIS) and
// on the Redis Cluster (AUTHWIRE_TEST_REDIS_CLUSTER), with the URL of each.
func onEachRedis(t *testing.T, fn func(t *testing.T, url string)) {
	t.Helper()
	for _, tc := range []struct{ name, env string }{
		{"node", "AUTHWIRE_TEST_REDIS"},
		{"cluster", "AUTHWIRE_TEST_REDIS_CLUSTER"},
	} {
		t.Run(tc.name, func(t *testing.T) { fn(t, envURL(t, tc.env)) })
	}
}

// testRedis returns a client on the test Redis node and a key prefix of the
// test's own, whose keys are deleted when the test ends.
func testRedis(t testing.TB) (redis.UniversalClient, string) {
	t.Helper()
	return testRedisAt(t, testRedisURL(t))
}

// testRedisAt is testRedis on the Redis at url (a node or a cluster).
func testRedisAt(t testing.TB, url string) (redis.UniversalClient, string) {
	t.Helper()
	rdb, err := redisstore.ParseURL(url)
	if err != nil {
		t.Fatalf("test Redis URL: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Fatalf("test Redis at %s is not answering: %v", url, err)
	}
	prefix := "authwire-test:" + randHex(6) + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		clean := func(ctx context.Context, c *redis.Client) error {
			for _, pattern := range []string{prefix + "*", "rate:" + prefix + "*"} {
				for _, k := range c.Keys(ctx, pattern).Val() {
					c.Del(ctx, k) // one by one: keys of a cluster node may be in different slots
				}
			}
			return nil
		}
		switch c := rdb.(type) {
		case *redis.ClusterClient:
			_ = c.ForEachMaster(ctx, clean)
		case *redis.Client:
			_ = clean(ctx, c)
		}
		rdb.Close()
	})
	return rdb, prefix
}

// deadRedis returns a client on a port nothing listens on.
func deadRedis(t testing.TB) *redis.Client {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialerRetries: 1, DialTimeout: 100 * time.Millisecond})
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// ownRedis is a redis-server started by the test, to be killed mid-run.
type ownRedis struct {
	URL  string
	Port int
	cmd  *exec.Cmd
	once sync.Once
}

// startRedis starts a private redis-server (the test must own it to kill it), on
// a free port or the one given.
func startRedis(t testing.TB, onPort ...int) *ownRedis {
	t.Helper()
	testRedisURL(t) // same skip / CI rule as the shared Redis
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("redis-server not in PATH (.ci/redis.sh installs it)")
		}
		t.Skip("redis-server not in PATH")
	}
	port := 0
	if len(onPort) > 0 {
		port = onPort[0]
	} else {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port = l.Addr().(*net.TCPAddr).Port
		l.Close()
	}
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &ownRedis{URL: "redis://127.0.0.1:" + strconv.Itoa(port) + "/0", Port: port, cmd: cmd}
	t.Cleanup(r.Kill)
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(port)})
	defer rdb.Close()
	for i := 0; ; i++ {
		if rdb.Ping(context.Background()).Err() == nil {
			return r
		}
		if i == 100 {
			t.Fatal("own redis-server did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Kill ends the server abruptly, as a crash would.
func (r *ownRedis) Kill() {
	r.once.Do(func() {
		_ = r.cmd.Process.Kill()
		_ = r.cmd.Wait()
	})
}

func (r *ownRedis) client(t testing.TB) *redis.Client {
	opt, err := redis.ParseURL(r.URL)
	if err != nil {
		t.Fatal(err)
	}
	opt.MaxRetries = -1
	opt.DialerRetries = 1
	opt.DialTimeout = 100 * time.Millisecond
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func testKey() []byte { return bytes.Repeat([]byte{0x5a}, redisstore.KeySize) }

// logBuffer is a concurrency-safe slog destination.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type atomicCounter struct {
	mu sync.Mutex
	n  int
}

func (c *atomicCounter) add() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	return c.n
}

func (c *atomicCounter) get() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

func itoa(n int) string { return strconv.Itoa(n) }

// blinker is a TCP proxy to a Redis that can stop passing bytes on: while it
// blinks, Redis does not answer (what was sent waits in the proxy), as on a
// network that drops out for a moment.
type blinker struct {
	addr string
	mu   sync.Mutex
	gate chan struct{} // closed while bytes pass
}

// newBlinker starts a proxy to the Redis at target (host:port), passing bytes.
func newBlinker(t testing.TB, target string) *blinker {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &blinker{addr: l.Addr().String(), gate: make(chan struct{})}
	close(b.gate)
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		l.Close()
		b.pass()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			r, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, r)
			mu.Unlock()
			go b.copy(r, c)
			go b.copy(c, r)
		}
	}()
	return b
}

func (b *blinker) copy(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			b.mu.Lock()
			gate := b.gate
			b.mu.Unlock()
			<-gate
			if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// hold stops passing bytes on; pass lets them through again.
func (b *blinker) hold() {
	b.mu.Lock()
	defer b.mu.Unlock()
	select {
	case <-b.gate:
		b.gate = make(chan struct{})
	default:
	}
}

func (b *blinker) pass() {
	b.mu.Lock()
	defer b.mu.Unlock()
	select {
	case <-b.gate:
	default:
		close(b.gate)
	}
}
