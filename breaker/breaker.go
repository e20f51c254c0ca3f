// Package breaker stops calling a vendor that is known to be unhealthy, with
// github.com/sony/gobreaker/v2. It counts only what says the vendor is unhealthy:
// transient outcomes (5xx, "system error") and unknown ones (timeouts, dropped
// connections). A rate-limited answer means the vendor is healthy and busy; a
// cancelled caller or a validation error says nothing about the vendor; neither
// is counted (gobreaker's IsExcluded and IsSuccessful).
//
// gobreaker makes every state change. While a breaker is closed and has counted
// no failure, a request goes past it without taking its lock or reading the
// clock (a success would change nothing in it); the first failure is recorded
// through it, and from then on every request goes through it until a success
// leaves it closed and clean again.
package breaker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"
	"go.opentelemetry.io/otel/attribute"

	"github.com/authwire/authwire/clock"
	"github.com/authwire/authwire/internal/keyed"
	"github.com/authwire/authwire/internal/reqbody"
	"github.com/authwire/authwire/internal/telemetry"
	"github.com/authwire/authwire/outcome"
)

// ErrOpen is matched by the error of a request refused because the breaker is open
// (or half-open and already probing).
var ErrOpen = errors.New("breaker: circuit open")

// OpenError is returned when a breaker refuses a request; the request was not sent.
type OpenError struct {
	Name  string // the breaker's key
	State gobreaker.State
}

// Error implements error.
func (e *OpenError) Error() string {
	return fmt.Sprintf("breaker: %s is %s: request not sent", e.Name, e.State)
}

// Is matches [ErrOpen].
func (e *OpenError) Is(target error) bool { return target == ErrOpen }

// OutcomeKind implements outcome.Kinded: an open breaker is transient, and the
// request was never sent.
func (e *OpenError) OutcomeKind() outcome.Kind { return outcome.Transient }

// Config configures the breakers of a [Set].
type Config struct {
	// ConsecutiveFailures opens a breaker; zero means 5.
	ConsecutiveFailures uint32
	// Timeout is how long a breaker stays open before half-opening; zero means 30 s.
	Timeout time.Duration
	// MaxRequests is how many probes a half-open breaker lets through; zero means 1.
	MaxRequests uint32
	// Interval clears the counts of a closed breaker periodically; zero never does.
	Interval time.Duration
	// OnStateChange, if set, is called on every state change (for logs, metrics).
	OnStateChange func(name string, from, to gobreaker.State)
	// Logger, if set, gets one line per state change.
	Logger *slog.Logger
	// Store, if set, shares breaker state between processes (see [SharedStore]);
	// package redisstore provides one. Without it each breaker is a local
	// gobreaker.CircuitBreaker.
	Store SharedStore
	// IdleTTL drops the breaker of a key unused for this long (a client that
	// touches many hosts must not keep one for each forever); zero means 10
	// minutes, negative never drops any. Clock times it; nil means the wall clock.
	// The drop happens when a request for another key finds it due, and the key
	// called last is not timed on every request (its use is dated by the next
	// sweep), so a breaker may outlive its TTL by up to about as long again.
	IdleTTL time.Duration
	Clock   clock.Clock
}

// executor is what gobreaker's local and distributed breakers have in common.
type executor interface {
	Execute(func() (*http.Response, error)) (*http.Response, error)
}

// Set holds one breaker per key, created on first use.
type Set struct {
	cfg Config
	m   *keyed.Map[executor]
}

