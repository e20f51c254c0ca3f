package nxcloudtest

import (
	"maps"

	"github.com/authwire/authwire/internal/simfault"
)

// Fault is a scripted misbehaviour for the next Count requests (default 1) to Path
// ("" for any path), in the simulators' one vocabulary: Drop closes the
// connection without processing the request; Lose processes it (a getCode sends
// its code, a login issues a token) and then closes the connection without the
// answer, the outcome the client cannot know; Status alone answers a bare HTTP
// status; Latency delays the answer by real time (a client timeout test). Code
// answers this NXCloud code (2206, 9001, ...) in the path's envelope, with HTTP
// Status (default 200), only to requests that pass authentication, so that a
// storm of them proves every retry was freshly and correctly signed.
type Fault = simfault.Fault[int]

// Chaos are per-request probabilities of faults, for chaos tests; RateLimitRate
// answers 2206. A request with a scripted fault draws no chaos.
type Chaos = simfault.Chaos

// Stats are the simulator's counters.
type Stats struct {
	// Requests counts every request per path, whatever its outcome (paths past
	// the first 1,024 under "").
	Requests map[string]int
	// Logins counts embedded-page login tokens issued.
	Logins int
	// CodesSent counts verification codes sent (SMS or call) per phone number:
	// getCode requests processed. Numbers past the first 1,024 are counted
	// together under "", so that a load test with random numbers runs in
	// bounded memory.
	CodesSent map[string]int
	// Inits counts OTA verifications started.
	Inits int
	// Codes counts the envelope codes answered; HTTPErrors the plain HTTP errors.
	Codes      map[int]int
	HTTPErrors int
	// Faults counts requests that drew a scripted or chaos fault; Dropped the
	// connections closed without an answer (drops and losses).
	Faults, Dropped int
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	c := s.faults.Counts()
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.CodesSent = maps.Clone(st.CodesSent)
	st.Requests, st.Codes, st.HTTPErrors, st.Faults, st.Dropped = c.Requests, c.Codes, c.HTTPErrors, c.Faults, c.Dropped
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

func (s *Server) count(fn func(*Stats)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn(&s.stats)
}
