package tokensource

import (
	"log/slog"
	"time"

	"github.com/authwire/authwire/clock"
)

type config struct {
	clock         clock.Clock
	window        time.Duration
	jitter        time.Duration
	skew          time.Duration
	sliding       time.Duration
	touchEvery    time.Duration
	fetchTimeout  time.Duration
	backoffMin    time.Duration
	backoffMax    time.Duration
	holdPermanent time.Duration
	store         Store
	key           string
	observe       func(Event)
	logger        *slog.Logger
	name          string
}

func defaults() config {
	return config{
		clock:         clock.Real,
		window:        time.Minute,
		jitter:        10 * time.Second,
		skew:          10 * time.Second,
		touchEvery:    time.Second,
		fetchTimeout:  30 * time.Second,
		backoffMin:    time.Second,
		backoffMax:    time.Minute,
		holdPermanent: time.Minute,
	}
}

// Option configures a [Source].
type Option func(*config)

// WithClock sets the time source; tests pass a *clock.Fake.
func WithClock(c clock.Clock) Option { return func(o *config) { o.clock = clock.OrReal(c) } }

// WithEarlyRefresh sets the window before expiry in which a background refresh
// starts (default 1 minute) and the maximum random jitter taken off it (default
// 10 s). A zero window turns early refresh off: tokens are refetched on expiry.
func WithEarlyRefresh(window, jitter time.Duration) Option {
	return func(o *config) { o.window, o.jitter = window, jitter }
}

// WithExpirySkew treats tokens as expired this long before their stated expiry
// (default 10 s, like oauth2), covering transit time and clock drift.
func WithExpirySkew(d time.Duration) Option { return func(o *config) { o.skew = d } }

// WithSlidingExpiry declares tokens valid for ttl after their last successful use
// (a session token that lives 20 minutes from its last use). Call [Source.Touch] after each success; the
// roundtripper package does that for you.
func WithSlidingExpiry(ttl time.Duration) Option { return func(o *config) { o.sliding = ttl } }

// WithTouchGranularity sets how far a Touch must move the expiry before it is
// republished (default 1 s).
func WithTouchGranularity(d time.Duration) Option { return func(o *config) { o.touchEvery = d } }

// WithFetchTimeout bounds one upstream fetch (default 30 s), whatever the waiters'
// contexts say.
func WithFetchTimeout(d time.Duration) Option { return func(o *config) { o.fetchTimeout = d } }

// WithRefreshBackoff sets the exponential backoff between failed background
// refreshes (default 1 s doubling to 1 min).
func WithRefreshBackoff(lo, hi time.Duration) Option {
	return func(o *config) { o.backoffMin, o.backoffMax = lo, hi }
}

// WithPermanentErrorHold sets how long a permanent fetch error (a wrong password)
// is returned to callers without asking upstream again (default 1 min).
func WithPermanentErrorHold(d time.Duration) Option { return func(o *config) { o.holdPermanent = d } }

// WithStore shares tokens through s under key (for example, one key per vendor
// account). Without it the Source's own atomic cache is the only store.
func WithStore(s Store, key string) Option {
	return func(o *config) { o.store, o.key = s, key }
}

// WithObserver calls fn after every fetch, successful or not, once the Source's
// state reflects it. fn runs on the fetching goroutine: keep it fast.
func WithObserver(fn func(Event)) Option { return func(o *config) { o.observe = fn } }

// WithLogger writes one line per login and refresh to l (vendor, duration, and on
// failure the vendor code; never a token or credential). Silent by default.
func WithLogger(l *slog.Logger) Option { return func(o *config) { o.logger = l } }

// WithName names the Source in logs and metrics (the vendor: "acme").
func WithName(name string) Option { return func(o *config) { o.name = name } }
