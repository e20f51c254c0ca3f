package vertexplay_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/authwire/authwire/breaker"
	"github.com/authwire/authwire/clock"
	"github.com/authwire/authwire/outcome"
	"github.com/authwire/authwire/provider"
	"github.com/authwire/authwire/providers/vertexplay"
	"github.com/authwire/authwire/providers/vertexplay/vertexplaytest"
	"github.com/authwire/authwire/ratelimit"
	"github.com/authwire/authwire/retry"
)

var t0 = time.Date(2026, 1, 30, 12, 0, 0, 0, time.UTC)

type env struct {
	sim *vertexplaytest.Server
	srv *httptest.Server
	c   *vertexplay.Client
}

// setup starts a simulator and a client with a fast retry policy and a limiter
// that never waits, so tests measure behaviour, not pacing.
func setup(t *testing.T, simCfg vertexplaytest.Config, mod func(*vertexplay.Config)) *env {
	t.Helper()
	sim := vertexplaytest.New(simCfg)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	cfg := vertexplay.Config{
		BaseURL:     srv.URL,
		Credentials: sim.Credentials(),
		Options: provider.Options{
			Clock:    simCfg.Clock,
			Limiter:  ratelimit.NewAdaptive(ratelimit.Config{Rate: 1e6, Burst: 1e6}),
			Breakers: breaker.NewSet(breaker.Config{ConsecutiveFailures: 1000}),
			Retry:    &retry.Policy{MaxAttempts: 4, WaitMin: time.Millisecond, WaitMax: 5 * time.Millisecond},
		},
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := vertexplay.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &env{sim: sim, srv: srv, c: c}
}

func TestNewValidates(t *testing.T) {
	creds, _ := vertexplay.NewCredentials(vecAgent, vecAPIKey, vecSecret)
	for _, tc := range []struct {
		name string
		cfg  vertexplay.Config
	}{
		{"no base URL", vertexplay.Config{Credentials: creds}},
		{"relative base URL", vertexplay.Config{BaseURL: "api.example.com", Credentials: creds}},
		{"credentials over plain http", vertexplay.Config{BaseURL: "http://api.example.com", Credentials: creds}},
		{"no credentials", vertexplay.Config{BaseURL: "https://api.example.com"}},
		{"bad signature version", vertexplay.Config{BaseURL: "https://api.example.com", Credentials: creds, SignatureVersion: 3}},
		{"derivation fails", vertexplay.Config{BaseURL: "https://api.example.com", Credentials: creds, DeriveKey: func(string) ([]byte, error) { return []byte("short"), nil }}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if c, err := vertexplay.New(tc.cfg); err == nil {
				c.Close()
				t.Fatal("New accepted it")
			}
		})
	}
}

func TestTypedCalls(t *testing.T) {
	e := setup(t, vertexplaytest.Config{}, nil)
	ctx := context.Background()
	p, err := e.c.CreatePlayer(ctx, vertexplay.CreatePlayerRequest{Username: "alice", SiteID: "7"})
	if err != nil || p.Username != "alice" {
		t.Fatalf("CreatePlayer = %+v, %v", p, err)
	}
	tr, err := e.c.Transfer(ctx, vertexplay.TransferRequest{Username: "alice", Amount: "100.50", TransID: "t-1"})
	if err != nil || tr.Balance != "100.50" {
		t.Fatalf("Transfer = %+v, %v", tr, err)
	}
	b, err := e.c.Balance(ctx, "alice")
	if err != nil || b.Balance != "100.50" {
		t.Fatalf("Balance = %+v, %v", b, err)
	}
	ct, err := e.c.CheckTransaction(ctx, "alice", "t-1")
	if err != nil || ct.Amount != "100.50" {
		t.Fatalf("CheckTransaction = %+v, %v", ct, err)
	}
	games, err := e.c.Games(ctx)
	if err != nil || len(games) != 3 || games[0].GameID == "" || len(games[0].Raw) == 0 {
		t.Fatalf("Games = %+v, %v", games, err)
	}
	// Business errors come back typed.
	for _, tc := range []struct {
		name string
		call func() error
		code int
	}{
		{"repeated transId", func() error {
			_, err := e.c.Transfer(ctx, vertexplay.TransferRequest{Username: "alice", Amount: "1", TransID: "t-1"})
			return err
		}, vertexplay.CodeTransactionExists},
		{"balance not enough", func() error {
			_, err := e.c.Transfer(ctx, vertexplay.TransferRequest{Username: "alice", Amount: "-1000", TransID: "t-2"})
			return err
		}, vertexplay.CodeBalanceNotEnough},
		{"player exists", func() error {
			_, err := e.c.CreatePlayer(ctx, vertexplay.CreatePlayerRequest{Username: "alice"})
			return err
		}, vertexplaytest.CodePlayerExists},
		{"unknown transaction", func() error { _, err := e.c.CheckTransaction(ctx, "alice", "nope"); return err }, vertexplaytest.CodeTransactionNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ve *vertexplay.Error
			if err := tc.call(); !errors.As(err, &ve) || ve.Code != strconv.Itoa(tc.code) || ve.TraceID == "" || !outcome.IsPermanent(err) {
				t.Fatalf("err = %v, want permanent code %d with a logUUID", err, tc.code)
			}
		})
	}
	// Arguments are checked before anything is sent.
	if _, err := e.c.Transfer(ctx, vertexplay.TransferRequest{Username: "alice", Amount: "1"}); err == nil {
		t.Fatal("a transfer without transId was accepted")
	}
	if _, err := e.c.Transfer(ctx, vertexplay.TransferRequest{Username: "alice", Amount: "ten", TransID: "x"}); err == nil {
		t.Fatal("a non-numeric amount was accepted")
	}
	if got := e.sim.Stats().Logins; got != 1 {
		t.Fatalf("logins = %d, want 1", got)
	}
}

