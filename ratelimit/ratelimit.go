// Package ratelimit paces requests per key (vendor + credential + endpoint group)
// with golang.org/x/time/rate, and slows itself down when the vendor says "too
// frequent" — a code inside an HTTP 200 body, as many vendors do, or an HTTP 429 —
// the way aws-sdk-go-v2's adaptive retry mode does: cut the rate
// multiplicatively, pause for Retry-After, recover additively on success.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"golang.org/x/time/rate"

	"github.com/authwire/authwire/clock"
	"github.com/authwire/authwire/internal/keyed"
	"github.com/authwire/authwire/internal/reqbody"
	"github.com/authwire/authwire/internal/telemetry"
	"github.com/authwire/authwire/outcome"
)

// Limiter paces requests per key. [Adaptive] is the in-process implementation;
// package redisstore shares one budget between replicas.
type Limiter interface {
	// Wait blocks until a request for key may be sent or ctx is done. It fails at
	// once with an error matching [ErrDeadline] when ctx's deadline comes before the
	// wait would end.
	Wait(ctx context.Context, key string) error
	// Observe feeds the outcome of a request back, so the limiter can adapt.
	Observe(key string, r outcome.Result)
}

// ErrDeadline is matched by the error of a wait that would outlast the context's
// deadline: the limiter fails fast instead of sleeping into a certain timeout.
var ErrDeadline = errors.New("ratelimit: wait exceeds the context deadline")

// WaitError is returned by Wait when it cannot wait long enough.
type WaitError struct {
	Key  string
	Wait time.Duration // how long the request would have had to wait
}

// Error implements error.
func (e *WaitError) Error() string {
	return fmt.Sprintf("ratelimit: %s: a %v wait exceeds the context deadline", e.Key, e.Wait.Round(time.Millisecond))
}

// OutcomeKind implements outcome.Kinded: the request was held back, not sent.
func (e *WaitError) OutcomeKind() outcome.Kind { return outcome.RateLimited }

// Is matches [ErrDeadline].
func (e *WaitError) Is(target error) bool { return target == ErrDeadline }

// Config sets an [Adaptive] limiter's budget and how it adapts.
type Config struct {
	// Rate is the steady budget in requests per second per key (the ceiling the
	// limiter recovers to). Zero means 10.
	Rate float64
	// Burst is the bucket size; zero means 1 (strict pacing).
	Burst int
	// MinRate is the floor of multiplicative decrease; zero means Rate/20.
	MinRate float64
	// Decrease multiplies the rate on each rate-limited outcome; zero means 0.5.
	Decrease float64
	// Increase is how fast the rate recovers while requests succeed, in
	// requests/s gained per second (additive increase over time, not per request,
	// so a busy key does not snap back to the rate that got it throttled); zero
	// means Rate/10: from the floor to the ceiling in about ten seconds.
	Increase float64
	// Pause is how long the key stops after a rate-limited outcome without a delay
	// hint; zero means 1 s.
	Pause time.Duration
	// MaxPause caps any one pause, hint or not; zero means 1 minute.
	MaxPause time.Duration
	// IdleTTL drops the state of a key unused for this long, so that a client
	// touching many hosts does not keep a bucket for each forever; zero means 10
	// minutes, negative never drops any. A key that is paused or whose bucket is
	// not full again is kept however long it was unused: dropping it would forget
	// what the vendor said.
	IdleTTL time.Duration
	// Clock is the time source; nil means the wall clock.
	Clock clock.Clock
	// Logger, if set, gets one line per wait and per slow-down.
	Logger *slog.Logger
}

// Adaptive is a [Limiter] with one x/time/rate bucket per key that adapts to the
// vendor's rate-limit answers. The zero value is not usable; call [NewAdaptive].
type Adaptive struct {
	// clk (cfg.Clock) and keys are what every Wait reads: one cache line.
	clk  clock.Clock
	keys *keyed.Map[*bucket]
	cfg  Config
}

type bucket struct {
	lim *rate.Limiter
	// until (paused until, unix ns; 0 none) and slow (rate below the ceiling) are
	// read without mu, so that a request at full rate takes no lock here: Wait
	// reads until, and Observe of a success returns when the rate is not slow.
	// Both are written under mu.
	until    atomic.Int64
	slow     atomic.Bool
	mu       sync.Mutex
	rate     float64
	adjusted time.Time // last change of rate
}

