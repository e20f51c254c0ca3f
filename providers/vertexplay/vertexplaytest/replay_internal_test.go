package vertexplaytest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/authwire/authwire/clock"
	"github.com/authwire/authwire/providers/vertexplay"
)

// replayRig sends signed requests straight to the handler on a fake clock.
type replayRig struct {
	t      *testing.T
	sim    *Server
	clk    *clock.Fake
	signer *vertexplay.Signer
}

func newReplayRig(t *testing.T, cfg Config) *replayRig {
	clk := clock.NewFake(time.Date(2026, 1, 30, 12, 0, 0, 0, time.UTC))
	cfg.Clock = clk
	sim := New(cfg)
	s, err := vertexplay.NewSigner(vertexplay.SignerConfig{Credentials: sim.Credentials(), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	return &replayRig{t: t, sim: sim, clk: clk, signer: s}
}

func (r *replayRig) seal() *vertexplay.Sealed {
	s, err := r.signer.Seal([]byte(`{}`), vertexplay.Fixed{})
	if err != nil {
		r.t.Fatal(err)
	}
	return s
}

// send posts a sealed /v2/games without a token: verification (and the nonce
// check) runs, then the token check answers 12.
func (r *replayRig) send(s *vertexplay.Sealed) (code int, msg string) {
	req := httptest.NewRequest(http.MethodPost, vertexplay.PathGames, bytes.NewReader(s.Body))
	req.Header = s.Header()
	rec := httptest.NewRecorder()
	r.sim.ServeHTTP(rec, req)
	var env struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	json.Unmarshal(rec.Body.Bytes(), &env)
	return env.Code, env.Message
}

func (r *replayRig) remembered() (live, slots int) {
	r.sim.mu.Lock()
	defer r.sim.mu.Unlock()
	return r.sim.nonces.len(), len(r.sim.nonces.q)
}

// TestReplayWindowIsBounded: the nonces remembered stay within the cap however
// many requests come, and drop to what the window holds once time moves on.
func TestReplayWindowIsBounded(t *testing.T) {
	const memory = 64
	r := newReplayRig(t, Config{ReplayMemory: memory})
	for i := range 5000 {
		if i%50 == 0 {
			// Fewer requests per millisecond than the memory holds, so
			// that what it forgets is older than what comes.
			r.clk.Advance(time.Millisecond)
		}
		if code, msg := r.send(r.seal()); code != vertexplay.CodeAuthorization {
			t.Fatalf("request %d: code %d (%s), want 12 (verified, no token)", i, code, msg)
		}
		if live, slots := r.remembered(); live > memory || slots > 2*memory+1024 {
			t.Fatalf("request %d: %d nonces in %d slots", i, live, slots)
		}
	}
	r.clk.Advance(DefaultTimestampWindow + time.Second)
	r.send(r.seal())
	if live, _ := r.remembered(); live != 1 {
		t.Errorf("%d nonces remembered after the window passed, want 1", live)
	}
}

// TestReplayNeverPasses: a replay is refused while its nonce is remembered, and
// after it was forgotten early (the cap), by its timestamp.
func TestReplayNeverPasses(t *testing.T) {
	r := newReplayRig(t, Config{ReplayMemory: 4})
	first := r.seal()
	if code, _ := r.send(first); code != vertexplay.CodeAuthorization {
		t.Fatalf("first send: code %d", code)
	}
	if code, msg := r.send(first); code != vertexplay.CodeSignatureFailed {
		t.Fatalf("replay while remembered: code %d (%s)", code, msg)
	}
	stale := r.seal() // signed now, sent after the cap forgot requests as old
	r.clk.Advance(time.Second)
	for range 4 {
		r.send(r.seal()) // the fourth forgets first
	}
	if code, msg := r.send(first); code != vertexplay.CodeSignatureFailed {
		t.Errorf("replay after the cap forgot it: code %d (%s)", code, msg)
	}
	if code, msg := r.send(stale); code != vertexplay.CodeSignatureFailed {
		t.Errorf("request older than the replay memory: code %d (%s)", code, msg)
	}
	r.clk.Advance(time.Millisecond)
	if code, _ := r.send(r.seal()); code != vertexplay.CodeAuthorization {
		t.Errorf("a fresh request after the cap: code %d, want 12", code)
	}
}

// TestTokensAndTransactionsAreBounded: logins past MaxTokens revoke the oldest,
// expired tokens are forgotten, and transfers past MaxTransactions forget the
// oldest transId.
func TestTokensAndTransactionsAreBounded(t *testing.T) {
	r := newReplayRig(t, Config{MaxTokens: 3, MaxTransactions: 5})
	login := func() {
		s, _ := r.signer.Seal([]byte(`{"agentId":"integratorNBTest01","secret":"examplesecret=="}`), vertexplay.Fixed{})
		req := httptest.NewRequest(http.MethodPost, vertexplay.AuthPath, bytes.NewReader(s.Body))
		req.Header = s.Header()
		r.sim.ServeHTTP(httptest.NewRecorder(), req)
	}
	liveTokens := func() int {
		r.sim.mu.Lock()
		defer r.sim.mu.Unlock()
		return r.sim.tokens.len()
	}
	for range 10 {
		login()
	}
	if n := liveTokens(); n != 3 || r.sim.Stats().Logins != 10 {
		t.Errorf("live tokens %d after 10 logins, want 3", n)
	}
	r.clk.Advance(time.Hour + time.Second) // every token expired
	login()
	if n := liveTokens(); n != 1 {
		t.Errorf("live tokens %d after expiry and one login, want 1", n)
	}
	r.sim.AddPlayer("p", "1000")
	for i := range 20 {
		r.sim.transfer([]byte(`{"username":"p","amount":"1","transId":"t` + string(rune('a'+i)) + `"}`))
	}
	r.sim.mu.Lock()
	txns, reqs := len(r.sim.txns), len(r.sim.txnReqs)
	r.sim.mu.Unlock()
	if txns != 5 || reqs != 5 {
		t.Errorf("%d transactions, %d request counts kept; want 5", txns, reqs)
	}
	if _, ok := r.sim.Transaction("ta"); ok {
		t.Error("the oldest transaction is still kept")
	}
	if _, ok := r.sim.Transaction("tt"); !ok {
		t.Error("the newest transaction is gone")
	}
}
