package vertexplaytest

import "github.com/authwire/authwire/internal/simfault"

// Fault is a scripted misbehaviour for the next Count requests (default 1) to
// Path (e.g. vertexplay.PathTransfer; empty matches every path, /v2/auth
// included), in the simulators' one vocabulary: Latency delays the request on
// the simulator's clock before anything else; Drop closes the connection
// without processing the request; Status alone answers that HTTP status with a
// non-JSON body, unprocessed (e.g. 502 from a gateway); Code answers this
// vendor code (e.g. 77, 7) in an HTTP 200 (or Status), unprocessed; Lose
// processes the request normally and then closes the connection without the
// answer: a transfer happens but the caller never hears.
//
// Drop and Lose need a real connection (httptest.NewServer): on a
// ResponseRecorder the handler aborts with panic(http.ErrAbortHandler), the way
// net/http handlers abort a response.
type Fault = simfault.Fault[int]

// Chaos are independent probabilities (0 to 1) of random faults per request,
// for chaos tests; RateLimitRate answers code 77. A scripted fault takes
// precedence.
type Chaos = simfault.Chaos

// HoldTransfers makes the next n transfers performed be recorded as pending and
// answered with code 35; CheckTransaction answers 35 too until
// [Server.SettlePending].
func (s *Server) HoldTransfers(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hold += n
}