func TestConcurrentCallsOneAuth(t *testing.T) {
	e := setup(t, vertexplaytest.Config{}, nil)
	e.sim.AddPlayer("bob", "5")
	const n = 100
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := e.c.Balance(context.Background(), "bob"); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	st := e.sim.Stats()
	if st.Requests[vertexplay.AuthPath] != 1 || st.Logins != 1 {
		t.Fatalf("/v2/auth requests = %d, logins = %d, want 1 for %d concurrent calls", st.Requests[vertexplay.AuthPath], st.Logins, n)
	}
	if st.Requests[vertexplay.PathBalance] != n {
		t.Fatalf("balance requests = %d, want %d", st.Requests[vertexplay.PathBalance], n)
	}
}

func TestRevokedTokensOneReauth(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  vertexplaytest.Config
	}{
		{"code 12", vertexplaytest.Config{}},
		{"HTTP 401", vertexplaytest.Config{RejectWithHTTP401: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := setup(t, tc.cfg, nil)
			e.sim.AddPlayer("bob", "5")
			ctx := context.Background()
			if _, err := e.c.Balance(ctx, "bob"); err != nil {
				t.Fatal(err)
			}
			e.sim.RevokeAll()
			var wg sync.WaitGroup
			for range 20 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := e.c.Balance(ctx, "bob"); err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			if got := e.sim.Stats().Logins; got != 2 {
				t.Fatalf("logins = %d, want 2 (one re-auth for 20 rejected calls)", got)
			}
		})
	}
}