// NewSet returns a set of breakers configured by cfg.
func NewSet(cfg Config) *Set {
	if cfg.ConsecutiveFailures == 0 {
		cfg.ConsecutiveFailures = 5
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.MaxRequests == 0 {
		cfg.MaxRequests = 1
	}
	s := &Set{cfg: cfg}
	s.m = keyed.New(keyed.Config[executor]{IdleTTL: cfg.IdleTTL, Clock: cfg.Clock, New: s.newBreaker})
	return s
}

func (s *Set) get(key string) executor { return s.m.Get(key) }

func (s *Set) newBreaker(key string) executor {
	n := s.cfg.ConsecutiveFailures
	st := gobreaker.Settings{
		Name:          key,
		MaxRequests:   s.cfg.MaxRequests,
		Interval:      s.cfg.Interval,
		Timeout:       s.cfg.Timeout,
		ReadyToTrip:   func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= n },
		OnStateChange: s.stateChanged,
		// Our markers come back from Execute unwrapped: a type assertion is enough
		// and, unlike errors.As, costs no allocation per request. gobreaker asks
		// IsExcluded first; after that, a request's error is nil (success) or a
		// *counted marker, and any other error is a panic gobreaker caught: a
		// failure.
		IsSuccessful: func(err error) bool { return err == nil },
		IsExcluded:   func(err error) bool { _, x := err.(*excluded); return x },
	}
	if s.cfg.Store != nil {
		return newShared(s, key, st)
	}
	l := &local{cb: gobreaker.NewCircuitBreaker[*http.Response](st)}
	l.healthy.Store(true)
	return l
}

// local is one in-process breaker: a gobreaker.CircuitBreaker, which decides
// every state change, and a flag that lets a request skip it while it has
// nothing to count.
//
// While the breaker is closed with no failure counted, a success changes nothing
// in gobreaker (it would only count the request), so the request goes without
// it: no lock, no clock read. The first failure (or panic) is recorded through
// gobreaker as an Execute of its own, and clears the flag; from then on every
// request goes through gobreaker until a success leaves it closed with no failure
// again. A success that went past gobreaker and lands after the flag was
// cleared is recorded too, so that it ends the run of failures as it would have
// inside gobreaker. gobreaker stays the one state machine: it opens, half-opens
// and closes the breaker, and counts every failure. Measured by alternating
// requests with a bare transport (as BenchmarkPaired in package benchmarks
// does), the flag took the full stack's GET from ×1.07 to ×1.05 of bare: most
// of the breaker's cost was gobreaker's two locks and two clock reads.
type local struct {
	cb      *gobreaker.CircuitBreaker[*http.Response]
	healthy atomic.Bool // closed, and no consecutive failure counted
	mu      sync.Mutex  // orders a recorded failure and a re-read of the counts
}

// Execute implements executor. A request that went past gobreaker is reported to
// it afterwards whenever gobreaker would have counted something: a failure, a
// panic (counted, then re-raised, as gobreaker's own Execute does), or a success
// that lands after another request's failure cleared the flag (it resets the run
// of consecutive failures, as it would have inside gobreaker).
func (l *local) Execute(req func() (*http.Response, error)) (resp *http.Response, err error) {
	if !l.healthy.Load() {
		resp, err := l.cb.Execute(req)
		l.recheck()
		return resp, err
	}
	defer func() {
		if p := recover(); p != nil {
			l.report(recordFailure)
			panic(p)
		}
	}()
	resp, err = req()
	if _, failed := err.(*counted); failed {
		l.report(recordFailure)
	} else if !l.healthy.Load() {
		l.reportSuccess()
	}
	return resp, err
}

// report tells gobreaker the outcome of a request that went past it.
func (l *local) report(outcome func() (*http.Response, error)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.healthy.Store(false)
	l.cb.Execute(outcome)
}

// reportSuccess tells gobreaker of a success that went past it, if the breaker
// is still closed: a half-open breaker's probes are the requests it let through
// itself, not one that started before it opened.
func (l *local) reportSuccess() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cb.State() == gobreaker.StateClosed {
		l.cb.Execute(recordSuccess)
	}
	l.setHealthy()
}

// recheck sets the flag from gobreaker's state and counts, after a request
// that went through it.
func (l *local) recheck() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.setHealthy()
}

