package redisstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authwire/authwire/clock"
)

// ErrUnavailable is matched by the errors of calls made while Redis is known to
// be unreachable: they are not attempted until [WithRetryInterval] has passed.
var ErrUnavailable = errors.New("redisstore: redis unavailable")

// errNoAnswer is the error of a Redis call that did not answer within the op
// timeout.
var errNoAnswer = errors.New("redisstore: redis did not answer within the op timeout")

// Fleet is the shared Redis backend of one process: it hands out the token
// store, limiters and breaker store, and tracks whether Redis is reachable so
// that all of them fall back together. Create it with [New]; it is safe for
// concurrent use and needs no Close (the caller owns the redis client).
type Fleet struct {
	rdb           redis.UniversalClient
	direct        bool // the client bounds a call by its context by itself
	log           *slog.Logger
	clk           clock.Clock
	prefix        string
	lease         time.Duration
	opTimeout     time.Duration
	retryInterval time.Duration

	downUntil atomic.Int64 // unix ns before which Redis is not tried; 0 = in use
	health    atomic.Int32 // up, down or recovering (see result)
	mu        sync.Mutex   // orders health changes and their log lines
	since     time.Time    // when recovering began
	warned    sync.Map     // one-time warnings already logged, by message (at most maxWarnings)
	nwarned   atomic.Int32 // names stored in warned, or tried past the bound
}

// Health of Redis as the fleet sees it. The log says "unreachable" on up→down
// and "reachable again" on recovering→up only: a Redis that answers some calls
// and fails others right after a restart (stale pooled connections) moves
// between down and recovering without a word.
const (
	healthUp int32 = iota
	healthDown
	healthRecovering
)

// Option configures a [Fleet].
type Option func(*Fleet)

// WithLogger sets where the fleet says that Redis became unreachable (once per
// outage), that it is reachable again (once, when it has answered without an
// error for [WithRetryInterval]), and that a stored token could not be opened
// (once per cause). The default discards everything. No token, key or lock
// value is ever logged.
func WithLogger(l *slog.Logger) Option {
	return func(f *Fleet) {
		if l != nil {
			f.log = l
		}
	}
}

// WithPrefix sets the prefix of every Redis key the fleet uses (default
// "authwire:"), so that several applications can share one Redis. The prefix
// should not contain '{': the fleet puts a Redis Cluster hash tag after it.
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

// WithOpTimeout bounds each Redis call the fleet makes (default 1 s), whatever
// the caller's context and the client's own options allow, so a slow or paused
// Redis delays a request by at most this much before the local fallback takes
// over. See the package documentation for how the bound is enforced.
func WithOpTimeout(d time.Duration) Option {
	return func(f *Fleet) {
		if d > 0 {
			f.opTimeout = d
		}
	}
}

// WithRetryInterval sets how long the fleet stays on its local fallback after a
// Redis error before trying Redis again (default 1 s). It is also how long Redis
// must answer without an error before the fleet says it is reachable again.
func WithRetryInterval(d time.Duration) Option {
	return func(f *Fleet) {
		if d > 0 {
			f.retryInterval = d
		}
	}
}

// WithClock sets the clock of the fleet's own timing: the retry interval and
// the recovery hysteresis (default the real clock). Shared state that replicas
// must agree on (pauses, breaker timeouts, rate recovery) runs on Redis's clock.
func WithClock(c clock.Clock) Option { return func(f *Fleet) { f.clk = clock.OrReal(c) } }

// New returns the fleet backend on client: a *redis.Client (single node or
// Sentinel), a *redis.ClusterClient or a *redis.Ring, as made by
// redis.NewUniversalClient or [ParseURL]. New does not contact Redis: an
// unreachable Redis is found, and reported, on first use.
func New(client redis.UniversalClient, opts ...Option) *Fleet {
	f := &Fleet{
		rdb:           client,
		direct:        honoursContext(client),
		log:           slog.New(slog.DiscardHandler),
		clk:           clock.Real,
		prefix:        "authwire:",
		lease:         10 * time.Second,
		opTimeout:     time.Second,
		retryInterval: time.Second,
	}
	for _, o := range opts {
		o(f)
	}
	return f
}

// honoursContext reports whether client bounds every call by its context's
// deadline (ContextTimeoutEnabled): then a call needs no watchdog.
func honoursContext(c redis.UniversalClient) bool {
	switch c := c.(type) {
	case *redis.Client:
		return c.Options().ContextTimeoutEnabled
	case *redis.ClusterClient:
		return c.Options().ContextTimeoutEnabled
	case *redis.Ring:
		return c.Options().ContextTimeoutEnabled
	}
	return false
}

// Available reports whether the fleet currently uses Redis (false during an
// outage, until the next successful call).
func (f *Fleet) Available() bool { return f.downUntil.Load() == 0 }

// usable reports whether Redis should be tried now.
func (f *Fleet) usable() bool {
	u := f.downUntil.Load()
	return u == 0 || f.clk.Now().UnixNano() >= u
}

