// Package keyed is the per-key state of the framework's layers (a rate-limit
// bucket per host, a circuit breaker per host) with idle eviction, so that a
// client that touches many hosts over its life does not keep state for every one
// of them forever.
//
// The hot path — the key used last, which for most clients is the one vendor
// host they call — is two atomic loads: no map lookup, no clock read. Other keys
// cost a sync.Map load and, at most once per second per key, an atomic store of
// the last use. There is no background goroutine: expired keys are swept
// by whichever call first finds the sweep due (at most once per quarter of the
// idle TTL), which amortises the sweep over the calls.
package keyed

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/authwire/authwire/clock"
)

// DefaultIdleTTL is how long a key may go unused before its state is dropped when
// the configuration says zero.
const DefaultIdleTTL = 10 * time.Minute

// touchEvery is the granularity of last-use times: a key used many times a second
// is written once a second, so hot keys do not bounce a cache line between cores.
const touchEvery = int64(time.Second)

// Config configures a [Map].
type Config[V any] struct {
	// IdleTTL drops a key unused for this long; zero means [DefaultIdleTTL],
	// negative never drops any. A key is never dropped earlier, and may be
	// later: by up to a quarter TTL for the sweep to come due, and, when its
	// last uses were as the hot key (untimed), by one more TTL from the sweep
	// that dates them.
	IdleTTL time.Duration
	// Clock times the idleness; nil means the wall clock.
	Clock clock.Clock
	// New creates the state of a key on first use. Required.
	New func(key string) V
	// Busy, if set, reports state that must outlive idleness (a paused rate-limit
	// key): such a key is kept however long it was unused.
	Busy func(v V, now time.Time) bool
}

// Map holds one V per key. The zero value is not usable; call [New].
type Map[V any] struct {
	// What a use of the hot key reads comes first, in one cache line.
	hot       atomic.Pointer[item[V]] // the key used last: most clients call one host
	ttl       int64                   // ns; <= 0: never evict
	nextSweep atomic.Int64            // unix ns

	cfg      Config[V]
	m        sync.Map
	mu       sync.Mutex // serialises creation
	sweeping atomic.Bool
}

type item[V any] struct {
	key  string
	v    V
	last atomic.Int64 // unix ns of the last use whose time is known, to touchEvery
	used atomic.Bool  // used since the last sweep at a time not known (a [Map.Get] of the hot key)
	dead atomic.Bool  // dropped by a sweep: the hot key must not hand it out again
}

// New returns an empty Map.
func New[V any](cfg Config[V]) *Map[V] {
	cfg.Clock = clock.OrReal(cfg.Clock)
	if cfg.IdleTTL == 0 {
		cfg.IdleTTL = DefaultIdleTTL
	}
	m := &Map[V]{cfg: cfg, ttl: int64(cfg.IdleTTL)}
	m.nextSweep.Store(cfg.Clock.Now().UnixNano() + m.ttl/4)
	return m
}

// Get returns the state of key, creating it on first use, and records the use.
// The key used last is found without a map lookup or a clock read: its use is
// flagged, and the next sweep dates it.
func (m *Map[V]) Get(key string) V {
	if it := m.hot.Load(); it != nil && it.key == key && !it.dead.Load() {
		if !it.used.Load() {
			it.used.Store(true)
		}
		return it.v
	}
	return m.lookup(key, m.cfg.Clock.Now())
}

// GetAt is [Map.Get] for a caller that has already read the clock.
func (m *Map[V]) GetAt(key string, now time.Time) V {
	if it := m.hot.Load(); it != nil && it.key == key && !it.dead.Load() {
		ns := now.UnixNano()
		if ns-it.last.Load() >= touchEvery {
			it.last.Store(ns)
		}
		if m.ttl > 0 && ns >= m.nextSweep.Load() {
			m.sweep(now)
		}
		return it.v
	}
	return m.lookup(key, now)
}

// lookup finds or creates the state of key in the map, records its use at now,
// makes it the hot key and runs the sweep when it is due.
func (m *Map[V]) lookup(key string, now time.Time) V {
	ns := now.UnixNano()
	var it *item[V]
	if x, ok := m.m.Load(key); ok {
		it = x.(*item[V])
		if ns-it.last.Load() >= touchEvery {
			it.last.Store(ns)
		}
	} else {
		it = m.create(key, ns)
	}
	m.hot.Store(it)
	if m.ttl > 0 && ns >= m.nextSweep.Load() {
		m.sweep(now)
	}
	return it.v
}

// create makes the state of key once, under a lock taken only on a miss: New may
// be costly or have effects (a breaker shared through a store).
func (m *Map[V]) create(key string, ns int64) *item[V] {
	m.mu.Lock()
	defer m.mu.Unlock()
	if x, ok := m.m.Load(key); ok {
		return x.(*item[V])
	}
	it := &item[V]{key: key, v: m.cfg.New(key)}
	it.last.Store(ns)
	m.m.Store(key, it)
	return it
}

// Peek returns the state of key without creating it or recording a use.
func (m *Map[V]) Peek(key string) (V, bool) {
	if x, ok := m.m.Load(key); ok {
		return x.(*item[V]).v, true
	}
	var zero V
	return zero, false
}

// Len returns the number of keys held (for tests and metrics; it walks the map).
func (m *Map[V]) Len() int {
	n := 0
	m.m.Range(func(any, any) bool { n++; return true })
	return n
}

// sweep drops the keys idle for the TTL and not busy. One caller sweeps at a time;
// the others go on.
func (m *Map[V]) sweep(now time.Time) {
	if !m.sweeping.CompareAndSwap(false, true) {
		return
	}
	defer m.sweeping.Store(false)
	ns := now.UnixNano()
	if ns < m.nextSweep.Load() {
		return // another caller just swept
	}
	m.nextSweep.Store(ns + max(m.ttl/4, touchEvery))
	cutoff := ns - m.ttl
	m.m.Range(func(k, x any) bool {
		it := x.(*item[V])
		switch {
		case it.used.Load():
			// Used since the last sweep, at a time not recorded: now is no
			// earlier than that use, so the key cannot go before its TTL.
			it.used.Store(false)
			it.last.Store(ns)
		case it.last.Load() <= cutoff && (m.cfg.Busy == nil || !m.cfg.Busy(it.v, now)):
			it.dead.Store(true)
			// Only this item: a caller that recreated the key meanwhile keeps its own.
			m.m.CompareAndDelete(k, it)
			m.hot.CompareAndSwap(it, nil)
		}
		return true
	})
}