func TestExpiryViaFakeClockOneReauth(t *testing.T) {
	clk := clock.NewFake(t0)
	e := setup(t, vertexplaytest.Config{Clock: clk}, nil)
	e.sim.AddPlayer("bob", "5")
	ctx := context.Background()
	for range 3 {
		if _, err := e.c.Balance(ctx, "bob"); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(61 * time.Minute) // the one-hour token is dead on both clocks
	for range 3 {
		if _, err := e.c.Balance(ctx, "bob"); err != nil {
			t.Fatal(err)
		}
	}
	st := e.sim.Stats()
	if st.Logins != 2 {
		t.Fatalf("logins = %d, want 2", st.Logins)
	}
	if st.Codes[vertexplay.CodeAuthorization] != 0 {
		t.Fatalf("the vendor rejected %d tokens: the client should have known its token expired", st.Codes[vertexplay.CodeAuthorization])
	}
}

func TestJWTExpTrustedWhenShorter(t *testing.T) {
	clk := clock.NewFake(t0)
	// expiresIn says one hour, the token really lives ten minutes.
	e := setup(t, vertexplaytest.Config{Clock: clk, TokenLifetime: 10 * time.Minute, ExpiresIn: time.Hour}, nil)
	e.sim.AddPlayer("bob", "5")
	ctx := context.Background()
	if _, err := e.c.Balance(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	tok, err := e.c.TokenSource().TokenContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := tok.Expiry.Sub(t0); got != 10*time.Minute {
		t.Fatalf("token lifetime %v, want the JWT's 10m", got)
	}
	clk.Advance(11 * time.Minute)
	if _, err := e.c.Balance(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	if st := e.sim.Stats(); st.Logins != 2 || st.Codes[vertexplay.CodeAuthorization] != 0 {
		t.Fatalf("logins = %d, rejections = %d; want 2 and 0", st.Logins, st.Codes[vertexplay.CodeAuthorization])
	}
}

func TestLostTransferIsNotResentAndIsResolvedByCheck(t *testing.T) {
	e := setup(t, vertexplaytest.Config{}, nil)
	e.sim.AddPlayer("carol", "0")
	ctx := context.Background()

	e.sim.Inject(vertexplaytest.Fault{Path: vertexplay.PathTransfer, Lose: true})
	_, err := e.c.Transfer(ctx, vertexplay.TransferRequest{Username: "carol", Amount: "25", TransID: "lost-1"})
	if !errors.Is(err, outcome.ErrUnknown) {
		t.Fatalf("err = %v, want outcome.ErrUnknown", err)
	}
	if n := e.sim.TransferRequests("lost-1"); n != 1 {
		t.Fatalf("the simulator saw the transfer %d times, want 1", n)
	}
	tr, err := e.c.CheckTransaction(ctx, "carol", "lost-1")
	if err != nil || tr.Amount != "25.00" {
		t.Fatalf("CheckTransaction = %+v, %v", tr, err)
	}

	// TransferOrCheck does the same in one call.
	e.sim.Inject(vertexplaytest.Fault{Path: vertexplay.PathTransfer, Lose: true})
	tr, err = e.c.TransferOrCheck(ctx, vertexplay.TransferRequest{Username: "carol", Amount: "10", TransID: "lost-2"})
	if err != nil || tr.TransID != "lost-2" || tr.Balance != "35.00" {
		t.Fatalf("TransferOrCheck = %+v, %v", tr, err)
	}
	if n := e.sim.TransferRequests("lost-2"); n != 1 {
		t.Fatalf("the simulator saw the transfer %d times, want 1", n)
	}
	if st := e.sim.Stats(); st.Transfers != 2 || st.Dropped != 2 {
		t.Fatalf("transfers = %d, dropped = %d; want 2 and 2", st.Transfers, st.Dropped)
	}
	if b, _ := e.sim.Balance("carol"); b != "35.00" {
		t.Fatalf("balance %s, want 35.00: money moved more than once", b)
	}
}

func TestTransferUnknownOutcomes(t *testing.T) {
	for _, tc := range []struct {
		name      string
		fault     vertexplaytest.Fault
		processed bool
	}{
		{"code 7", vertexplaytest.Fault{Code: 7}, false},
		{"HTTP 502", vertexplaytest.Fault{Status: 502}, false},
		{"dropped connection", vertexplaytest.Fault{Drop: true}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := setup(t, vertexplaytest.Config{}, nil)
			e.sim.AddPlayer("dan", "0")
			tc.fault.Path = vertexplay.PathTransfer
			e.sim.Inject(tc.fault)
			_, err := e.c.Transfer(context.Background(), vertexplay.TransferRequest{Username: "dan", Amount: "1", TransID: "u-1"})
			if !errors.Is(err, outcome.ErrUnknown) {
				t.Fatalf("err = %v, want outcome.ErrUnknown", err)
			}
			if n := e.sim.Stats().Requests[vertexplay.PathTransfer]; n != 1 {
				t.Fatalf("transfer sent %d times, want 1", n)
			}
			// The check says it did not happen: the caller may now send it again.
			_, err = e.c.TransferOrCheck(context.Background(), vertexplay.TransferRequest{Username: "dan", Amount: "1", TransID: "u-1"})
			if err != nil {
				t.Fatalf("second attempt: %v", err)
			}
		})
	}
}

func TestTransferOrCheckUnresolved(t *testing.T) {
	e := setup(t, vertexplaytest.Config{}, nil)
	e.sim.AddPlayer("erin", "0")
	// The transfer is dropped unprocessed, so the check finds nothing.
	e.sim.Inject(vertexplaytest.Fault{Path: vertexplay.PathTransfer, Drop: true})
	_, err := e.c.TransferOrCheck(context.Background(), vertexplay.TransferRequest{Username: "erin", Amount: "1", TransID: "x-1"})
	var ue *vertexplay.UnresolvedError
	var ve *vertexplay.Error
	if !errors.As(err, &ue) || !errors.Is(err, outcome.ErrUnknown) || !errors.As(err, &ve) || ve.Code != strconv.Itoa(vertexplaytest.CodeTransactionNotFound) {
		t.Fatalf("err = %v, want an UnresolvedError carrying the check's code 6", err)
	}
	if e.sim.Stats().Transfers != 0 {
		t.Fatal("a dropped transfer was performed")
	}
}

func TestPendingIsNotAFailure(t *testing.T) {
	e := setup(t, vertexplaytest.Config{}, nil)
	e.sim.AddPlayer("finn", "0")
	ctx := context.Background()
	e.sim.HoldTransfers(1)
	tr, err := e.c.Transfer(ctx, vertexplay.TransferRequest{Username: "finn", Amount: "3", TransID: "p-1"})
	if !errors.Is(err, vertexplay.ErrPending) || tr == nil || tr.TransID != "p-1" {
		t.Fatalf("Transfer = %+v, %v; want the transaction and ErrPending", tr, err)
	}
	if outcome.IsPermanent(err) || errors.Is(err, outcome.ErrUnknown) {
		t.Fatalf("pending reported as a failure: %v", err)
	}
	if n := e.sim.TransferRequests("p-1"); n != 1 {
		t.Fatalf("pending transfer sent %d times", n)
	}
	if _, err := e.c.CheckTransaction(ctx, "finn", "p-1"); !errors.Is(err, vertexplay.ErrPending) {
		t.Fatalf("check = %v, want ErrPending", err)
	}
	e.sim.SettlePending()
	if tr, err := e.c.CheckTransaction(ctx, "finn", "p-1"); err != nil || tr.Amount != "3.00" {
		t.Fatalf("check after settling = %+v, %v", tr, err)
	}
}

func TestReadOnlyCallsAreRetried(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault vertexplaytest.Fault
	}{
		{"code 7", vertexplaytest.Fault{Code: 7}},
		{"HTTP 503", vertexplaytest.Fault{Status: 503}},
		{"dropped connection", vertexplaytest.Fault{Drop: true}},
		{"lost response", vertexplaytest.Fault{Lose: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := setup(t, vertexplaytest.Config{}, nil)
			tc.fault.Path = vertexplay.PathGames
			tc.fault.Count = 2
			e.sim.Inject(tc.fault)
			if _, err := e.c.Games(context.Background()); err != nil {
				t.Fatal(err)
			}
			if n := e.sim.Stats().Requests[vertexplay.PathGames]; n != 3 {
				t.Fatalf("games requests = %d, want 3", n)
			}
		})
	}
}

func TestRateLimitedTransferIsRetried(t *testing.T) {
	// The limiter pauses the host after a 77; drive its clock by hand.
	lclk := clock.NewFake(t0)
	e := setup(t, vertexplaytest.Config{}, func(c *vertexplay.Config) {
		c.Limiter = ratelimit.NewAdaptive(ratelimit.Config{Rate: 1e6, Burst: 1e6, Clock: lclk})
	})
	e.sim.AddPlayer("gus", "0")
	e.sim.Inject(vertexplaytest.Fault{Path: vertexplay.PathTransfer, Code: vertexplay.CodeTooManyRequests})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go func() {
		if lclk.WaitForSleepers(ctx, 1) == nil {
			lclk.Advance(2 * time.Second)
		}
	}()
	tr, err := e.c.Transfer(ctx, vertexplay.TransferRequest{Username: "gus", Amount: "4", TransID: "r-1"})
	if err != nil || tr.Balance != "4.00" {
		t.Fatalf("Transfer = %+v, %v", tr, err)
	}
	st := e.sim.Stats()
	if st.Codes[vertexplay.CodeTooManyRequests] != 1 || st.Requests[vertexplay.PathTransfer] != 2 || st.Transfers != 1 {
		t.Fatalf("stats %+v: want one 77, two requests, one transfer", st)
	}
}

func TestCredentialErrorsAreNotLooped(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*vertexplay.Config)
		code int
	}{
		{"wrong Secret KEY", func(c *vertexplay.Config) {
			c.Credentials, _ = vertexplay.NewCredentials(vertexplaytest.AgentID, vertexplaytest.APIKey, "wrong")
		}, vertexplay.CodeAgentNotFound},
		{"wrong key derivation", func(c *vertexplay.Config) { c.DeriveKey = vertexplay.SHA256Key }, vertexplay.CodeEncryptionFailed},
		{"wrong signature version", func(c *vertexplay.Config) { c.SignatureVersion = vertexplay.SignatureV1 }, vertexplay.CodeSignatureFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := setup(t, vertexplaytest.Config{}, tc.mod)
			for range 3 {
				_, err := e.c.Games(context.Background())
				var ve *vertexplay.Error
				if !errors.As(err, &ve) || ve.Code != strconv.Itoa(tc.code) || ve.Op != vertexplay.AuthPath || ve.Hint == "" || !outcome.IsPermanent(err) {
					t.Fatalf("err = %v, want permanent code %d from /v2/auth with a hint", err, tc.code)
				}
			}
			if n := e.sim.Stats().Requests[vertexplay.AuthPath]; n != 1 {
				t.Fatalf("/v2/auth asked %d times, want 1 (the error is held)", n)
			}
		})
	}
}

