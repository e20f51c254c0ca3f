// Package soak runs the simulators' opt-in soak tests: full-speed load for a
// minute, throughput and live heap measured window by window, so that a
// simulator whose cost per request grows with the requests served is caught.
package soak

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Env names the environment variable that turns the simulators' soak tests
// on and gives their length (say "60s"); they skip without it, so that
// `go test ./...` stays fast.
const Env = "AUTHWIRE_SOAK"

// Report is what a soak measured, window by window.
type Report struct {
	// Window is the length of one window.
	Window time.Duration
	// Requests are the calls completed in each window, errors included.
	Requests []int64
	// Errors counts the calls that failed.
	Errors int64
	// Heap is the live heap after a collection at the end of each window.
	Heap []uint64
	// CPU is the process's CPU time per request in each window (client and
	// simulator together): unlike throughput, it does not move when other
	// processes take the machine's cores.
	CPU []time.Duration
}

// PerSecond returns window i's throughput; a negative i counts from the end.
func (r Report) PerSecond(i int) float64 {
	if i < 0 {
		i += len(r.Requests)
	}
	return float64(r.Requests[i]) / r.Window.Seconds()
}

// String reports first and last windows.
func (r Report) String() string {
	if len(r.Requests) == 0 {
		return "no complete window"
	}
	last := len(r.Requests) - 1
	return fmt.Sprintf("%d windows of %v: first %.0f req/s, last %.0f req/s (%.1f%%); CPU per request first %v, last %v; heap first %.1f MiB, last %.1f MiB; errors %d",
		len(r.Requests), r.Window, r.PerSecond(0), r.PerSecond(-1), 100*r.PerSecond(-1)/r.PerSecond(0),
		r.CPU[0], r.CPU[last], float64(r.Heap[0])/(1<<20), float64(r.Heap[last])/(1<<20), r.Errors)
}

// Test is the simulators' opt-in long test: unless [Env] gives a duration it
// skips; otherwise it runs call from workers goroutines as fast as they go for
// that long, in windows of a sixth of it (10 s for 60 s). It fails if the CPU
// time per request of the last window is more than 10% above the first's, or
// the live heap at the end of the last window more than 25% (plus 4 MiB of
// slack) above the first's. It reports the throughput of each window; a last
// window under 90% of the first fails too, unless the CPU per request stayed
// flat, which means other processes took the cores.
func Test(t *testing.T, workers int, call func(ctx context.Context) error) Report {
	t.Helper()
	d, err := time.ParseDuration(os.Getenv(Env))
	if err != nil || d <= 0 {
		t.Skipf("set %s=60s to run the soak", Env)
	}
	rep := Run(t.Context(), workers, d, d/6, call)
	t.Log(rep)
	t.Logf("requests per window %v; CPU per request %v; heap %v", rep.Requests, rep.CPU, rep.Heap)
	if len(rep.Requests) < 2 {
		t.Fatalf("too short for two windows: %v", rep)
	}
	// Throughput is what users see, but on a shared machine other processes
	// move it; the CPU time per request is the simulator's own cost, and the
	// verdict when the two disagree.
	last := len(rep.Requests) - 1
	costGrew := rep.CPU[last]*10 > rep.CPU[0]*11
	if costGrew {
		t.Errorf("CPU per request grew from %v to %v", rep.CPU[0], rep.CPU[last])
	}
	if rep.Requests[last]*10 < rep.Requests[0]*9 && !costGrew {
		load, _ := os.ReadFile("/proc/loadavg")
		t.Logf("throughput fell to %.0f%% of the first window's while the CPU per request did not grow: the machine was busy (load average %s)",
			100*rep.PerSecond(-1)/rep.PerSecond(0), strings.TrimSpace(string(load)))
	}
	if last, first := rep.Heap[len(rep.Heap)-1], rep.Heap[0]; last > first+first/4+4<<20 {
		t.Errorf("heap grew: %d bytes after the first window, %d after the last", first, last)
	}
	if rep.Errors > 0 {
		t.Errorf("%d calls failed", rep.Errors)
	}
	return rep
}

// Serve serves h over loopback for the length of the test and returns its URL
// and a client that keeps a connection per worker.
func Serve(t *testing.T, h http.Handler) (url string, hc *http.Client) {
	srv := httptest.NewServer(h)
	hc = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	t.Cleanup(func() { hc.CloseIdleConnections(); srv.Close() })
	return srv.URL, hc
}

// Expect sends req with hc and fails unless the answer contains want.
func Expect(hc *http.Client, req *http.Request, want string) ([]byte, error) {
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err == nil && !strings.Contains(string(raw), want) {
		err = fmt.Errorf("HTTP %d %q", resp.StatusCode, raw)
	}
	return raw, err
}

// Run runs call from workers goroutines for d and counts completed calls per
// window.
func Run(ctx context.Context, workers int, d, window time.Duration, call func(ctx context.Context) error) Report {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var n, errs atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				if err := call(ctx); err != nil && ctx.Err() == nil {
					errs.Add(1)
				}
				n.Add(1)
			}
		})
	}
	rep := Report{Window: window}
	cpu := cpuTime()
	tick := time.NewTicker(window)
	defer tick.Stop()
	for i := 0; i < int(d/window); i++ {
		select {
		case <-tick.C:
		case <-ctx.Done():
		}
		if ctx.Err() != nil && i < int(d/window)-1 {
			break // cut short
		}
		done := n.Swap(0)
		now := cpuTime()
		rep.Requests = append(rep.Requests, done)
		rep.CPU = append(rep.CPU, (now-cpu)/time.Duration(max(done, 1)))
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		rep.Heap = append(rep.Heap, ms.HeapAlloc)
		cpu = cpuTime() // the collection above is not the next window's cost
	}
	cancel()
	wg.Wait()
	rep.Errors = errs.Load()
	return rep
}
