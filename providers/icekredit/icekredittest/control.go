package icekredittest

import (
	"encoding/json"
	"hash/fnv"
	"maps"
	"strconv"

	"github.com/authwire/authwire/internal/simfault"
)

// Fault is a scripted misbehaviour for the next Count requests (default 1) to Path
// ("" for any path, [LoginPath] for the login), in the simulators' one
// vocabulary: Drop closes the connection without processing the request; Lose
// processes it (a login issues a token, a product call counts) and then closes
// the connection without the answer, the outcome the client cannot know; Status
// alone answers a bare HTTP status; Latency delays the answer by real time (a
// client timeout test). Code answers this response_code instead of processing
// the request, in the path's envelope, with HTTP Status (default 200).
type Fault = simfault.Fault[string]

// Chaos are per-request probabilities of faults, for chaos tests; RateLimitRate
// answers 10000429. A request with a scripted fault draws no chaos.
type Chaos = simfault.Chaos

// RevokeAll invalidates every token: their next use answers 200005.
func (s *Server) RevokeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.tokens)
	s.lru.Init()
}

// ChangeClientIP binds every live token to another address, as if the client's IP
// had changed since it logged in: their next use answers 200006, and a new login
// (from the client's real address) works.
func (s *Server) ChangeClientIP() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for e := s.lru.Front(); e != nil; e = e.Next() {
		e.Value.(*token).ip = "198.51.100.7" // TEST-NET-2: never a real client
	}
}

// SetAccountState locks, expires or reactivates the merchant account.
func (s *Server) SetAccountState(a AccountState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.account = a
}

// LiveTokens returns how many issued tokens are neither revoked nor idle past the
// TTL.
func (s *Server) LiveTokens() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked(s.cfg.Clock.Now())
	return s.lru.Len()
}

// Stats are the simulator's counters.
type Stats struct {
	// LoginAttempts counts every request to the login path, whatever its outcome.
	LoginAttempts int
	// Logins counts tokens issued.
	Logins int
	// ServiceCalls counts every request to any other path.
	ServiceCalls int
	// Requests counts requests per path (paths past the first 1,024 under "").
	Requests map[string]int
	// Processed counts product calls answered "00" per path: the billed lookups.
	Processed map[string]int
	// Codes counts the response_codes sent ("" for bare HTTP errors).
	Codes map[string]int
	// Faults counts requests that drew a scripted or chaos fault; Dropped the
	// connections closed without an answer (drops and losses).
	Faults, Dropped int
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	c := s.faults.Counts()
	if c.HTTPErrors > 0 {
		c.Codes[""] = c.HTTPErrors
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{
		LoginAttempts: c.Requests[LoginPath], Logins: s.logins, ServiceCalls: c.Total - c.Requests[LoginPath],
		Requests: c.Requests, Processed: maps.Clone(s.processed), Codes: c.Codes, Faults: c.Faults, Dropped: c.Dropped,
	}
}

// Logins returns how many tokens were issued.
func (s *Server) Logins() int { return s.Stats().Logins }

// LoginAttempts returns how many login requests arrived.
func (s *Server) LoginAttempts() int { return s.Stats().LoginAttempts }

// ServiceCalls returns how many product requests arrived.
func (s *Server) ServiceCalls() int { return s.Stats().ServiceCalls }

// LoginRecord is one login the simulator processed: the encoding it arrived in
// ("form", "json", or "" for another content type) and the code answered.
type LoginRecord struct {
	Encoding string
	Code     string
}

// LoginLog returns the logins processed so far, in order (faulted ones
// excluded): the last [MaxLoginLog] of them.
func (s *Server) LoginLog() []LoginRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]LoginRecord(nil), s.loginLog[max(len(s.loginLog)-MaxLoginLog, 0):]...)
}

var riskLevels = [...]string{"Very Low", "Low", "Medium", "High", "Very High"}

// NigeriaAutoDecision is the built-in Credit Risk Level product. It requires ID,
// mobile, equipment_sn and sn (non-empty strings) and borrow_count (a
// non-negative integer); the risk level is a stable function of ID, and
// new_customer is 1 when borrow_count is 0.
func NigeriaAutoDecision(req map[string]any) (map[string]any, string, string) {
	for _, k := range []string{"ID", "mobile", "equipment_sn", "sn"} {
		v, ok := req[k]
		if !ok {
			return nil, "20100102", "parameters missing: " + k
		}
		if s, isStr := v.(string); !isStr || s == "" {
			return nil, "20100103", "parameters error: " + k
		}
	}
	v, ok := req["borrow_count"]
	if !ok {
		return nil, "20100102", "parameters missing: borrow_count"
	}
	num, isNum := v.(json.Number)
	n, err := strconv.Atoi(string(num))
	if !isNum || err != nil || n < 0 {
		return nil, "20100103", "parameters error: borrow_count"
	}
	h := fnv.New32a()
	h.Write([]byte(req["ID"].(string)))
	newCustomer := 0
	if n == 0 {
		newCustomer = 1
	}
	return map[string]any{"nigeria_auto_decision": map[string]any{
		"new_customer": newCustomer,
		"risk_level":   riskLevels[h.Sum32()%uint32(len(riskLevels))],
	}}, "", ""
}