func TestSignatureV1(t *testing.T) {
	e := setup(t, vertexplaytest.Config{Signatures: []vertexplay.SignatureVersion{vertexplay.SignatureV1}},
		func(c *vertexplay.Config) { c.SignatureVersion = vertexplay.SignatureV1 })
	if _, err := e.c.Games(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestRawHTTPClient(t *testing.T) {
	e := setup(t, vertexplaytest.Config{}, nil)
	e.sim.AddPlayer("hal", "9")
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+vertexplay.PathBalance, nil)
	req.Body = http.NoBody
	resp, err := e.c.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	var b struct {
		Username string `json:"username"`
	}
	if err := e.c.Call(context.Background(), vertexplay.PathBalance, map[string]string{"username": "hal"}, &b); err != nil || b.Username != "hal" {
		t.Fatalf("Do = %+v, %v", b, err)
	}
}

// TestChaosNoDoubleTransfer runs transfers through random drops, lost
// responses, 5xx and 77 and checks that money moved at most once per transId
// and that every transfer the client reports as done happened.
func TestChaosNoDoubleTransfer(t *testing.T) {
	// The limiter pauses the host for a second after each 77; its fake clock is
	// pumped whenever someone waits on it, so the test never sleeps.
	lclk := clock.NewFake(t0)
	pump, stop := context.WithCancel(context.Background())
	defer stop()
	go func() {
		for lclk.WaitForSleepers(pump, 1) == nil {
			lclk.Advance(time.Second)
		}
	}()
	e := setup(t, vertexplaytest.Config{Seed: 42}, func(c *vertexplay.Config) {
		c.Retry = &retry.Policy{MaxAttempts: 10, WaitMin: time.Millisecond, WaitMax: 2 * time.Millisecond}
		c.Limiter = ratelimit.NewAdaptive(ratelimit.Config{Rate: 1e6, Burst: 1e6, Clock: lclk})
	})
	e.sim.AddPlayer("ivy", "0")
	e.sim.SetChaos(vertexplaytest.Chaos{ServerErrorRate: 0.1, RateLimitRate: 0.1, DropRate: 0.1, LoseRate: 0.1})
	const n = 40
	var wg sync.WaitGroup
	done := make(chan string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("chaos-%d", i)
			if _, err := e.c.TransferOrCheck(context.Background(), vertexplay.TransferRequest{Username: "ivy", Amount: "1", TransID: id}); err == nil {
				done <- id
			} else if !errors.Is(err, outcome.ErrUnknown) {
				var ve *vertexplay.Error
				if !errors.As(err, &ve) {
					t.Errorf("%s: unexpected error %v", id, err)
				}
			}
		}()
	}
	wg.Wait()
	close(done)
	e.sim.SetChaos(vertexplaytest.Chaos{})
	ok := 0
	for id := range done {
		ok++
		if _, found := e.sim.Transaction(id); !found {
			t.Errorf("%s reported done but the simulator has no record", id)
		}
	}
	performed := 0
	for i := range n {
		id := fmt.Sprintf("chaos-%d", i)
		if r := e.sim.TransferRequests(id); r > 1 {
			t.Errorf("%s was sent %d times", id, r)
		}
		if _, found := e.sim.Transaction(id); found {
			performed++
		}
	}
	if b, _ := e.sim.Balance("ivy"); b != fmt.Sprintf("%d.00", performed) {
		t.Fatalf("balance %s for %d performed transfers", b, performed)
	}
	if ok == 0 {
		t.Fatal("no transfer succeeded under chaos")
	}
	t.Logf("%d/%d transfers confirmed, %d performed", ok, n, performed)
}

// TestFakeClockWithDefaultLimiter: a fake Clock drives timestamps and token
// expiry, never the default limiter, so a test with more calls than the burst
// does not freeze.
func TestFakeClockWithDefaultLimiter(t *testing.T) {
	clk := clock.NewFake(t0)
	e := setup(t, vertexplaytest.Config{Clock: clk}, func(c *vertexplay.Config) { c.Limiter = nil })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range 12 {
		if _, err := e.c.Games(ctx); err != nil {
			t.Fatal(err)
		}
	}
}
