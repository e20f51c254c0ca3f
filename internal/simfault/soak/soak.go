// Package soak runs the simulators' opt-in soak tests: full-speed load for a
// minute, throughput and live heap measured window by window, so that a
// simulator whose cost per request grows with the requests served is caught.
package soak

import (
	"context"
	"fmt"
	"os"
	"runtime"
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
// that long, in windows of a sixth of it (10 s for 60 s), and fails unless the
// last window serves at least 90% of the first's requests and the live heap at
// the end of the last window is within 25% (plus 4 MiB of slack) of the first's.
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
	if last, first := rep.Requests[len(rep.Requests)-1], rep.Requests[0]; last*10 < first*9 {
		t.Errorf("throughput fell: last window %d requests, first %d", last, first)
	}
	if last, first := rep.Heap[len(rep.Heap)-1], rep.Heap[0]; last > first+first/4+4<<20 {
		t.Errorf("heap grew: %d bytes after the first window, %d after the last", first, last)
	}
	if rep.Errors > 0 {
		t.Errorf("%d calls failed", rep.Errors)
	}
	return rep
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
