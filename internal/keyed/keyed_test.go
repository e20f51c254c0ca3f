package keyed_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authwire/authwire/clock"
	"github.com/authwire/authwire/internal/keyed"
)

type state struct {
	key  string
	busy atomic.Bool
}

func newMap(clk clock.Clock, ttl time.Duration, created *atomic.Int32) *keyed.Map[*state] {
	return keyed.New(keyed.Config[*state]{
		IdleTTL: ttl,
		Clock:   clk,
		New:     func(k string) *state { created.Add(1); return &state{key: k} },
		Busy:    func(s *state, _ time.Time) bool { return s.busy.Load() },
	})
}

func TestIdleKeysAreDropped(t *testing.T) {
	for _, tc := range []struct {
		name     string
		ttl      time.Duration
		advance  time.Duration
		busy     bool
		wantKept bool
	}{
		{"used recently", time.Minute, 30 * time.Second, false, true},
		{"idle past the TTL", time.Minute, 2 * time.Minute, false, false},
		{"idle but busy", time.Minute, 2 * time.Minute, true, true},
		{"never evicting", -1, 24 * time.Hour, false, true},
		{"default TTL", 0, 11 * time.Minute, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := clock.NewFake(time.Unix(0, 0))
			var created atomic.Int32
			m := newMap(clk, tc.ttl, &created)
			a := m.Get("a")
			a.busy.Store(tc.busy)
			if m.Get("a") != a || created.Load() != 1 {
				t.Fatal("a second Get made a new state")
			}
			clk.Advance(tc.advance)
			m.Get("other") // any use runs the sweep when it is due
			_, kept := m.Peek("a")
			if kept != tc.wantKept {
				t.Fatalf("kept = %v, want %v", kept, tc.wantKept)
			}
			if got := m.Get("a"); (got == a) != tc.wantKept {
				t.Fatalf("state after the sweep: same = %v, want %v", got == a, tc.wantKept)
			}
		})
	}
}

func TestUseKeepsAKeyAlive(t *testing.T) {
	clk := clock.NewFake(time.Unix(0, 0))
	var created atomic.Int32
	m := newMap(clk, time.Minute, &created)
	a := m.Get("a")
	for range 10 { // 10 minutes, used every 30 s
		clk.Advance(30 * time.Second)
		if m.Get("a") != a {
			t.Fatal("a key in use was dropped")
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	clk := clock.NewFake(time.Unix(0, 0))
	var created atomic.Int32
	m := newMap(clk, time.Second, &created)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				k := fmt.Sprint("k", (g*7+i)%50)
				if s := m.Get(k); s.key != k {
					t.Errorf("Get(%q) returned the state of %q", k, s.key)
					return
				}
				if i%100 == 0 {
					clk.Advance(300 * time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()
}

func BenchmarkGet(b *testing.B) {
	m := keyed.New(keyed.Config[*state]{New: func(k string) *state { return &state{key: k} }})
	m.Get("api.vendor.example")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.Get("api.vendor.example")
		}
	})
}