// setHealthy sets the flag from gobreaker's state and counts. l.mu is held.
func (l *local) setHealthy() {
	l.healthy.Store(l.cb.State() == gobreaker.StateClosed && l.cb.Counts().ConsecutiveFailures == 0)
}

// recordFailure is the request that tells gobreaker about a failure seen
// without it.
func recordFailure() (*http.Response, error) { return nil, &counted{} }

// recordSuccess is the request that tells gobreaker about a success seen
// without it.
func recordSuccess() (*http.Response, error) { return nil, nil }

func (s *Set) stateChanged(name string, from, to gobreaker.State) {
	telemetry.Get().BreakerState.Add(context.Background(), 1, telemetry.Attrs(attribute.String("breaker", name), attribute.String("state", to.String())))
	if s.cfg.Logger != nil {
		s.cfg.Logger.Warn("authwire: circuit breaker state change", slog.String("breaker", name),
			slog.String("from", from.String()), slog.String("to", to.String()))
	}
	if s.cfg.OnStateChange != nil {
		s.cfg.OnStateChange(name, from, to)
	}
}

// State returns the state of the breaker for key (closed if it was never used).
func (s *Set) State(key string) gobreaker.State {
	switch e := s.get(key).(type) {
	case *local:
		return e.cb.State()
	case *shared:
		return e.state(context.Background())
	}
	return gobreaker.StateClosed
}

// counted marks an exchange the breaker counts as a failure; excluded one it
// ignores. Both carry the real response or error through gobreaker's Execute.
type counted struct{ err error }
type excluded struct{ err error }

func (c *counted) Error() string  { return "counted failure" }
func (c *excluded) Error() string { return "excluded" }

// Transport is an http.RoundTripper guarded by one breaker per key.
type Transport struct {
	// Set holds the breakers. Required.
	Set *Set
	// Key names the breaker a request goes through; nil means its host.
	Key func(*http.Request) string
	// Classifier decides what a response means; nil classifies by status only.
	Classifier outcome.Classifier
	// Base sends the request; nil means http.DefaultTransport.
	Base http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	key := req.URL.Host
	if t.Key != nil {
		key = t.Key(req)
	}
	rt := t.Base
	if rt == nil {
		rt = http.DefaultTransport
	}
	sent := false
	// The breakers are called by their concrete types, so that send stays on
	// the stack: a request through a breaker allocates nothing.
	send := func() (*http.Response, error) {
		sent = true
		return t.send(rt, req)
	}
	var resp *http.Response
	var err error
	switch e := t.Set.get(key).(type) {
	case *local:
		resp, err = e.Execute(send)
	case *shared:
		resp, err = e.execute(req.Context(), send)
	}
	switch e := err.(type) {
	case nil:
		return resp, nil
	case *counted:
		if e.err != nil {
			return nil, e.err
		}
		return resp, nil
	case *excluded:
		if e.err != nil {
			return nil, e.err
		}
		return resp, nil
	}
	if !sent && (errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests)) {
		reqbody.Close(req)
		return nil, &OpenError{Name: key, State: t.Set.State(key)}
	}
	if !sent {
		reqbody.Close(req)
	}
	return nil, err
}

// send sends req and wraps the outcome in the marker gobreaker counts.
func (t *Transport) send(rt http.RoundTripper, req *http.Request) (*http.Response, error) {
	resp, err := rt.RoundTrip(req)
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) && req.Context().Err() != nil {
			return nil, &excluded{err}
		}
		switch k, ok := outcome.KindOf(err); {
		case ok && k != outcome.Transient && k != outcome.Unknown:
			return nil, &excluded{err} // an inner layer's typed verdict, not vendor health
		}
		return nil, &counted{err}
	}
	switch outcome.Read(resp, t.Classifier).Kind {
	case outcome.Transient, outcome.Unknown:
		return resp, &counted{}
	case outcome.RateLimited:
		return resp, &excluded{}
	}
	return resp, nil
}
