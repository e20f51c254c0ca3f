// Package telemetry holds authwire's OpenTelemetry instruments and its slog
// helpers. Instruments come from the global providers through the OTel API only,
// so they cost nothing until the application installs an SDK, and pick it up
// whenever it does. Logging is silent unless a *slog.Logger is given.
package telemetry

import (
	"context"
	"log/slog"
	"sync"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

const scope = "github.com/authwire/authwire"

// Instruments are the library's metrics.
type Instruments struct {
	Logins       metric.Int64Counter     // fetches from upstream (logins), by vendor and result
	Refreshes    metric.Int64Counter     // background refreshes, by vendor and result
	Reauths      metric.Int64Counter     // re-sends after a rejected token, by vendor
	Retries      metric.Int64Counter     // re-sends by the retry layer, by vendor and outcome
	RateLimited  metric.Int64Counter     // rate-limited answers, by vendor and code
	LimiterWaits metric.Float64Histogram // seconds spent waiting for the rate budget
	BreakerState metric.Int64Counter     // breaker state changes, by breaker and new state
	TokenWait    metric.Float64Histogram // seconds callers waited for a token on a cache miss
	// Undecryptable counts shared tokens that no seal key opened, by reason.
	Undecryptable metric.Int64Counter
}

var (
	once sync.Once
	ins  Instruments
)

// Get returns the instruments, created on first use from the global meter.
func Get() *Instruments {
	once.Do(func() {
		m := otel.Meter(scope)
		ins.Logins, _ = m.Int64Counter("authwire.logins", metric.WithDescription("Token fetches from the vendor (logins)."))
		ins.Refreshes, _ = m.Int64Counter("authwire.refreshes", metric.WithDescription("Background token refreshes."))
		ins.Reauths, _ = m.Int64Counter("authwire.reauths", metric.WithDescription("Requests re-sent after the vendor rejected a token."))
		ins.Retries, _ = m.Int64Counter("authwire.retries", metric.WithDescription("Requests re-sent by the retry policy."))
		ins.RateLimited, _ = m.Int64Counter("authwire.rate_limited", metric.WithDescription("Rate-limited answers from the vendor."))
		ins.LimiterWaits, _ = m.Float64Histogram("authwire.ratelimit.wait", metric.WithUnit("s"), metric.WithDescription("Time spent waiting for the client-side rate budget."))
		ins.BreakerState, _ = m.Int64Counter("authwire.breaker.state_changes", metric.WithDescription("Circuit breaker state changes."))
		ins.TokenWait, _ = m.Float64Histogram("authwire.token.wait", metric.WithUnit("s"), metric.WithDescription("Time callers waited for a token on a cache miss."))
		ins.Undecryptable, _ = m.Int64Counter("authwire.store.undecryptable", metric.WithDescription("Shared tokens that no seal key of this replica could open."))
	})
	return &ins
}

// Tracer returns the library's tracer from the global provider.
func Tracer() trace.Tracer { return otel.Tracer(scope) }

// Attrs is a shorthand for metric attributes.
func Attrs(kv ...attribute.KeyValue) metric.MeasurementOption {
	return metric.WithAttributes(kv...)
}

// Logger returns l, or a logger that discards everything when l is nil.
func Logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return discard
	}
	return l
}

var discard = slog.New(slog.DiscardHandler)

// Enabled reports whether l logs at level; cheap, for hot paths.
func Enabled(ctx context.Context, l *slog.Logger, level slog.Level) bool {
	return l != nil && l.Enabled(ctx, level)
}
