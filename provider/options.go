package provider

import (
	"log/slog"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/authwire/authwire/breaker"
	"github.com/authwire/authwire/clock"
	"github.com/authwire/authwire/ratelimit"
	"github.com/authwire/authwire/retry"
	"github.com/authwire/authwire/tokensource"
)

// The defaults [New] applies, in this one place, for every vendor.
const (
	// DefaultRate and DefaultBurst are the default limiter's budget per key, in
	// requests per second (an adaptive limiter: it slows down on rate-limited
	// answers and recovers on success).
	DefaultRate  = 10
	DefaultBurst = 10
	// DefaultTimeout is the overall deadline of one call, every attempt, wait and
	// login included, unless the Spec or the Options say otherwise.
	DefaultTimeout = 30 * time.Second
	// DefaultAttemptTimeout bounds one attempt, reading the body included, unless
	// the Spec or the Options say otherwise.
	DefaultAttemptTimeout = 10 * time.Second
	// DefaultTokenLifetime is the lifetime of a token whose login reply states
	// none (and that has no sliding expiry), unless the Spec says otherwise.
	DefaultTokenLifetime = time.Hour
	// MaxTokenLifetime caps any stated lifetime: an absurd or overflowing
	// "expires in" must not pin a token for centuries.
	MaxTokenLifetime = 10 * 365 * 24 * time.Hour
)

// Options is what a user may set on any vendor's client: every provider's Config
// embeds it. The zero value is ready: each nil or zero field gets the default
// documented on it.
type Options struct {
	// HTTPClient is an existing client to wrap: its Transport is the base
	// transport (nil: http.DefaultTransport), its Timeout the overall deadline of
	// one call (unless Timeout is set), and its Jar and CheckRedirect are used by
	// the client the provider builds. Set HTTPClient or Transport, not both.
	HTTPClient *http.Client
	// Transport is the base transport when there is no HTTPClient; nil means
	// http.DefaultTransport. Put TLS settings (a custom CA, a client certificate
	// for mTLS) and proxies here.
	Transport http.RoundTripper

	// Limiter paces attempts per key (the Spec's LimitKey, by default the host);
	// nil means an adaptive limiter of [DefaultRate] requests per second, burst
	// [DefaultBurst], on the wall clock (it paces real requests, so a fake Clock
	// never freezes it).
	Limiter ratelimit.Limiter
	// Breakers guard attempts per host (the login has its own key); nil means
	// breaker.NewSet's defaults.
	Breakers *breaker.Set
	// Retry is the retry policy; nil means retry.Policy{} (its documented
	// defaults). Set MaxAttempts to 1 to turn retries off.
	Retry *retry.Policy
	// Clock drives token expiry and the vendor's timestamps; nil means the wall
	// clock.
	Clock clock.Clock
	// Logger, if set, receives one line per login, re-auth, retry, rate-limit
	// wait and breaker state change, and at debug level one per attempt with
	// headers redacted by allow-list. Never a secret, token, signature or body.
	// Silent when nil.
	Logger *slog.Logger
	// TokenStore, if set, shares tokens between clients or processes
	// (tokensource.MemoryStore, redisstore) under a key the provider derives from
	// its credentials and host.
	TokenStore tokensource.Store

	// Timeout is the overall deadline of one call, all attempts, waits and a
	// login included; the same meaning for every vendor. Zero means the
	// HTTPClient's Timeout, else the vendor's default, else [DefaultTimeout];
	// negative means none (the caller's context alone).
	Timeout time.Duration
	// AttemptTimeout bounds each attempt, reading the response body included.
	// Zero means the vendor's default, else [DefaultAttemptTimeout]; negative
	// means none.
	AttemptTimeout time.Duration

	// MeterProvider and TracerProvider receive this client's metrics and spans;
	// nil means the global providers (otel.GetMeterProvider).
	MeterProvider  metric.MeterProvider
	TracerProvider trace.TracerProvider

	// AllowInsecureHTTP lets credentials travel over plain http to a host that is
	// not a loopback address: only for test rigs. Without it every credentialed
	// origin must be https, or http on 127.0.0.0/8, ::1 or localhost.
	AllowInsecureHTTP bool
}