// WithDefaults returns cfg with every zero field set to its documented default.
// Other Limiter implementations (redisstore's) use it so that one Config means the
// same budget everywhere.
func (cfg Config) WithDefaults() Config {
	if cfg.Rate <= 0 {
		cfg.Rate = 10
	}
	if cfg.Burst <= 0 {
		cfg.Burst = 1
	}
	if cfg.MinRate <= 0 {
		cfg.MinRate = cfg.Rate / 20
	}
	if cfg.Decrease <= 0 || cfg.Decrease >= 1 {
		cfg.Decrease = 0.5
	}
	if cfg.Increase <= 0 {
		cfg.Increase = cfg.Rate / 10
	}
	if cfg.Pause <= 0 {
		cfg.Pause = time.Second
	}
	if cfg.MaxPause <= 0 {
		cfg.MaxPause = time.Minute
	}
	cfg.Clock = clock.OrReal(cfg.Clock)
	return cfg
}

// NewAdaptive returns an adaptive limiter.
func NewAdaptive(cfg Config) *Adaptive {
	a := &Adaptive{cfg: cfg.WithDefaults()}
	a.clk = a.cfg.Clock
	a.keys = keyed.New(keyed.Config[*bucket]{
		IdleTTL: a.cfg.IdleTTL,
		Clock:   a.cfg.Clock,
		New: func(string) *bucket {
			return &bucket{lim: rate.NewLimiter(rate.Limit(a.cfg.Rate), a.cfg.Burst), rate: a.cfg.Rate}
		},
		Busy: a.busy,
	})
	return a
}

// busy reports whether b holds state that dropping it would forget: a pause, a
// lowered rate that would not have recovered by now, or a bucket not yet full
// again.
func (a *Adaptive) busy(b *bucket, now time.Time) bool {
	if b.until.Load() > now.UnixNano() {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.rate < a.cfg.Rate && b.rate+a.cfg.Increase*now.Sub(b.adjusted).Seconds() < a.cfg.Rate {
		return true
	}
	return b.lim.TokensAt(now) < float64(a.cfg.Burst)
}

// Rate returns the current rate of key in requests per second.
func (a *Adaptive) Rate(key string) float64 {
	b := a.keys.Get(key)
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.rate
}

// Wait implements [Limiter].
func (a *Adaptive) Wait(ctx context.Context, key string) error {
	_, err := a.wait(ctx, key)
	return err
}

// wait is Wait returning the key's bucket, so that [Transport] observes the
// outcome without looking the key up again.
func (a *Adaptive) wait(ctx context.Context, key string) (*bucket, error) {
	now := a.clk.Now()
	b := a.keys.GetAt(key, now)
	at := now
	if u := b.until.Load(); u > now.UnixNano() {
		at = time.Unix(0, u)
	}
	// Reserving at the end of a pause, not now, queues the waiters behind it at
	// the bucket's pace: they leave one by one when it ends, not all at once.
	r := b.lim.ReserveN(at, 1)
	if !r.OK() {
		return b, fmt.Errorf("ratelimit: %s: burst too small", key)
	}
	wait := r.DelayFrom(now)
	if wait <= 0 {
		return b, nil
	}
	// Context deadlines are wall-clock times whatever Clock says.
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
		r.CancelAt(now)
		return b, &WaitError{Key: key, Wait: wait}
	}
	telemetry.Get().LimiterWaits.Record(ctx, wait.Seconds(), telemetry.Attrs(attribute.String("key", key)))
	if a.cfg.Logger != nil {
		a.cfg.Logger.InfoContext(ctx, "authwire: rate limit wait", slog.String("key", key), slog.Duration("wait", wait))
	}
	if err := a.clk.Sleep(ctx, wait); err != nil {
		r.CancelAt(a.clk.Now())
		return b, err
	}
	return b, nil
}

// Observe implements [Limiter]. A rate-limited outcome multiplies the rate by
// Decrease (down to MinRate) and pauses the key for the delay hint — once per
// episode: answers that arrive while the key is already paused were sent before
// it slowed down, so they only extend the pause. Successes raise the rate by
// Increase per second elapsed, up to Rate.
func (a *Adaptive) Observe(key string, res outcome.Result) {
	switch res.Kind {
	case outcome.RateLimited, outcome.Success:
	default:
		return
	}
	a.observe(a.keys.Get(key), key, res)
}