// do makes one Redis call, bounded by the op timeout, and records its outcome
// (see result). call must use the context it is given and write its results
// only to variables the caller reads when do returns nil.
//
// go-redis bounds a call by its context only with ContextTimeoutEnabled; by
// default it waits for its own ReadTimeout (3 s) whatever the context says, and a
// paused Redis (CLIENT PAUSE) holds a call that long. So unless the client is
// known to honour the context, the call runs on a goroutine and do stops waiting
// at the op timeout; the abandoned call ends by itself within the client's own
// timeouts, and its result is dropped.
func (f *Fleet) do(ctx context.Context, call func(context.Context) error) error {
	if ctx == nil {
		ctx = context.Background()
	}
	octx, cancel := context.WithTimeout(ctx, f.opTimeout)
	defer cancel()
	var err error
	if f.direct {
		err = call(octx)
	} else {
		done := make(chan error, 1)
		go func() { done <- call(octx) }()
		select {
		case err = <-done:
		case <-octx.Done():
			err = errNoAnswer
			if ctx.Err() != nil {
				err = ctx.Err()
			}
		}
	}
	if err != nil && ctx.Err() == nil && expired(ctx) {
		// The client's socket deadline (the caller's) fired a moment before
		// the context's own timer: report it as the caller's deadline.
		err = context.DeadlineExceeded
	}
	return f.result(ctx, err)
}

// expired reports whether ctx's deadline has passed, even if its timer has not
// fired yet.
func expired(ctx context.Context) bool {
	dl, ok := ctx.Deadline()
	return ok && !time.Now().Before(dl)
}

// gone reports whether the caller has given up.
func gone(ctx context.Context) bool { return ctx != nil && (ctx.Err() != nil || expired(ctx)) }

// result records the outcome of one Redis call and returns err. A failure (other
// than "no such key", a script's own error or the caller giving up) switches the
// fleet to its fallback for the retry interval; a success ends the fallback.
// Only the first failure of an outage and the first success after Redis has
// answered for a whole retry interval without an error are logged, so a Redis
// that flaps while it restarts makes two lines, not twenty.
func (f *Fleet) result(caller context.Context, err error) error {
	if err == nil || errors.Is(err, redis.Nil) {
		if f.health.Load() != healthUp {
			f.recovered()
		}
		return err
	}
	if gone(caller) {
		return err // the caller left; that says nothing about Redis
	}
	var rerr redis.Error
	if errors.As(err, &rerr) && !isOutage(rerr) {
		return err // Redis answered: a script error, not an outage
	}
	f.mu.Lock()
	f.downUntil.Store(f.clk.Now().Add(f.retryInterval).UnixNano())
	switch f.health.Load() {
	case healthUp:
		f.health.Store(healthDown)
		f.log.Warn("redisstore: redis unreachable; falling back to local in-memory tokens, rate limits and breakers",
			slog.String("err", err.Error()))
	case healthRecovering:
		f.health.Store(healthDown) // a flap within the outage: no new line
	}
	f.mu.Unlock()
	return err
}

func (f *Fleet) recovered() {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.clk.Now()
	switch f.health.Load() {
	case healthDown:
		f.health.Store(healthRecovering)
		f.since = now
		f.downUntil.Store(0)
	case healthRecovering:
		if now.Sub(f.since) >= f.retryInterval {
			f.health.Store(healthUp)
			f.log.Info("redisstore: redis reachable again; sharing tokens, rate limits and breakers across the fleet")
		}
	}
}

// isOutage reports whether an error Redis itself returned means it cannot serve
// us (loading, cluster down, wrong password...) rather than a bad script call.
func isOutage(err redis.Error) bool {
	msg := err.Error()
	for _, p := range []string{"LOADING", "CLUSTERDOWN", "TRYAGAIN", "MASTERDOWN", "READONLY", "NOAUTH", "WRONGPASS", "BUSY", "MOVED", "ASK"} {
		if len(msg) >= len(p) && msg[:len(p)] == p {
			return true
		}
	}
	return false
}

// warnOnce logs msg at warning level the first time it is seen in this process's
// fleet.
func (f *Fleet) warnOnce(msg string, attrs ...slog.Attr) {
	if f.firstTime(msg) {
		f.log.LogAttrs(context.Background(), slog.LevelWarn, msg, attrs...)
	}
}

// maxWarnings bounds the one-time warnings a Fleet remembers.
const maxWarnings = 64

// firstTime reports whether the one-time warning named key has not been logged
// yet, and marks it logged. It remembers at most maxWarnings names: past that,
// every new name counts as logged, so that a Redis holding tokens sealed in
// ever new ways cannot grow this process's memory (the undecryptable metric
// still counts each).
func (f *Fleet) firstTime(key string) bool {
	if _, ok := f.warned.Load(key); ok {
		return false
	}
	if f.nwarned.Add(1) > maxWarnings {
		return false
	}
	_, seen := f.warned.LoadOrStore(key, true)
	return !seen
}

// key names a Redis key of the fleet: the prefix, then the entity in a Redis
// Cluster hash tag, then the kind. Every key of one entity (a token and its
// lock, a limiter's bucket and its adapted rate) hashes to one slot, so any
// script over them runs on a cluster.
func (f *Fleet) key(entity, kind string) string {
	if kind == "" {
		return f.prefix + "{" + entity + "}"
	}
	return f.prefix + "{" + entity + "}:" + kind
}

// opErr wraps a failed call's error for the caller.
func opErr(what string, err error) error { return fmt.Errorf("redisstore: %s: %w", what, err) }
