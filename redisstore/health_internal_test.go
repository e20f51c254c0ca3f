package redisstore

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authwire/authwire/clock"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestOutageLogHysteresis replays what a restarting Redis looks like — calls
// that fail and succeed alternately for a while (stale pooled connections) —
// and expects one "unreachable" and one "reachable again" line, not one per
// flip.
func TestOutageLogHysteresis(t *testing.T) {
	var out syncBuf
	clk := clock.NewFake(time.Unix(1000, 0))
	const retry = time.Second
	f := New(nil, WithLogger(slog.New(slog.NewTextHandler(&out, nil))), WithClock(clk), WithRetryInterval(retry))
	down := errors.New("connection refused")
	for i := range 40 { // 20 flips within 20 ms
		if i%2 == 0 {
			f.result(context.Background(), down)
		} else {
			f.result(context.Background(), nil)
		}
		clk.Advance(time.Millisecond / 2)
	}
	if n := strings.Count(out.String(), "redis unreachable"); n != 1 {
		t.Fatalf("%d unreachable lines during the flapping, want 1:\n%s", n, out.String())
	}
	if strings.Contains(out.String(), "reachable again") {
		t.Fatalf("recovery announced while Redis still flaps:\n%s", out.String())
	}
	// Steady successes for a retry interval: recovered, said once.
	for range 10 {
		clk.Advance(retry / 5)
		f.result(context.Background(), nil)
	}
	if n := strings.Count(out.String(), "reachable again"); n != 1 {
		t.Fatalf("%d recovery lines, want 1:\n%s", n, out.String())
	}
	if !f.Available() {
		t.Fatal("not available after recovery")
	}
	// A later outage is a new outage: one more line.
	f.result(context.Background(), down)
	if n := strings.Count(out.String(), "redis unreachable"); n != 2 {
		t.Fatalf("second outage: %d unreachable lines, want 2", n)
	}
}