// observe is Observe on the key's bucket. A success at full rate, the common
// case, costs one atomic load: no lock, no clock read.
func (a *Adaptive) observe(b *bucket, key string, res outcome.Result) {
	switch res.Kind {
	case outcome.Success:
		if !b.slow.Load() {
			return
		}
	case outcome.RateLimited:
	default:
		return
	}
	now := a.clk.Now()
	ns := now.UnixNano()
	b.mu.Lock()
	defer b.mu.Unlock()
	old := b.rate
	paused := b.until.Load() > ns
	if res.Kind == outcome.RateLimited {
		pause := res.After
		if pause <= 0 {
			pause = a.cfg.Pause
		}
		pause = min(pause, a.cfg.MaxPause)
		if !paused {
			b.rate = max(a.cfg.MinRate, b.rate*a.cfg.Decrease)
		}
		if u := now.Add(pause).UnixNano(); u > b.until.Load() {
			b.until.Store(u)
		}
		b.adjusted = now
	} else if b.rate < a.cfg.Rate && !paused {
		if el := now.Sub(b.adjusted); el > 0 {
			b.rate = min(a.cfg.Rate, b.rate+a.cfg.Increase*el.Seconds())
			b.adjusted = now
		}
	}
	b.slow.Store(b.rate < a.cfg.Rate)
	if b.rate != old {
		b.lim.SetLimitAt(now, rate.Limit(b.rate))
		if a.cfg.Logger != nil && res.Kind == outcome.RateLimited {
			a.cfg.Logger.Info("authwire: rate limited, slowing down", slog.String("key", key),
				slog.Float64("rate", b.rate), slog.Duration("pause", time.Duration(b.until.Load()-ns)))
		}
	}
}

// Transport is an http.RoundTripper that waits for the Limiter before each request
// and reports each outcome back to it.
type Transport struct {
	// Limiter paces the requests. Required.
	Limiter Limiter
	// Key names the budget a request draws from; nil means the request's host.
	Key func(*http.Request) string
	// Classifier decides what a response means; nil classifies by status only.
	Classifier outcome.Classifier
	// Base sends the request; nil means http.DefaultTransport.
	Base http.RoundTripper
	// Vendor names the vendor in metrics.
	Vendor string
}

// key returns the budget req draws from.
func (t *Transport) key(req *http.Request) string {
	if t.Key != nil {
		return t.Key(req)
	}
	return req.URL.Host
}

// Wait waits for the Limiter as RoundTrip does before it sends req, without
// sending anything: for a layer below that sends req a second time (a re-send
// after a rejected token), which spends the vendor's budget too.
func (t *Transport) Wait(req *http.Request) error {
	return t.Limiter.Wait(req.Context(), t.key(req))
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	key := t.key(req)
	// The in-process limiter hands back the key's bucket, so the outcome is
	// observed without a second lookup.
	var b *bucket
	var err error
	a, adaptive := t.Limiter.(*Adaptive)
	if adaptive {
		b, err = a.wait(req.Context(), key)
	} else {
		err = t.Limiter.Wait(req.Context(), key)
	}
	if err != nil {
		reqbody.Close(req)
		// The request never left: say so, so that a caller who gave up while it
		// waited gets the context's error, not "may have been processed".
		if _, typed := outcome.KindOf(err); !typed {
			err = outcome.NotSent(err)
		}
		return nil, err
	}
	rt := t.Base
	if rt == nil {
		rt = http.DefaultTransport
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	res := outcome.Read(resp, t.Classifier)
	if res.Kind == outcome.RateLimited {
		_, code := outcome.CodeOf(res.Err)
		if code == "" {
			code = fmt.Sprint(resp.StatusCode)
		}
		telemetry.Get().RateLimited.Add(req.Context(), 1, telemetry.Attrs(attribute.String("vendor", t.Vendor), attribute.String("code", code)))
	}
	if adaptive {
		a.observe(b, key, res)
	} else {
		t.Limiter.Observe(key, res)
	}
	return resp, nil
}
