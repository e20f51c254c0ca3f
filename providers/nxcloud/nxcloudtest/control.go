package nxcloudtest

import (
	"maps"
	"net/http"
	"time"
)

// Fault is a scripted misbehaviour for the next Count requests (default 1) to Path
// ("" for any path).
type Fault struct {
	Path  string
	Count int
	// Code answers this vendor code (2206, 9001, ...) in the path's envelope
	// instead of processing the request, with HTTP Status (default 200). It is
	// answered only to requests that pass authentication.
	Code int
	// Status alone answers this HTTP status with a plain-text body and no
	// envelope, as a gateway would (say 502 or 503); nothing is processed.
	Status int
	// Latency delays the answer by this much real time (a client timeout test).
	Latency time.Duration
	// Drop processes the request (a getCode sends its code, a login issues a
	// token) and then closes the connection without an answer: the outcome the
	// client cannot know.
	Drop bool
}

// Inject queues scripted faults; each request takes the first queued fault that
// matches its path.
func (s *Server) Inject(faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range faults {
		if f.Count <= 0 {
			f.Count = 1
		}
		s.faults = append(s.faults, f)
	}
}

// Chaos are per-request probabilities of faults, for chaos tests. A request with a
// scripted fault draws no chaos.
type Chaos struct {
	// ServerErrorRate answers HTTP 503 without an envelope.
	ServerErrorRate float64
	// RateLimitRate answers 2206.
	RateLimitRate float64
	// DropRate processes the request and drops the connection.
	DropRate float64
	// LatencyRate delays the answer by Latency.
	LatencyRate float64
	Latency     time.Duration
}

// SetChaos sets the chaos rates; the zero Chaos turns chaos off.
func (s *Server) SetChaos(c Chaos) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chaos = c
}

// Stats are the simulator's counters.
type Stats struct {
	// Requests counts every request per path, whatever its outcome.
	Requests map[string]int
	// Logins counts embedded-page login tokens issued.
	Logins int
	// CodesSent counts verification codes sent (SMS or call) per phone number:
	// getCode requests processed.
	CodesSent map[string]int
	// Inits counts OTA verifications started.
	Inits int
	// Codes counts the envelope codes answered; HTTPErrors the plain HTTP errors.
	Codes      map[int]int
	HTTPErrors int
	// Faults counts requests that drew a scripted or chaos fault; Dropped the
	// connections dropped.
	Faults, Dropped int
}

func (st *Stats) init() {
	st.Requests = make(map[string]int)
	st.CodesSent = make(map[string]int)
	st.Codes = make(map[int]int)
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Requests = maps.Clone(st.Requests)
	st.CodesSent = maps.Clone(st.CodesSent)
	st.Codes = maps.Clone(st.Codes)
	return st
}

// Requests returns how many requests arrived for path.
func (s *Server) Requests(path string) int { return s.Stats().Requests[path] }

// Logins returns how many login tokens were issued.
func (s *Server) Logins() int { return s.Stats().Logins }

// CodesSent returns how many verification codes were sent to phone.
func (s *Server) CodesSent(phone string) int { return s.Stats().CodesSent[phone] }

// Inits returns how many OTA verifications were started.
func (s *Server) Inits() int { return s.Stats().Inits }

// begin counts the request and picks its fault: a scripted one first, else chaos.
func (s *Server) begin(path string) Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.Requests[path]++
	for i := range s.faults {
		f := &s.faults[i]
		if f.Path != "" && f.Path != path {
			continue
		}
		out := *f
		if f.Count--; f.Count <= 0 {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
		}
		s.stats.Faults++
		return out
	}
	c := s.chaos
	var f Fault
	if c.LatencyRate > 0 && s.rng.Float64() < c.LatencyRate {
		f.Latency = c.Latency
	}
	switch {
	case c.ServerErrorRate > 0 && s.rng.Float64() < c.ServerErrorRate:
		f.Status = http.StatusServiceUnavailable
	case c.RateLimitRate > 0 && s.rng.Float64() < c.RateLimitRate:
		f.Code = CodeRateLimited
	case c.DropRate > 0 && s.rng.Float64() < c.DropRate:
		f.Drop = true
	}
	if f != (Fault{}) {
		s.stats.Faults++
	}
	return f
}

func (s *Server) count(fn func(*Stats)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn(&s.stats)
}
