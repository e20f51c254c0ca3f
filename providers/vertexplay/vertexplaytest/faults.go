package vertexplaytest

import "time"

// Fault is what the simulator does to one request instead of (or on top of)
// answering it normally.
type Fault struct {
	// Path limits the fault to requests to this path (e.g.
	// vertexplay.PathTransfer); empty matches every path, /v2/auth included.
	Path string
	// Latency delays the request on the simulator's clock before anything else.
	Latency time.Duration
	// Drop closes the connection without reading or processing the request.
	// Drop and Lose need a real connection (httptest.NewServer): on a
	// ResponseRecorder the handler aborts with panic(http.ErrAbortHandler), the
	// way net/http handlers abort a response.
	Drop bool
	// Status answers this HTTP status with a non-JSON body, unprocessed
	// (e.g. 502 from a gateway).
	Status int
	// Code answers this vendor code in an HTTP 200, unprocessed (e.g. 77, 7).
	Code int
	// Lose processes the request normally and then closes the connection
	// without the answer: a transfer happens but the caller never hears.
	Lose bool
	// Pending makes a transfer be recorded as pending and answered with code
	// 35; CheckTransaction answers 35 too until [Server.SettlePending].
	Pending bool
}

type scripted struct {
	left  int
	fault Fault
}

// Inject scripts f for the next n requests that match f.Path. Scripts apply in
// the order they were injected; a request takes at most one scripted fault.
func (s *Server) Inject(n int, f Fault) {
	if n <= 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = append(s.script, &scripted{left: n, fault: f})
}

// Rates are independent probabilities (0 to 1) of random faults per request,
// for chaos tests. A scripted fault takes precedence.
type Rates struct {
	// Status5xx answers HTTP 502, 503 or 504, unprocessed.
	Status5xx float64
	// RateLimited answers code 77, unprocessed.
	RateLimited float64
	// Drop closes the connection without processing.
	Drop float64
	// Lose processes the request and closes the connection without answering.
	Lose float64
	// Latency adds LatencySpike before the request.
	Latency      float64
	LatencySpike time.Duration
}

// SetRates replaces the random fault rates; Rates{} turns them off.
func (s *Server) SetRates(r Rates) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rates = r
}

// nextFaultLocked picks this request's fault: the first matching script, or a
// draw from the rates.
func (s *Server) nextFaultLocked(path string) Fault {
	for i, sc := range s.script {
		if sc.fault.Path != "" && sc.fault.Path != path {
			continue
		}
		sc.left--
		if sc.left == 0 {
			s.script = append(s.script[:i], s.script[i+1:]...)
		}
		return sc.fault
	}
	var f Fault
	r := s.rates
	if r.Latency > 0 && s.rng.Float64() < r.Latency {
		f.Latency = r.LatencySpike
	}
	switch {
	case r.Drop > 0 && s.rng.Float64() < r.Drop:
		f.Drop = true
	case r.Status5xx > 0 && s.rng.Float64() < r.Status5xx:
		f.Status = 502 + s.rng.IntN(3)
	case r.RateLimited > 0 && s.rng.Float64() < r.RateLimited:
		f.Code = 77
	case r.Lose > 0 && s.rng.Float64() < r.Lose:
		f.Lose = true
	}
	return f
}
