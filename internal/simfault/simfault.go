// Package simfault is the fault injection and bookkeeping the vendor simulators
// share, so that the three speak one vocabulary and each keeps only what is its
// vendor's own (codes, envelopes, endpoints, signature and login checks).
//
// The vocabulary:
//
//   - Drop: the request is NOT processed; the connection is closed without an
//     answer. A retry would be safe, but the client cannot tell.
//   - Lose: the request IS processed (a code is sent, a token issued, money
//     moved) and then the connection is closed without the answer: the outcome
//     the client cannot know.
//   - Status: a bare HTTP status with a plain-text body, as a gateway would
//     answer; nothing is processed. With a Code it is the envelope's status.
//   - Code: a vendor code in the vendor's envelope instead of processing.
//   - Latency: the answer is delayed, on the simulator's latency clock.
//
// A request takes the first scripted [Fault] whose path matches; without one it
// draws from the [Chaos] rates with a seeded random source.
//
// Memory is bounded: the per-path counters keep at most [MaxKeys] distinct
// paths, the rest counted under "". Each simulator's own per-request state
// (nonces, tokens, transactions) is bounded by a window or a cap it documents.
package simfault

import (
	"errors"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/authwire/authwire/clock"
)

// MaxBody is the largest request body a simulator reads; a larger one is
// refused with the vendor's parameter error.
const MaxBody = 1 << 20

// MaxKeys bounds the distinct keys a per-key counter keeps (paths here; phone
// numbers in a simulator): further keys (a scanner, a fuzzer, a load test with
// random numbers) are counted together under "".
const MaxKeys = 1024

// ErrBodyTooLarge is the body error for a body larger than [MaxBody].
var ErrBodyTooLarge = errors.New("request body larger than 1 MiB")

// Fault is a scripted misbehaviour for the next Count requests (default 1) to
// Path ("" for any path). C is the type of the vendor's codes.
type Fault[C comparable] struct {
	// Path limits the fault to requests to this path; empty matches every path.
	Path string
	// Count is how many matching requests take the fault; zero means 1.
	Count int
	// Latency delays the request by this much before anything else.
	Latency time.Duration
	// Status alone answers this HTTP status with a plain-text body, unprocessed
	// (say 502 or 503 from a gateway); with a Code, it is the envelope's HTTP
	// status (default 200).
	Status int
	// Code answers this vendor code in the vendor's envelope, unprocessed.
	Code C
	// Drop closes the connection without processing the request.
	Drop bool
	// Lose processes the request and then closes the connection without the
	// answer.
	Lose bool
}

// Chaos are independent per-request probabilities (0 to 1) of faults, for chaos
// tests. A request with a scripted fault draws no chaos. Drop is drawn first,
// then server errors, rate limiting and Lose; latency comes on top of any.
type Chaos struct {
	// ServerErrorRate answers HTTP 503 without an envelope, unprocessed.
	ServerErrorRate float64
	// RateLimitRate answers the vendor's rate-limit code, unprocessed.
	RateLimitRate float64
	// DropRate drops the connection without processing the request.
	DropRate float64
	// LoseRate processes the request and drops the connection.
	LoseRate float64
	// LatencyRate delays the answer by Latency.
	LatencyRate float64
	// Latency is the delay of a latency spike.
	Latency time.Duration
}

// Config configures an [Injector].
type Config[C comparable] struct {
	// RateLimited is the vendor code that Chaos.RateLimitRate answers.
	RateLimited C
	// Clock is what Latency waits on; nil means real time.
	Clock clock.Clock
	// Seed seeds the chaos random source; zero picks a random seed.
	Seed uint64
	// Chaos are the initial chaos rates.
	Chaos Chaos
}

// Reply is an answer computed before anything is written, so that a Lose fault
// can still close the connection instead.
type Reply[C comparable] struct {
	Status      int
	Code        C
	ContentType string
	Body        []byte
	plain       bool
}

// Plain is a bare HTTP error: the status text as plain text, no envelope.
func Plain[C comparable](status int) Reply[C] {
	return Reply[C]{Status: status, ContentType: "text/plain; charset=utf-8", Body: []byte(http.StatusText(status) + "\n"), plain: true}
}

// Counts are an [Injector]'s counters.
type Counts[C comparable] struct {
	// Requests counts every request per path, whatever its outcome.
	Requests map[string]int
	// Total counts every request.
	Total int
	// Codes counts the vendor codes answered in an envelope; HTTPErrors the
	// bare HTTP errors. Lost and dropped answers count in neither.
	Codes      map[C]int
	HTTPErrors int
	// Faults counts requests that drew a scripted or chaos fault; Dropped the
	// connections closed without an answer (drops and losses).
	Faults, Dropped int
}

// Injector picks each request's fault, carries it out and counts what happened.
// It is safe for concurrent use.
type Injector[C comparable] struct {
	rateLimited C
	clock       clock.Clock

	mu     sync.Mutex
	script []Fault[C]
	chaos  Chaos
	rng    *rand.Rand
	counts Counts[C]
}

