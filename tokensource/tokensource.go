package tokensource

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"golang.org/x/oauth2"
	"golang.org/x/sync/singleflight"

	"github.com/authwire/authwire/internal/telemetry"
	"github.com/authwire/authwire/outcome"
)

// Fetcher obtains a new token from upstream: the vendor's login call.
type Fetcher interface {
	Fetch(ctx context.Context) (*oauth2.Token, error)
}

// FetcherFunc adapts a function to [Fetcher].
type FetcherFunc func(ctx context.Context) (*oauth2.Token, error)

// Fetch calls f(ctx).
func (f FetcherFunc) Fetch(ctx context.Context) (*oauth2.Token, error) { return f(ctx) }

// FromOAuth2 adapts an oauth2.TokenSource (which takes no context) to [Fetcher].
func FromOAuth2(ts oauth2.TokenSource) Fetcher {
	return FetcherFunc(func(context.Context) (*oauth2.Token, error) { return ts.Token() })
}

// ToOAuth2 adapts a [Fetcher] to oauth2.TokenSource, for code that takes one (its
// Token has no context: the fetch runs with context.Background()). Every Token
// call fetches, a login each time: wrap it in a reuse layer ([New], or
// oauth2.ReuseTokenSource).
func ToOAuth2(f Fetcher) oauth2.TokenSource { return oauth2Source{f} }

type oauth2Source struct{ f Fetcher }

func (s oauth2Source) Token() (*oauth2.Token, error) { return s.f.Fetch(context.Background()) }

// ErrClosed is returned by a [Source] that must fetch after [Source.Close].
var ErrClosed = errors.New("tokensource: closed")

// Source is a concurrency-safe, self-refreshing token cache. It implements
// oauth2.TokenSource. Create it with [New]; call [Source.Close] when done.
type Source struct {
	// cur and cfg.clock (cfg's first field) are what a cache hit reads: they
	// share a cache line.
	cur     atomic.Pointer[entry]
	cfg     config
	fetcher Fetcher
	group   singleflight.Group

	refreshing  atomic.Bool  // a background refresh is running
	shortStreak atomic.Int32 // consecutive fetched tokens that lived no longer than the skew
	warnedShort atomic.Bool  // the short lifetime was logged
	nextTry     atomic.Int64 // unix ns before which no background refresh starts (backoff)
	failures    atomic.Int32 // consecutive refresh failures
	held        atomic.Pointer[heldError]
	rejected    atomic.Pointer[string] // the access token last passed to Invalidate

	ctx    context.Context // cancelled by Close: stops in-flight fetches
	cancel context.CancelFunc
	mu     sync.Mutex // guards closed and wg.Add, so no Add races Close's Wait
	closed bool
	wg     sync.WaitGroup
}

// entry is one published token. Entries are immutable: a change (refresh, Touch)
// publishes a new one, which is what lets readers go without a lock.
type entry struct {
	tok       *oauth2.Token
	expiry    int64 // unix ns after which the token is not used; 0 = never
	refreshAt int64 // unix ns from which a background refresh starts; 0 = never
}

type heldError struct {
	err   error
	until int64
}

const fetchKey = "fetch"

// New returns a Source that fetches through f. See the With* options for the
// defaults.
func New(f Fetcher, opts ...Option) *Source {
	s := &Source{fetcher: f, cfg: defaults()}
	for _, o := range opts {
		o(&s.cfg)
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s
}

// Token returns a valid token; it implements oauth2.TokenSource.
func (s *Source) Token() (*oauth2.Token, error) {
	return s.TokenContext(context.Background())
}

// TokenContext returns a valid token. A cache hit costs one atomic load. On a miss
// it waits for the one shared fetch until ctx is done; leaving early does not cancel
// the fetch for the others. The returned token is shared: do not modify it.
func (s *Source) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	if e := s.cur.Load(); e != nil {
		now := s.cfg.clock.Now().UnixNano()
		if e.expiry == 0 || now < e.expiry {
			if e.refreshAt != 0 && now >= e.refreshAt {
				s.refreshInBackground(e, now)
			}
			return e.tok, nil
		}
	}
	return s.slow(ctx)
}

