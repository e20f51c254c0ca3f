package redisstore

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrUnavailable is matched by the errors of calls made while Redis is known to
// be unreachable: they are not attempted until [WithRetryInterval] has passed.
var ErrUnavailable = errors.New("redisstore: redis unavailable")

// Fleet is the shared Redis backend of one process: it hands out the token
// store, limiters and breaker store, and tracks whether Redis is reachable so
// that all of them fall back together. Create it with [New]; it is safe for
// concurrent use and needs no Close (the caller owns the redis client).
type Fleet struct {
	rdb           redis.UniversalClient
	log           *slog.Logger
	prefix        string
	lease         time.Duration
	opTimeout     time.Duration
	retryInterval time.Duration
	breakerWait   time.Duration

	downUntil atomic.Int64 // unix ns before which Redis is not tried; 0 = up
	mu        sync.Mutex   // orders the "down" / "back" log lines
	down      bool
	warned    sync.Map // one-time warnings already logged, by message
}

// Option configures a [Fleet].
type Option func(*Fleet)

// WithLogger sets where the fleet says that Redis became unreachable (once per
// outage) and reachable again. The default discards everything. No token, key or
// lock value is ever logged.
func WithLogger(l *slog.Logger) Option {
	return func(f *Fleet) {
		if l != nil {
			f.log = l
		}
	}
}

// WithPrefix sets the prefix of every Redis key the fleet uses (default
// "authwire:"), so that several applications can share one Redis.
func WithPrefix(p string) Option { return func(f *Fleet) { f.prefix = p } }

// WithLockLease sets the lease of the token refresh lock (default 10 s). A live
// holder renews it every third of the lease; a holder that dies loses it when the
// lease runs out, and another replica takes over.
func WithLockLease(d time.Duration) Option {
	return func(f *Fleet) {
		if d > 0 {
			f.lease = d
		}
	}
}

// WithOpTimeout bounds each Redis call the fleet makes (default 1 s), whatever the
// caller's context allows, so a slow Redis delays a request by at most this much
// before the local fallback takes over.
func WithOpTimeout(d time.Duration) Option {
	return func(f *Fleet) {
		if d > 0 {
			f.opTimeout = d
		}
	}
}

// WithRetryInterval sets how long the fleet stays on its local fallback after a
// Redis error before trying Redis again (default 1 s).
func WithRetryInterval(d time.Duration) Option {
	return func(f *Fleet) {
		if d > 0 {
			f.retryInterval = d
		}
	}
}

// WithBreakerLockWait bounds how long a breaker waits for the shared breaker
// lock held by another request (default 5 s, gobreaker's own mutex timeout).
// After that it proceeds without it: a breaker count may be lost, a request is
// not.
func WithBreakerLockWait(d time.Duration) Option {
	return func(f *Fleet) {
		if d > 0 {
			f.breakerWait = d
		}
	}
}

// New returns the fleet backend on client (a *redis.Client, *redis.ClusterClient
// or *redis.Ring). New does not contact Redis: an unreachable Redis is found, and
// reported, on first use.
func New(client redis.UniversalClient, opts ...Option) *Fleet {
	f := &Fleet{
		rdb:           client,
		log:           slog.New(slog.NewTextHandler(io.Discard, nil)),
		prefix:        "authwire:",
		lease:         10 * time.Second,
		opTimeout:     time.Second,
		retryInterval: time.Second,
		breakerWait:   5 * time.Second,
	}
	for _, o := range opts {
		o(f)
	}
	return f
}

// Available reports whether the fleet currently uses Redis (false during an
// outage, until the next successful call).
func (f *Fleet) Available() bool { return f.downUntil.Load() == 0 }

// usable reports whether Redis should be tried now.
func (f *Fleet) usable() bool {
	u := f.downUntil.Load()
	return u == 0 || time.Now().UnixNano() >= u
}

// op derives the context of one Redis call: bounded by the op timeout, and
// detached from nothing — the caller's cancellation still applies.
func (f *Fleet) op(ctx context.Context) (context.Context, context.CancelFunc) {
	if ctx == nil {
		ctx = context.Background()
	}
	return context.WithTimeout(ctx, f.opTimeout)
}

// result records the outcome of one Redis call: a failure (other than "no such
// key" or the caller giving up) switches the fleet to its fallback and is logged
// once per outage; a success after an outage is logged once. It returns err.
func (f *Fleet) result(caller context.Context, err error) error {
	if err == nil || errors.Is(err, redis.Nil) {
		if f.downUntil.Load() != 0 {
			f.mu.Lock()
			if f.down {
				f.down = false
				f.log.Info("redisstore: redis reachable again; sharing tokens, rate limits and breakers across the fleet")
			}
			f.downUntil.Store(0)
			f.mu.Unlock()
		}
		return err
	}
	if caller != nil && caller.Err() != nil {
		return err // the caller left; that says nothing about Redis
	}
	f.mu.Lock()
	f.downUntil.Store(time.Now().Add(f.retryInterval).UnixNano())
	if !f.down {
		f.down = true
		f.log.Warn("redisstore: redis unreachable; falling back to local in-memory tokens, rate limits and breakers",
			slog.String("err", err.Error()))
	}
	f.mu.Unlock()
	return err
}

// warnOnce logs msg at warning level the first time it is seen.
func (f *Fleet) warnOnce(msg string) {
	if _, seen := f.warned.LoadOrStore(msg, true); !seen {
		f.log.Warn(msg)
	}
}

func (f *Fleet) key(parts ...string) string {
	k := f.prefix
	for i, p := range parts {
		if i > 0 {
			k += ":"
		}
		k += p
	}
	return k
}