// New returns an Injector configured by cfg.
func New[C comparable](cfg Config[C]) *Injector[C] {
	seed := cfg.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	return &Injector[C]{
		rateLimited: cfg.RateLimited,
		clock:       clock.OrReal(cfg.Clock),
		chaos:       cfg.Chaos,
		rng:         rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		counts:      Counts[C]{Requests: make(map[string]int), Codes: make(map[C]int)},
	}
}

// Controls are the fault knobs a simulator offers its tests. A simulator's
// Server embeds them, so that Inject and SetChaos are its own methods.
type Controls[C comparable] struct{ in *Injector[C] }

// Controls returns the knobs of in.
func (in *Injector[C]) Controls() Controls[C] { return Controls[C]{in} }

// Inject queues scripted faults; each request takes the first queued fault that
// matches its path.
func (c Controls[C]) Inject(faults ...Fault[C]) {
	c.in.mu.Lock()
	defer c.in.mu.Unlock()
	for _, f := range faults {
		f.Count = max(f.Count, 1)
		c.in.script = append(c.in.script, f)
	}
}

// SetChaos sets the chaos rates; the zero Chaos turns chaos off.
func (c Controls[C]) SetChaos(ch Chaos) {
	c.in.mu.Lock()
	defer c.in.mu.Unlock()
	c.in.chaos = ch
}

// Counts returns a snapshot of the counters.
func (in *Injector[C]) Counts() Counts[C] {
	in.mu.Lock()
	defer in.mu.Unlock()
	c := in.counts
	c.Requests = maps.Clone(c.Requests)
	c.Codes = maps.Clone(c.Codes)
	return c
}

// Serve is the fault-aware frame of a simulator's ServeHTTP. It counts the
// request, picks its fault, reads the body (at most [MaxBody]; bodyErr says why
// it could not), waits the fault's latency, then drops the connection (Drop),
// answers a bare HTTP status (Status without Code) or asks answer for the
// reply, which answer computes (processing the request, or answering f.Code
// where the vendor would) without writing. A Lose fault closes the connection
// instead of writing that reply.
//
// The body is read before the latency: net/http notices that a client hung up
// (a timeout) only once the body is consumed, and the wait must end then.
func (in *Injector[C]) Serve(w http.ResponseWriter, r *http.Request, answer func(r *http.Request, f Fault[C], body []byte, bodyErr error) Reply[C]) {
	f := in.begin(r.URL.Path)
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err == nil && len(body) > MaxBody {
		body, err = nil, ErrBodyTooLarge
	}
	if f.Latency > 0 && in.clock.Sleep(r.Context(), f.Latency) != nil {
		return // the client gave up
	}
	var zero C
	if f.Drop {
		in.drop(w)
		return
	}
	var rep Reply[C]
	if f.Status != 0 && f.Code == zero {
		rep = Plain[C](f.Status)
	} else {
		rep = answer(r, f, body, err)
	}
	if f.Lose {
		in.drop(w)
		return
	}
	in.mu.Lock()
	if rep.plain {
		in.counts.HTTPErrors++
	} else {
		in.counts.Codes[rep.Code]++
	}
	in.mu.Unlock()
	w.Header().Set("Content-Type", rep.ContentType)
	w.WriteHeader(rep.Status)
	w.Write(rep.Body)
}

// begin counts the request and picks its fault: a scripted one first, else chaos.
func (in *Injector[C]) begin(path string) Fault[C] {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.counts.Total++
	Tally(in.counts.Requests, path)
	for i := range in.script {
		f := &in.script[i]
		if f.Path != "" && f.Path != path {
			continue
		}
		out := *f
		if f.Count--; f.Count <= 0 {
			in.script = append(in.script[:i], in.script[i+1:]...)
		}
		in.counts.Faults++
		return out
	}
	c := in.chaos
	var f Fault[C]
	if c.LatencyRate > 0 && in.rng.Float64() < c.LatencyRate {
		f.Latency = c.Latency
	}
	switch {
	case c.DropRate > 0 && in.rng.Float64() < c.DropRate:
		f.Drop = true
	case c.ServerErrorRate > 0 && in.rng.Float64() < c.ServerErrorRate:
		f.Status = http.StatusServiceUnavailable
	case c.RateLimitRate > 0 && in.rng.Float64() < c.RateLimitRate:
		f.Code = in.rateLimited
	case c.LoseRate > 0 && in.rng.Float64() < c.LoseRate:
		f.Lose = true
	}
	if f != (Fault[C]{}) {
		in.counts.Faults++
	}
	return f
}

// Tally adds one to m[key], or to m[""] once m holds [MaxKeys] other keys.
func Tally(m map[string]int, key string) {
	if _, seen := m[key]; !seen && len(m) >= MaxKeys {
		key = ""
	}
	m[key]++
}

// drop closes the connection without an answer: the client sees EOF after
// sending.
func (in *Injector[C]) drop(w http.ResponseWriter) {
	in.mu.Lock()
	in.counts.Dropped++
	in.mu.Unlock()
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	// Not hijackable (HTTP/2, a ResponseRecorder): net/http's documented way to
	// abort a response, which it does not log.
	panic(http.ErrAbortHandler)
}
