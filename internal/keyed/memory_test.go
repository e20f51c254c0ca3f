package keyed_test

import (
	"context"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authwire/authwire/breaker"
	"github.com/authwire/authwire/clock"
	"github.com/authwire/authwire/ratelimit"
)

// okTransport answers every request at once, without a network: the test
// measures the state the layers keep, not sockets.
type okTransport struct{}

func (okTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(`{}`)), ContentLength: 2, Request: r}, nil
}

func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestManyHostsRetainLittle: 100,000 distinct hosts through the rate limiter and
// the circuit breaker leave less than 1 MB behind once their keys have gone idle.
func TestManyHostsRetainLittle(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("100,000 requests; the race detector distorts the heap it measures")
	}
	clk := clock.NewFake(time.Unix(0, 0))
	lim := ratelimit.NewAdaptive(ratelimit.Config{Rate: 10, Burst: 10, Clock: clk})
	set := breaker.NewSet(breaker.Config{Clock: clk})
	rt := &ratelimit.Transport{Limiter: lim, Base: &breaker.Transport{Set: set, Base: okTransport{}}}

	before := heap()
	const hosts = 100_000
	send := func(host string) {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://"+host+"/v1/x", nil)
		resp, err := rt.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	for i := range hosts {
		send("h" + strconv.Itoa(i) + ".example")
		if i%1000 == 999 {
			clk.Advance(time.Millisecond) // 100 ms in all: every key stays fresh
		}
	}
	held := heap()
	clk.Advance(11 * time.Minute) // every key idle past the 10-minute default
	send("last.example")          // any use runs the sweep that is due
	after := heap()
	runtime.KeepAlive(rt) // the layers are alive: only their idle keys may go
	if lim.Rate("last.example") != 10 || set.State("last.example") != 0 {
		t.Fatal("the last key's state is gone")
	}

	perHost := float64(held-before) / hosts
	t.Logf("heap: %.1f MB while %d hosts are fresh (%.0f B/host), %d KB retained once idle", float64(held-before)/1e6, hosts, perHost, int64(after-before)/1024)
	if held-before < 5<<20 {
		t.Fatalf("only %d B held for %d fresh hosts: the test no longer measures the per-key state", held-before, hosts)
	}
	if after > before && after-before >= 1<<20 {
		t.Fatalf("%d B retained after every key went idle, want < 1 MB", after-before)
	}
}
