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
			// The second Get found "a" as the hot key, without reading the
			// clock: the first sweep dates that use, the next one may drop it.
			// Any lookup of another key runs the sweep that is due.
			for i := range 2 {
				clk.Advance(tc.advance)
				m.Get(fmt.Sprint("other", i))
			}
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

// TestHotKeyIsDatedBySweep: uses of the hot key are not timed, so the sweep
// after them counts as their time; the key goes one TTL after that sweep, not
// before.
func TestHotKeyIsDatedBySweep(t *testing.T) {
	clk := clock.NewFake(time.Unix(0, 0))
	var created atomic.Int32
	m := newMap(clk, time.Minute, &created)
	m.Get("a")
	m.Get("a") // hot: flagged, not timed
	clk.Advance(2 * time.Minute)
	m.Get("b") // sweeps: dates the use of "a" now
	clk.Advance(50 * time.Second)
	m.Get("c") // not yet a TTL since that sweep
	if _, kept := m.Peek("a"); !kept {
		t.Fatal("a key was dropped less than its TTL after its use was dated")
	}
	clk.Advance(20 * time.Second)
	m.Get("d")
	if _, kept := m.Peek("a"); kept {
		t.Fatal("a key idle a TTL past its dated use was kept")
	}
	if got := m.Get("a"); created.Load() != 5 || got.key != "a" {
		t.Fatalf("after the drop, Get made %d states, want a new one for a", created.Load())
	}
}

// TestDroppedHotKeyIsNotHandedOut: once the sweep drops the hot key, Get makes
// a new state for it instead of returning the dropped one.
func TestDroppedHotKeyIsNotHandedOut(t *testing.T) {
	clk := clock.NewFake(time.Unix(0, 0))
	var created atomic.Int32
	m := keyed.New(keyed.Config[*state]{IdleTTL: time.Minute, Clock: clk,
		New: func(k string) *state { created.Add(1); return &state{key: k} }})
	a := m.GetAt("a", clk.Now()) // hot, and timed
	clk.Advance(2 * time.Minute)
	m.GetAt("b", clk.Now()) // sweeps "a" away; "b" is hot now
	if _, kept := m.Peek("a"); kept {
		t.Fatal("a was not dropped")
	}
	if m.Get("a") == a {
		t.Fatal("Get handed out a dropped state")
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
