// Package telemetry holds authwire's OpenTelemetry instruments and its slog
// helpers. Instruments come through the OTel API only, so they cost nothing until
// the application installs an SDK.
//
// Which provider receives a measurement is decided per request: a client built
// with its own MeterProvider or TracerProvider puts a [Providers] in the request's
// context ([With]), and every instrument from [Get] and the tracer from [Tracer]
// send there; without one they use the global providers (otel.GetMeterProvider),
// picking up whatever the application installs. So the layers (retry, limiter,
// breaker, token source) need not know which client they serve.
package telemetry

import (
	"context"
	"log/slog"
	"sync"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/embedded"
	"go.opentelemetry.io/otel/trace"
	traceembedded "go.opentelemetry.io/otel/trace/embedded"
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

func newInstruments(mp metric.MeterProvider) *Instruments {
	m := mp.Meter(scope)
	ins := new(Instruments)
	ins.Logins, _ = m.Int64Counter("authwire.logins", metric.WithDescription("Token fetches from the vendor (logins)."))
	ins.Refreshes, _ = m.Int64Counter("authwire.refreshes", metric.WithDescription("Background token refreshes."))
	ins.Reauths, _ = m.Int64Counter("authwire.reauths", metric.WithDescription("Requests re-sent after the vendor rejected a token."))
	ins.Retries, _ = m.Int64Counter("authwire.retries", metric.WithDescription("Requests re-sent by the retry policy."))
	ins.RateLimited, _ = m.Int64Counter("authwire.rate_limited", metric.WithDescription("Rate-limited answers from the vendor."))
	ins.LimiterWaits, _ = m.Float64Histogram("authwire.ratelimit.wait", metric.WithUnit("s"), metric.WithDescription("Time spent waiting for the client-side rate budget."))
	ins.BreakerState, _ = m.Int64Counter("authwire.breaker.state_changes", metric.WithDescription("Circuit breaker state changes."))
	ins.TokenWait, _ = m.Float64Histogram("authwire.token.wait", metric.WithUnit("s"), metric.WithDescription("Time callers waited for a token on a cache miss."))
	ins.Undecryptable, _ = m.Int64Counter("authwire.store.undecryptable", metric.WithDescription("Shared tokens that no seal key of this replica could open."))
	return ins
}

// Providers are one client's explicit OpenTelemetry providers, carried in its
// requests' contexts.
type Providers struct {
	ins    *Instruments // nil: the global meter provider
	tracer trace.Tracer // nil: the global tracer provider
}

// NewProviders returns the instruments and tracer of mp and tp; a nil provider
// means the global one. It returns nil when both are nil.
func NewProviders(mp metric.MeterProvider, tp trace.TracerProvider) *Providers {
	if mp == nil && tp == nil {
		return nil
	}
	p := new(Providers)
	if mp != nil {
		p.ins = newInstruments(mp)
	}
	if tp != nil {
		p.tracer = tp.Tracer(scope)
	}
	return p
}

type ctxKey struct{}

// With returns ctx carrying p; a nil p returns ctx.
func With(ctx context.Context, p *Providers) context.Context {
	if p == nil {
		return ctx
	}
	return context.WithValue(ctx, ctxKey{}, p)
}

var (
	globalOnce sync.Once
	global     *Instruments
	dispatch   *Instruments
)

// instruments returns the instruments ctx selects: its client's, or the global ones.
func instruments(ctx context.Context) *Instruments {
	if ctx != nil {
		if p, _ := ctx.Value(ctxKey{}).(*Providers); p != nil && p.ins != nil {
			return p.ins
		}
	}
	return global
}

// Get returns the instruments. Each measurement goes to the meter provider of the
// context it is recorded with ([With]), or to the global one.
func Get() *Instruments {
	globalOnce.Do(func() {
		global = newInstruments(otel.GetMeterProvider())
		pick := func(f func(*Instruments) metric.Int64Counter) metric.Int64Counter { return counter{pick: f} }
		pickH := func(f func(*Instruments) metric.Float64Histogram) metric.Float64Histogram { return histogram{pick: f} }
		dispatch = &Instruments{
			Logins:        pick(func(i *Instruments) metric.Int64Counter { return i.Logins }),
			Refreshes:     pick(func(i *Instruments) metric.Int64Counter { return i.Refreshes }),
			Reauths:       pick(func(i *Instruments) metric.Int64Counter { return i.Reauths }),
			Retries:       pick(func(i *Instruments) metric.Int64Counter { return i.Retries }),
			RateLimited:   pick(func(i *Instruments) metric.Int64Counter { return i.RateLimited }),
			LimiterWaits:  pickH(func(i *Instruments) metric.Float64Histogram { return i.LimiterWaits }),
			BreakerState:  pick(func(i *Instruments) metric.Int64Counter { return i.BreakerState }),
			TokenWait:     pickH(func(i *Instruments) metric.Float64Histogram { return i.TokenWait }),
			Undecryptable: pick(func(i *Instruments) metric.Int64Counter { return i.Undecryptable }),
		}
	})
	return dispatch
}

// counter and histogram send each measurement to the instrument its context
// selects.
type counter struct {
	embedded.Int64Counter
	pick func(*Instruments) metric.Int64Counter
}

func (c counter) Add(ctx context.Context, n int64, opts ...metric.AddOption) {
	c.pick(instruments(ctx)).Add(ctx, n, opts...)
}

func (c counter) Enabled(ctx context.Context) bool { return c.pick(instruments(ctx)).Enabled(ctx) }

type histogram struct {
	embedded.Float64Histogram
	pick func(*Instruments) metric.Float64Histogram
}

func (h histogram) Record(ctx context.Context, v float64, opts ...metric.RecordOption) {
	h.pick(instruments(ctx)).Record(ctx, v, opts...)
}

func (h histogram) Enabled(ctx context.Context) bool { return h.pick(instruments(ctx)).Enabled(ctx) }

// Tracer returns the library's tracer: spans start on the tracer provider of the
// context ([With]), or on the global one.
func Tracer() trace.Tracer { return tracer{} }

type tracer struct{ traceembedded.Tracer }

func (tracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	if p, _ := ctx.Value(ctxKey{}).(*Providers); p != nil && p.tracer != nil {
		return p.tracer.Start(ctx, name, opts...)
	}
	return otel.Tracer(scope).Start(ctx, name, opts...)
}

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
