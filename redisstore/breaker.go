package redisstore

import (
	"context"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"
)

// BreakerStore is a gobreaker.SharedDataStore on Redis, for breaker.Config.Store:
// replicas share each breaker's state, so when one replica's requests open it,
// the others stop calling the vendor too. Get one from [Fleet.BreakerStore].
//
// gobreaker's DistributedCircuitBreaker fails a request whenever its store
// returns an error (and would then leak the response), so no method of a
// BreakerStore returns one: every state read or written is mirrored in memory,
// and while Redis is unreachable the mirror and an in-process lock stand in for
// Redis, making each replica's breaker a local one until Redis is back.
//
// Note that gobreaker holds the shared lock for the whole of each request
// (Execute runs the request between Lock and Unlock), so requests through one
// distributed breaker run one at a time across the fleet. Waiting is bounded by
// [WithBreakerLockWait]; a request that waited that long goes ahead without the
// lock.
type BreakerStore struct {
	f *Fleet

	mu     sync.Mutex
	locks  map[string]*breakerLock
	mirror map[string][]byte
}

type breakerLock struct {
	sem    chan struct{} // holds one token while the lock is held in this process
	unlock func()        // releases the Redis lock; nil when held only locally
	bypass int           // holders that went ahead without the lock
}

var _ gobreaker.SharedDataStore = (*BreakerStore)(nil)

// BreakerStore returns the fleet's breaker store. One store serves any number of
// breakers (gobreaker names its keys after the breaker).
func (f *Fleet) BreakerStore() *BreakerStore {
	return &BreakerStore{f: f, locks: make(map[string]*breakerLock), mirror: make(map[string][]byte)}
}

// breakerTTL bounds how long a breaker's state outlives its last write.
const breakerTTL = 24 * time.Hour

func (b *BreakerStore) lockOf(name string) *breakerLock {
	b.mu.Lock()
	defer b.mu.Unlock()
	l := b.locks[name]
	if l == nil {
		l = &breakerLock{sem: make(chan struct{}, 1)}
		b.locks[name] = l
	}
	return l
}

// Lock implements gobreaker.SharedDataStore. It takes an in-process lock, then
// the Redis lock (with a lease, like [TokenStore.Lock]). It never fails: past
// [WithBreakerLockWait] it goes ahead without the lock, and without Redis it
// holds the in-process lock only.
func (b *BreakerStore) Lock(name string) error {
	l := b.lockOf(name)
	ctx, cancel := context.WithTimeout(context.Background(), b.f.breakerWait)
	defer cancel()
	select {
	case l.sem <- struct{}{}:
	case <-ctx.Done():
		b.f.warnOnce("redisstore: a breaker waited too long for its shared lock; going ahead without it")
		b.mu.Lock()
		l.bypass++
		b.mu.Unlock()
		return nil
	}
	unlock, err := b.f.lock(ctx, b.f.key(name))
	if err != nil && ctx.Err() != nil && b.f.usable() {
		b.f.warnOnce("redisstore: a breaker waited too long for its shared lock; going ahead without it")
	}
	b.mu.Lock()
	l.unlock = unlock // nil on error: in-process only
	b.mu.Unlock()
	return nil
}

// Unlock implements gobreaker.SharedDataStore; it never fails.
func (b *BreakerStore) Unlock(name string) error {
	l := b.lockOf(name)
	b.mu.Lock()
	if l.bypass > 0 {
		// Holders are indistinguishable: whichever leaves first, the lock is freed
		// when the last of them has.
		l.bypass--
		b.mu.Unlock()
		return nil
	}
	unlock := l.unlock
	l.unlock = nil
	b.mu.Unlock()
	if unlock != nil {
		unlock()
	}
	select {
	case <-l.sem:
	default: // not held: an Unlock without Lock is harmless
	}
	return nil
}

// GetData implements gobreaker.SharedDataStore. It reads Redis, falling back to
// the last state this process read or wrote; it never fails (gobreaker would
// fail the request).
func (b *BreakerStore) GetData(name string) ([]byte, error) {
	if b.f.usable() {
		ctx, cancel := b.f.op(context.Background())
		v, err := b.f.rdb.Get(ctx, b.f.key(name)).Bytes()
		cancel()
		if b.f.result(nil, err) == nil && len(v) > 0 {
			b.mu.Lock()
			b.mirror[name] = v
			b.mu.Unlock()
			return v, nil
		}
	}
	b.mu.Lock()
	v := b.mirror[name]
	b.mu.Unlock()
	// Nothing anywhere: a breaker being created, which then writes its own
	// initial state. Once it has, the mirror always has an answer.
	return v, nil
}

// SetData implements gobreaker.SharedDataStore: it writes the mirror and Redis; it
// never fails.
func (b *BreakerStore) SetData(name string, data []byte) error {
	b.mu.Lock()
	b.mirror[name] = append([]byte(nil), data...)
	b.mu.Unlock()
	if !b.f.usable() {
		return nil
	}
	ctx, cancel := b.f.op(context.Background())
	defer cancel()
	// On error the mirror has it, and the next write goes to Redis again.
	_ = b.f.result(nil, b.f.rdb.Set(ctx, b.f.key(name), data, breakerTTL).Err())
	return nil
}
