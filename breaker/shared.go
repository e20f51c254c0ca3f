package breaker

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"
)

// SharedStore keeps the state of breakers where every process of a fleet sees
// it, so that a breaker opened by one process is open in all of them; package
// redisstore provides one. A breaker with a store asks it before every request
// ([SharedStore.Allow]) and tells it the outcome ([SharedStore.Done]); nothing
// is held while the request runs, so requests through one shared breaker run
// as concurrently as through a local one.
//
// The store runs gobreaker's state machine on the shared state: closed until
// Policy.ConsecutiveFailures failures in a row, then open for Policy.Timeout,
// then half-open, where at most Policy.MaxRequests probes are admitted across
// the fleet; that many successes close it, one failure opens it again. Each
// state change starts a new generation, and an outcome reported for an older
// generation is ignored, as gobreaker does.
//
// When a store call fails (its backend is unreachable) the breaker decides with
// a local gobreaker.CircuitBreaker instead, so a request never fails because
// the store did.
type SharedStore interface {
	// Allow decides whether one request may go through breaker name and, if it
	// may, admits it (in half-open, it takes one of the fleet's probe slots).
	Allow(ctx context.Context, name string, p Policy) (Ticket, error)
	// Done reports the outcome of a request Allow admitted, and returns the
	// breaker's state after it.
	Done(ctx context.Context, name string, t Ticket, r Result, p Policy) (gobreaker.State, error)
	// State returns the breaker's current shared state without admitting a
	// request.
	State(ctx context.Context, name string, p Policy) (gobreaker.State, error)
}

// Policy is what a [SharedStore] needs of a breaker's [Config].
type Policy struct {
	ConsecutiveFailures uint32
	MaxRequests         uint32
	Timeout             time.Duration
	Interval            time.Duration
}

// Ticket is a [SharedStore]'s answer to Allow.
type Ticket struct {
	Allowed    bool            // the request may be sent
	State      gobreaker.State // the state it was decided in
	Generation uint64          // the state's generation, for Done
	Failures   uint32          // consecutive failures counted so far (closed state)
}

// Result is the outcome of an admitted request, as a breaker counts it.
type Result int

// The outcomes a breaker reports.
const (
	Success  Result = iota // the vendor is healthy
	Failure                // the vendor is unhealthy (counted)
	Excluded               // says nothing about the vendor (not counted)
)

// shared is one breaker of a Set on a SharedStore, with the local breaker that
// stands in while the store cannot be reached.
type shared struct {
	set   *Set
	name  string
	pol   Policy
	store SharedStore
	local *gobreaker.CircuitBreaker[*http.Response]
	seen  atomic.Int32 // the last shared state this process saw
}

func newShared(s *Set, name string, st gobreaker.Settings) *shared {
	return &shared{
		set: s, name: name, store: s.cfg.Store,
		pol: Policy{ConsecutiveFailures: s.cfg.ConsecutiveFailures, MaxRequests: s.cfg.MaxRequests,
			Timeout: s.cfg.Timeout, Interval: s.cfg.Interval},
		local: gobreaker.NewCircuitBreaker[*http.Response](st),
	}
}

// observe reports a change of the shared state seen by this process (made by
// it or by another process) to the Set's callbacks, once.
func (b *shared) observe(st gobreaker.State) {
	for {
		old := b.seen.Load()
		if gobreaker.State(old) == st {
			return
		}
		if b.seen.CompareAndSwap(old, int32(st)) {
			b.set.stateChanged(b.name, gobreaker.State(old), st)
			return
		}
	}
}

func (b *shared) state(ctx context.Context) gobreaker.State {
	st, err := b.store.State(ctx, b.name, b.pol)
	if err != nil {
		return b.local.State()
	}
	b.observe(st)
	return st
}

// execute runs req if the shared breaker admits it, and reports the outcome.
func (b *shared) execute(ctx context.Context, req func() (*http.Response, error)) (*http.Response, error) {
	t, err := b.store.Allow(ctx, b.name, b.pol)
	if err != nil {
		return b.local.Execute(req)
	}
	b.observe(t.State)
	if !t.Allowed {
		if t.State == gobreaker.StateHalfOpen {
			return nil, gobreaker.ErrTooManyRequests
		}
		return nil, gobreaker.ErrOpenState
	}
	defer func() {
		// A panic is a failure, as in gobreaker's Execute; a half-open ticket
		// is given back rather than left to expire.
		if p := recover(); p != nil {
			b.store.Done(context.WithoutCancel(ctx), b.name, t, Failure, b.pol)
			panic(p)
		}
	}()
	resp, err := req()
	r := Success
	switch err.(type) {
	case *counted:
		r = Failure
	case *excluded:
		r = Excluded
	}
	if r == Success && t.State == gobreaker.StateClosed && t.Failures == 0 {
		return resp, err // nothing to change: no write
	}
	if r == Excluded && t.State == gobreaker.StateClosed {
		return resp, err
	}
	// The caller may be gone; the outcome is still worth recording.
	if st, derr := b.store.Done(context.WithoutCancel(ctx), b.name, t, r, b.pol); derr == nil {
		b.observe(st)
	}
	return resp, err
}

// Execute implements executor, for callers without a context.
func (b *shared) Execute(req func() (*http.Response, error)) (*http.Response, error) {
	return b.execute(context.Background(), req)
}