func (s *Source) slow(ctx context.Context) (*oauth2.Token, error) {
	if h := s.held.Load(); h != nil && s.cfg.clock.Now().UnixNano() < h.until {
		return nil, h.err
	}
	// The leader's values (trace spans, an oauth2.HTTPClient) reach the fetch, its
	// cancellation does not: the fetch belongs to every waiter. Close cancels it.
	fctx := context.WithoutCancel(ctx)
	start := time.Now()
	ch := s.group.DoChan(fetchKey, func() (any, error) { return s.fetchAs(fctx, false) })
	select {
	case r := <-ch:
		telemetry.Get().TokenWait.Record(ctx, time.Since(start).Seconds(), telemetry.Attrs(attribute.String("vendor", s.cfg.name)))
		if r.Err != nil {
			return nil, r.Err
		}
		e, _ := r.Val.(*entry)
		if e == nil || e.tok == nil {
			// Every path of the flight returns an entry or an error; never hand a
			// caller a nil token with a nil error.
			return nil, errNoToken
		}
		return e.tok, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// refreshInBackground starts one refresh while the current token stays in use.
func (s *Source) refreshInBackground(due *entry, now int64) {
	// Loads first: while a refresh is in flight every hit passes here, and a
	// failing CompareAndSwap would still take the cache line for writing.
	if s.refreshing.Load() || now < s.nextTry.Load() || !s.refreshing.CompareAndSwap(false, true) {
		return
	}
	if !s.track() {
		s.refreshing.Store(false)
		return
	}
	go func() {
		defer s.wg.Done()
		// Do joins a fetch already in flight (a caller's on a miss) rather than
		// starting a second one; either way the flag is cleared when it ends.
		defer s.refreshing.Store(false)
		s.group.Do(fetchKey, func() (any, error) {
			// The caller saw due before another refresh replaced it with a token
			// still valid: nothing to do. A token Invalidate dropped meanwhile (cur
			// nil) is not a replacement: callers joining this flight need one.
			if cur := s.cur.Load(); cur != due && s.valid(cur, s.cfg.clock.Now().UnixNano()) {
				return cur, nil
			}
			return s.fetchAs(context.Background(), true)
		})
	}()
}

// fetchAs runs under single flight: one at a time per Source. It reports each
// fetch to the observer, after the Source's state reflects it.
func (s *Source) fetchAs(parent context.Context, background bool) (*entry, error) {
	if !s.track() {
		return nil, ErrClosed
	}
	defer s.wg.Done()
	start := s.cfg.clock.Now()
	if !background {
		// A caller that saw no valid token may arrive just after another fetch
		// published one and left the flight: use that one instead of logging in again.
		if e := s.cur.Load(); s.valid(e, start.UnixNano()) {
			return e, nil
		}
	}
	ctx, span := telemetry.Tracer().Start(parent, "authwire.token.fetch")
	e, shared, err := s.fetch(ctx)
	ev := Event{Background: background, Shared: shared, Err: err, Duration: s.cfg.clock.Now().Sub(start)}
	s.report(ctx, ev)
	if err != nil {
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
	if s.cfg.observe != nil {
		s.cfg.observe(ev)
	}
	return e, err
}

// report writes one log line and the metrics of a fetch. Errors from fetchers are
// typed vendor errors that never carry credentials; the token itself is never
// logged.
func (s *Source) report(ctx context.Context, ev Event) {
	result := "ok"
	if ev.Err != nil {
		result = "error"
	}
	attrs := telemetry.Attrs(attribute.String("vendor", s.cfg.name), attribute.String("result", result))
	switch {
	case ev.Shared:
	case ev.Background:
		telemetry.Get().Refreshes.Add(ctx, 1, attrs)
		telemetry.Get().Logins.Add(ctx, 1, attrs)
	default:
		telemetry.Get().Logins.Add(ctx, 1, attrs)
	}
	if s.cfg.logger == nil {
		return
	}
	msg := "authwire: login"
	if ev.Background {
		msg = "authwire: token refresh"
	}
	if ev.Shared {
		msg = "authwire: token from shared store"
	}
	args := []any{slog.String("vendor", s.cfg.name), slog.Duration("took", ev.Duration)}
	if ev.Err != nil {
		_, code := outcome.CodeOf(ev.Err)
		args = append(args, slog.String("code", code), slog.Bool("permanent", outcome.IsPermanent(ev.Err)), slog.String("error", ev.Err.Error()))
		s.cfg.logger.WarnContext(ctx, msg+" failed", args...)
		return
	}
	s.cfg.logger.InfoContext(ctx, msg, args...)
}

// Event describes one fetch, for [WithObserver]: logs, metrics, tests.
type Event struct {
	// Background is true for an early refresh no caller waited for.
	Background bool
	// Shared is true when the token came from the Store (another process's
	// login) rather than from the Fetcher.
	Shared bool
	// Err is the fetch error, nil on success.
	Err error
	// Duration is how long the fetch took.
	Duration time.Duration
}

func (s *Source) fetch(parent context.Context) (_ *entry, shared bool, _ error) {
	ctx, cancel := context.WithTimeout(parent, s.cfg.fetchTimeout)
	defer cancel()
	stop := context.AfterFunc(s.ctx, cancel)
	defer stop()

	stale := s.cur.Load()
	release := func() {} // releases the store's lock, once, when held
	if st := s.cfg.store; st != nil {
		if e := s.loadShared(ctx, stale); e != nil {
			return e, true, nil
		}
		if l, ok := st.(Locker); ok {
			unlock, err := l.Lock(ctx, s.cfg.key)
			switch {
			case err == nil:
				release = sync.OnceFunc(unlock)
				defer release()
				// Another replica may have logged in while we waited for the lock.
				if e := s.loadShared(ctx, stale); e != nil {
					return e, true, nil
				}
			case ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
				// The wait ran out (the fetch timeout, Close): a login now would be
				// without the lock and past the fetch's time.
				return nil, false, fmt.Errorf("tokensource: fetch: waiting for the store's lock: %w", err)
			}
			// A lock that cannot be had for another reason (the store is down)
			// must not stop the login: degrade to one login per process.
		}
	}

	tok, err := s.callFetcher(ctx)
	now := s.cfg.clock.Now()
	if err == nil && tok == nil {
		err = errNoToken
	}
	if err != nil {
		n := s.failures.Add(1)
		s.nextTry.Store(now.Add(backoff(s.cfg.backoffMin, s.cfg.backoffMax, int(n))).UnixNano())
		if outcome.IsPermanent(err) {
			s.held.Store(&heldError{err: err, until: now.Add(s.cfg.holdPermanent).UnixNano()})
		}
		return nil, false, fmt.Errorf("tokensource: fetch: %w", err)
	}
	s.failures.Store(0)
	s.nextTry.Store(0)
	s.held.Store(nil)
	e := s.newEntry(ctx, tok, now)
	if r := s.rejected.Load(); r != nil && *r == e.tok.AccessToken {
		s.rejected.Store(nil) // the vendor has issued it again: it is good
	}
	// Stored, and the lock released, before any caller here can use it: a token
	// rejected as soon as it is out must be in the store for Invalidate to delete,
	// and not be written there after it.
	if st := s.cfg.store; st != nil {
		_ = st.Save(ctx, s.cfg.key, e.tok) // best effort: the local cache still works
	}
	release()
	s.cur.Store(e)
	return e, false, nil
}

// loadShared returns a usable token from the store, publishing it locally, or nil.
// The token last rejected here is not usable (a Delete of it may still be on its
// way), nor is the stale local one, which is what we are replacing — unless
// another replica has moved its expiry on (sliding expiry).
func (s *Source) loadShared(ctx context.Context, stale *entry) *entry {
	tok, err := s.cfg.store.Load(ctx, s.cfg.key)
	if err != nil || tok == nil {
		return nil
	}
	if r := s.rejected.Load(); r != nil && *r == tok.AccessToken {
		return nil
	}
	now := s.cfg.clock.Now()
	e := &entry{tok: tok}
	if !tok.Expiry.IsZero() {
		e.expiry = tok.Expiry.Add(-s.cfg.skew).UnixNano()
		if now.UnixNano() >= e.expiry {
			return nil
		}
	}
	if stale != nil && stale.tok.AccessToken == tok.AccessToken && (e.expiry == 0 || e.expiry <= stale.expiry) {
		return nil
	}
	e.refreshAt = s.refreshAt(now.UnixNano(), e.expiry)
	s.cur.Store(e)
	return e
}

func (s *Source) newEntry(ctx context.Context, tok *oauth2.Token, now time.Time) *entry {
	if s.cfg.sliding > 0 {
		exp := now.Add(s.cfg.sliding)
		if tok.Expiry.IsZero() || exp.Before(tok.Expiry) {
			tok = withExpiry(tok, exp)
		}
	} else if tok.Expiry.IsZero() && tok.ExpiresIn > 0 {
		// Capped: an absurd expires_in must not overflow into a lifetime of a
		// fraction of a second (a login per call).
		life := maxLifetime
		if tok.ExpiresIn < int64(maxLifetime/time.Second) {
			life = time.Duration(tok.ExpiresIn) * time.Second
		}
		tok = withExpiry(tok, now.Add(life))
	}
	e := &entry{tok: tok}
	if tok.Expiry.IsZero() {
		s.shortStreak.Store(0)
		return e
	}
	life := tok.Expiry.Sub(now)
	if life > s.cfg.skew {
		s.shortStreak.Store(0)
		e.expiry = tok.Expiry.Add(-s.cfg.skew).UnixNano()
		e.refreshAt = s.refreshAt(now.UnixNano(), e.expiry)
		return e
	}
	// The token lives no longer than the skew: treating it as expired on arrival
	// would mean a login per call. Use it — half its life, and for a vendor that
	// keeps issuing such tokens at least a backoff that doubles with each one in a
	// row (1 s, 2 s, … up to the refresh backoff's maximum), so that logins slow
	// down instead of storming. If the vendor does reject it, the re-auth layer's
	// Invalidate replaces it. No early refresh: it would be one more login.
	n := int(s.shortStreak.Add(1))
	use := max(life/2, backoff(s.cfg.backoffMin, s.cfg.backoffMax, n))
	e.expiry = now.Add(use).UnixNano()
	if s.warnedShort.CompareAndSwap(false, true) && s.cfg.logger != nil {
		s.cfg.logger.WarnContext(ctx, "authwire: token lifetime shorter than the expiry skew; using it anyway (logged once)",
			slog.String("vendor", s.cfg.name), slog.Duration("lifetime", life), slog.Duration("skew", s.cfg.skew),
			slog.Duration("used_for", use))
	}
	return e
}

// maxLifetime caps a token lifetime read from expires_in.
const maxLifetime = 365 * 24 * time.Hour

// valid reports whether e holds a token usable at now.
func (s *Source) valid(e *entry, now int64) bool {
	return e != nil && (e.expiry == 0 || now < e.expiry)
}

// callFetcher runs the Fetcher, turning a panic into an error: it runs under
// single flight (on a goroutine of its own for background refreshes), where a
// panic would reach no caller that could recover it and would end the process.
func (s *Source) callFetcher(ctx context.Context) (tok *oauth2.Token, err error) {
	defer func() {
		if v := recover(); v != nil {
			tok, err = nil, &PanicError{Value: v}
			if s.cfg.logger != nil {
				s.cfg.logger.ErrorContext(ctx, "authwire: token fetcher panicked", slog.String("vendor", s.cfg.name),
					slog.String("panic", err.Error()), slog.String("stack", string(debug.Stack())))
			}
		}
	}()
	return s.fetcher.Fetch(ctx)
}

// PanicError is the error every waiter gets when the [Fetcher] panicked. Its
// message names the panic's type only — a runtime error's text, never a value that
// might carry a credential; Value holds the panic value itself.
type PanicError struct {
	Value any
}

// Error implements error.
func (e *PanicError) Error() string {
	if re, ok := e.Value.(runtime.Error); ok {
		return "tokensource: fetcher panicked: " + re.Error()
	}
	return fmt.Sprintf("tokensource: fetcher panicked (%T)", e.Value)
}

var errNoToken = errors.New("tokensource: fetcher returned no token and no error")

// refreshAt places the start of background refresh window before expiry, minus a
// random jitter so replicas that fetched together do not refresh together; for
// tokens shorter than the window it falls back to the middle of their life.
func (s *Source) refreshAt(now, expiry int64) int64 {
	if expiry == 0 || s.cfg.window <= 0 {
		return 0
	}
	at := expiry - int64(s.cfg.window)
	if s.cfg.jitter > 0 {
		at -= rand.Int64N(int64(s.cfg.jitter))
	}
	if mid := now + (expiry-now)/2; at < mid {
		at = mid
	}
	return at
}

func withExpiry(tok *oauth2.Token, exp time.Time) *oauth2.Token {
	t := *tok // keeps Extra
	t.Expiry = exp
	return &t
}

// Invalidate discards the cached token if it is still rejected — the token a vendor
// refused. A rejected token that is no longer cached (a newer one replaced it) is
// ignored, so many requests that saw the same rejection cause one re-fetch, on the
// next TokenContext. With a Store, the token is deleted there too (if still
// stored), and this Source never takes it from the store again.
func (s *Source) Invalidate(rejected *oauth2.Token) {
	if rejected == nil {
		return
	}
	access := rejected.AccessToken
	s.rejected.Store(&access)
	for {
		e := s.cur.Load()
		if e == nil || e.tok.AccessToken != access {
			return
		}
		if s.cur.CompareAndSwap(e, nil) {
			break
		}
		// A Touch republished the same token with a later expiry: drop that.
	}
	if s.cfg.store != nil {
		ctx, cancel := context.WithTimeout(s.ctx, s.cfg.fetchTimeout)
		defer cancel()
		_ = s.cfg.store.Delete(ctx, s.cfg.key, rejected)
	}
}

// Touch records a successful use of tok. With [WithSlidingExpiry] it moves the
// token's expiry to now + the sliding lifetime; otherwise it does nothing. To keep
// the hot path cheap a Touch republishes at most once per [WithTouchGranularity].
// With a Store, the new expiry is written there in the background, and only while
// the store still holds tok (see [Extender]).
func (s *Source) Touch(tok *oauth2.Token) {
	if s.cfg.sliding <= 0 || tok == nil {
		return
	}
	e := s.cur.Load()
	if e == nil || e.tok.AccessToken != tok.AccessToken {
		return
	}
	now := s.cfg.clock.Now()
	exp := now.Add(s.cfg.sliding)
	if exp.Add(-s.cfg.skew).UnixNano()-e.expiry < int64(s.cfg.touchEvery) {
		return
	}
	ne := &entry{tok: withExpiry(e.tok, exp), expiry: exp.Add(-s.cfg.skew).UnixNano()}
	ne.refreshAt = s.refreshAt(now.UnixNano(), ne.expiry)
	if s.cur.CompareAndSwap(e, ne) && s.cfg.store != nil && s.track() {
		go func() {
			defer s.wg.Done()
			ctx, cancel := context.WithTimeout(s.ctx, s.cfg.fetchTimeout)
			defer cancel()
			s.republish(ctx, ne.tok)
		}()
	}
}

// republish writes a touched token's new expiry to the store: with Extend when
// the store has it, so that a write that runs late never puts back a token that
// another replica has replaced since (see [Extender]).
func (s *Source) republish(ctx context.Context, tok *oauth2.Token) {
	if x, ok := s.cfg.store.(Extender); ok {
		_ = x.Extend(ctx, s.cfg.key, tok)
		return
	}
	_ = s.cfg.store.Save(ctx, s.cfg.key, tok)
}

// Close cancels any in-flight fetch and waits for background work to end. Cached
// tokens are still served after Close; a fetch returns [ErrClosed].
func (s *Source) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	return nil
}

// track registers one background goroutine, or reports false after Close.
func (s *Source) track() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	return true
}

func backoff(lo, hi time.Duration, n int) time.Duration {
	d := lo
	for i := 1; i < n && d < hi; i++ {
		d *= 2
	}
	return min(d, hi)
}
