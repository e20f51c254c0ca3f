package chaos

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/authwire/authwire/breaker"
	"github.com/authwire/authwire/outcome"
	"github.com/authwire/authwire/provider"
	"github.com/authwire/authwire/providers/icekredit"
	"github.com/authwire/authwire/providers/icekredit/icekredittest"
	"github.com/authwire/authwire/providers/nxcloud"
	"github.com/authwire/authwire/providers/nxcloud/nxcloudtest"
	"github.com/authwire/authwire/providers/vertexplay"
	"github.com/authwire/authwire/providers/vertexplay/vertexplaytest"
	"github.com/authwire/authwire/ratelimit"
	"github.com/authwire/authwire/retry"
	"github.com/authwire/authwire/roundtripper"
)

// The run's size and the simulators' fault rates.
const (
	perVendor   = 1700
	workers     = 48
	revokeEvery = 250 // completed requests per vendor between two RevokeAll
	players     = 8   // VertexPlay players the transfers credit

	rate5xx       = 0.20
	rateLimited   = 0.10
	rateDrop      = 0.03
	rateLatency   = 0.02
	latencySpike  = 200 * time.Millisecond
	startBalance  = "100.00"
	transferValue = "1.00"
)

// The credentials the simulators are configured with: distinctive values, so
// that finding one in the output cannot be a coincidence (the vendors' short
// test vectors, such as "abc123", could appear inside a random hex id).
const (
	nxAccessKey    = "chaosNXaccessKey"
	nxAccessSecret = "nx-SECRET-chaos-7Qz1Vw"
	ikMerchant     = "chaos-merchant"
	ikPassword     = "ik-PASSWORD-chaos-x9Lp"
	vpAgentID      = "chaosAgent01"
	vpAPIKey       = "9c4f1e7a2b3d5c6e8f0a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6"
	vpSecretKey    = "vp-SECRET-chaos-Kd2X=="
)

// TestChaos is the chaos run; see the package documentation.
func TestChaos(t *testing.T) {
	start := time.Now()
	logBuf := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	out := &syncBuffer{} // every rendering of errors, credentials, configs and clients

	// Simulators, each behind a recorder that keeps the tokens it sees and the
	// connections it drops.
	nxSim := nxcloudtest.New(nxcloudtest.Config{AccessKey: nxAccessKey, AccessSecret: nxAccessSecret, Seed: 11})
	ikSim := icekredittest.New(icekredittest.Config{MerchantName: ikMerchant, Password: ikPassword, Seed: 12})
	vpSim := vertexplaytest.New(vertexplaytest.Config{AgentID: vpAgentID, APIKey: vpAPIKey, SecretKey: vpSecretKey, Seed: 13})
	nxRec := newRecorder(nxSim, nxcloudtest.PathLogin)
	ikRec := newRecorder(ikSim, icekredittest.LoginPath)
	vpRec := newRecorder(vpSim, vertexplay.AuthPath)
	nxSrv, ikSrv, vpSrv := httptest.NewServer(nxRec), httptest.NewServer(ikRec), httptest.NewServer(vpRec)
	defer nxSrv.Close()
	defer ikSrv.Close()
	defer vpSrv.Close()

	// 5xx is drawn before rate limiting, so the rate-limit probability is raised
	// to make 10% of all requests rate limited.
	rl := rateLimited / (1 - rate5xx)
	nxSim.SetChaos(nxcloudtest.Chaos{ServerErrorRate: rate5xx, RateLimitRate: rl, LoseRate: rateDrop, LatencyRate: rateLatency, Latency: latencySpike})
	ikSim.SetChaos(icekredittest.Chaos{ServerErrorRate: rate5xx, RateLimitRate: rl, LoseRate: rateDrop, LatencyRate: rateLatency, Latency: latencySpike})
	// VertexPlay draws Drop (unprocessed) first, then 5xx, rate limiting and Lose
	// (processed, answer lost).
	vpSim.SetChaos(vertexplaytest.Chaos{DropRate: rateDrop / 2, ServerErrorRate: rate5xx, RateLimitRate: rl, LoseRate: rateDrop / 2, LatencyRate: rateLatency, Latency: latencySpike})
	for p := range players {
		vpSim.AddPlayer(player(p), startBalance)
	}

	// Clients: fast retries, a fast limiter, breakers that recover quickly.
	policy := &retry.Policy{WaitMin: time.Millisecond, WaitMax: 5 * time.Millisecond, MaxAttempts: 6}
	newLimiter := func() ratelimit.Limiter {
		return quickPauses{Adaptive: ratelimit.NewAdaptive(ratelimit.Config{Rate: 2000, Burst: 64, Logger: logger}), max: 2 * time.Millisecond}
	}
	newBreakers := func() *breaker.Set {
		return breaker.NewSet(breaker.Config{ConsecutiveFailures: 12, Timeout: 20 * time.Millisecond, Logger: logger})
	}
	newTransport := func() *http.Transport {
		return &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second}
	}
	nxT, ikT, vpT := newTransport(), newTransport(), newTransport()
	defer nxT.CloseIdleConnections()
	defer ikT.CloseIdleConnections()
	defer vpT.CloseIdleConnections()

	nxCreds := nxcloud.NewCredentials(nxAccessKey, nxAccessSecret)
	nxCfg := nxcloud.Config{BaseURL: nxSrv.URL, Credentials: nxCreds,
		Options: provider.Options{Transport: nxT, Limiter: newLimiter(), Breakers: newBreakers(), Retry: policy, Logger: logger}}
	nx, err := nxcloud.New(nxCfg)
	if err != nil {
		t.Fatal(err)
	}
	defer nx.Close()
	ikCreds := icekredit.NewCredentials(ikMerchant, ikPassword)
	ikCfg := icekredit.Config{LoginURL: ikSrv.URL, BaseURL: ikSrv.URL, Credentials: ikCreds,
		Options: provider.Options{Transport: ikT, Limiter: newLimiter(), Breakers: newBreakers(), Retry: policy, Logger: logger}}
	ik, err := icekredit.New(ikCfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ik.Close()
	vpCreds, err := vertexplay.NewCredentials(vpAgentID, vpAPIKey, vpSecretKey)
	if err != nil {
		t.Fatal(err)
	}
	vpCfg := vertexplay.Config{BaseURL: vpSrv.URL, Credentials: vpCreds,
		Options: provider.Options{Transport: vpT, Limiter: newLimiter(), Breakers: newBreakers(), Retry: policy, Logger: logger}}
	vp, err := vertexplay.New(vpCfg)
	if err != nil {
		t.Fatal(err)
	}
	defer vp.Close()

	// Render the credentials, configs and clients with every verb, and log them.
	for _, v := range []any{nxCreds, ikCreds, vpCreds, &nxCreds, &ikCreds, &vpCreds, nxCfg, ikCfg, vpCfg, nx, ik, vp, vp.Signer(), *vp.Signer()} {
		render(out, v)
	}
	logger.Info("chaos: credentials", "nxcloud", nxCreds, "icekredit", ikCreds, "vertexplay", vpCreds)
	logger.Debug("chaos: configs", "nxcloud", nxCfg, "icekredit", ikCfg, "vertexplay", vpCfg)

	// The jobs, interleaved at random.
	var jobs []job
	for i := range perVendor {
		jobs = append(jobs, job{vendor: "nxcloud", op: []string{"getCode", "login", "otaInit"}[i%3], i: i})
		jobs = append(jobs, job{vendor: "icekredit", op: "product", i: i})
		jobs = append(jobs, job{vendor: "vertexplay", op: []string{"balance", "games", "transfer"}[i%3], i: i})
	}
	rng := rand.New(rand.NewPCG(42, 42))
	rng.Shuffle(len(jobs), func(a, b int) { jobs[a], jobs[b] = jobs[b], jobs[a] })

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var (
		ikDone, vpDone   atomic.Int64
		ikRevoked, vpRev atomic.Int64
		results          = make([]result, len(jobs))
		wg               sync.WaitGroup
		queue            = make(chan int)
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range queue {
				j := jobs[n]
				r := result{job: j}
				switch j.vendor {
				case "nxcloud":
					r.err = runNX(ctx, nx, j)
				case "icekredit":
					r.err = runIK(ctx, ik, j)
					if ikDone.Add(1)%revokeEvery == 0 {
						ikSim.RevokeAll()
						ikRevoked.Add(1)
					}
				case "vertexplay":
					r.err = runVP(ctx, vp, j)
					if vpDone.Add(1)%revokeEvery == 0 {
						vpSim.RevokeAll()
						vpRev.Add(1)
					}
				}
				r.category = categorize(j, r.err)
				if r.err != nil {
					render(out, r.err)
				}
				results[n] = r
			}
		}()
	}
	for n := range jobs {
		queue <- n
	}
	close(queue)
	wg.Wait()
	elapsed := time.Since(start)

	// Nothing lost: every request ended, in a success or an expected error.
	counts := map[string]map[string]int{}
	example := map[string]string{}
	var unexpected []string
	for _, r := range results {
		if counts[r.vendor] == nil {
			counts[r.vendor] = map[string]int{}
		}
		counts[r.vendor][r.category]++
		if k := r.vendor + ": " + r.category; r.err != nil && example[k] == "" {
			example[k] = fmt.Sprintf("%s: %v", r.op, r.err)
		}
		if r.category == "" || strings.HasPrefix(r.category, "UNEXPECTED") {
			unexpected = append(unexpected, fmt.Sprintf("%s %s #%d: %s: %v", r.vendor, r.op, r.i, r.category, r.err))
		}
	}
	for _, v := range []string{"nxcloud", "icekredit", "vertexplay"} {
		total := 0
		for _, n := range counts[v] {
			total += n
		}
		if total != perVendor {
			t.Errorf("%s: %d results, want %d", v, total, perVendor)
		}
		t.Logf("%s: %d requests: %s", v, total, fmtCounts(counts[v]))
	}
	var ex []string
	for k, e := range example {
		ex = append(ex, k+": e.g. "+e)
	}
	sort.Strings(ex)
	t.Logf("one error per category:\n%s", strings.Join(ex, "\n"))
	if len(unexpected) > 0 {
		t.Errorf("%d unexpected outcomes, e.g.:\n%s", len(unexpected), strings.Join(unexpected[:min(20, len(unexpected))], "\n"))
	}

	// No side effect twice, and each one where the client says it happened.
	checkNXCloud(t, nxSim, nxRec, results)
	checkVertexPlay(t, vpSim, results)

	// Logins: at most one per revocation, plus the first, plus logins whose
	// reply was lost (a dropped connection after the token was issued, which the
	// client cannot see and rightly retries). Tokens live 20 min (IceKredit,
	// sliding) and 1 h (VertexPlay) on the real clock, far longer than the run, so
	// no login is due to expiry.
	for _, v := range []struct {
		name      string
		logins    int
		revoked   int64
		lostLogin int
	}{
		{"icekredit", ikSim.Logins(), ikRevoked.Load(), ikRec.droppedAt(icekredittest.LoginPath)},
		{"vertexplay", vpSim.Stats().Logins, vpRev.Load(), vpRec.droppedAt(vertexplay.AuthPath)},
	} {
		t.Logf("%s: %d logins, %d revocations, %d login replies dropped", v.name, v.logins, v.revoked, v.lostLogin)
		if v.logins < 1 || int64(v.logins) > v.revoked+1+int64(v.lostLogin) {
			t.Errorf("%s: %d logins for %d revocations and %d dropped login replies: want 1..%d",
				v.name, v.logins, v.revoked, v.lostLogin, v.revoked+1+int64(v.lostLogin))
		}
	}

	// The faults really happened.
	nxSt, ikSt, vpSt := nxSim.Stats(), ikSim.Stats(), vpSim.Stats()
	t.Logf("faults: nxcloud %d (HTTP errors %d, 2206 %d, dropped %d); icekredit %d (10000429 %d, 200005 %d, dropped %d); vertexplay (77 %d, 12 %d, dropped %d)",
		nxSt.Faults, nxSt.HTTPErrors, nxSt.Codes[nxcloudtest.CodeRateLimited], nxSt.Dropped,
		ikSt.Faults, ikSt.Codes[icekredit.CodeRateLimited], ikSt.Codes[icekredit.CodeTokenInvalid], ikSt.Dropped,
		vpSt.Codes[vertexplay.CodeTooManyRequests], vpSt.Codes[vertexplay.CodeAuthorization], vpSt.Dropped)
	if nxSt.HTTPErrors == 0 || nxSt.Dropped == 0 || ikSt.Codes[icekredit.CodeTokenInvalid] == 0 || vpSt.Codes[vertexplay.CodeAuthorization] == 0 || vpSt.Dropped == 0 {
		t.Errorf("the simulators did not inject every kind of fault")
	}

	// Secrets: none in the log, the errors or the renderings.
	for _, rec := range []*recorder{nxRec, ikRec, vpRec} {
		rec.mu.Lock()
		spikes := rec.spikes
		rec.mu.Unlock()
		t.Logf("%s: %d latency spikes, %d tokens recorded", rec.path, spikes, len(rec.tokenSet()))
		if spikes == 0 {
			t.Errorf("no latency spike at %s's simulator", rec.path)
		}
		if len(rec.tokenSet()) == 0 {
			t.Errorf("no token recorded at %s: the secrets check would miss them", rec.path)
		}
	}
	secrets := secretValues(nxRec, ikRec, vpRec)
	logText, outText := logBuf.String(), out.String()
	for name, s := range secrets {
		if strings.Contains(logText, s) {
			t.Errorf("the log contains %s", name)
		}
		if strings.Contains(outText, s) {
			t.Errorf("an error or rendering contains %s", name)
		}
	}
	lines := logLines(t, logText)
	t.Logf("checked %d secrets and tokens against %d log lines (%d bytes) and %d bytes of renderings", len(secrets), len(lines["total"]), len(logText), len(outText))
	// The log must have said what happened, or this proves nothing.
	for _, want := range []struct{ msg, what string }{
		{"authwire: login", "login"},
		{"authwire: retrying", "retry"},
		{"authwire: token rejected, re-authenticating once", "re-auth"},
		{"authwire: rate limit wait", "rate-limit wait"},
		{"authwire: rate limited, slowing down", "rate-limit slow-down"},
		{"authwire: attempt", "debug attempt"},
	} {
		if lines[want.msg] == nil {
			t.Errorf("no %s line (%q) in the log", want.what, want.msg)
		}
	}
	var msgs []string
	for m, ls := range lines {
		if m != "total" {
			msgs = append(msgs, fmt.Sprintf("%q×%d", m, len(ls)))
		}
	}
	sort.Strings(msgs)
	t.Logf("log lines: %s", strings.Join(msgs, ", "))
	t.Logf("duration %v", elapsed.Round(time.Millisecond))
}

type job struct {
	vendor, op string
	i          int
}

type result struct {
	job
	err      error
	category string
}

func phone(prefix string, i int) string { return fmt.Sprintf("+%s%09d", prefix, i) }
func transID(i int) string              { return fmt.Sprintf("chaos-%05d", i) }
func player(p int) string               { return fmt.Sprintf("player%02d", p) }

func runNX(ctx context.Context, c *nxcloud.Client, j job) error {
	switch j.op {
	case "getCode":
		return c.GetCode(ctx, phone("234", j.i), nxcloud.MethodSMS)
	case "login":
		tok, err := c.Login(ctx)
		if err == nil && tok == "" {
			return errors.New("chaos: empty login token")
		}
		return err
	default:
		res, err := c.OTAInit(ctx, nxcloud.OTAInitRequest{AppKey: nxcloudtest.AppKey, Phone: phone("233", j.i), UserIP: "203.0.113.7"})
		if err == nil && (res.RequestID == "" || res.URL == "") {
			return errors.New("chaos: empty OTA init result")
		}
		return err
	}
}

func runIK(ctx context.Context, c *icekredit.Client, j job) error {
	res, err := c.NigeriaAutoDecision(ctx, icekredit.NigeriaAutoDecisionRequest{
		ID: fmt.Sprintf("2%010d", j.i), Mobile: "08000000000", EquipmentSN: "eq", SN: fmt.Sprint("sn-", j.i), BorrowCount: j.i % 3,
	})
	if err == nil && res.RiskLevel == "" {
		return errors.New("chaos: empty risk level")
	}
	return err
}

func runVP(ctx context.Context, c *vertexplay.Client, j job) error {
	switch j.op {
	case "balance":
		b, err := c.Balance(ctx, player(j.i%players))
		if err == nil && b.Balance == "" {
			return errors.New("chaos: empty balance")
		}
		return err
	case "games":
		g, err := c.Games(ctx)
		if err == nil && len(g) == 0 {
			return errors.New("chaos: no games")
		}
		return err
	default:
		tx, err := c.TransferOrCheck(ctx, vertexplay.TransferRequest{Username: player(j.i % players), Amount: transferValue, TransID: transID(j.i)})
		if err == nil && tx.TransID != transID(j.i) {
			return fmt.Errorf("chaos: transfer %s answered for %s", transID(j.i), tx.TransID)
		}
		return err
	}
}

// Outcome categories. Every request must end in one of these; anything else is
// UNEXPECTED and fails the test.
const (
	catOK = "ok"
	// catUnknown: a side-effecting call (getCode, OTA init) whose outcome is
	// unknown (5xx or dropped connection after sending) and which was rightly not
	// re-sent: errors.Is(err, outcome.ErrUnknown).
	catUnknown = "unknown outcome, not re-sent"
	// catNotPerformed: a VertexPlay transfer whose outcome was unknown and whose
	// CheckTransaction proved it did not happen (code 6): *UnresolvedError.
	catNotPerformed = "transfer unknown, check: not performed"
	// catUnresolved: as above but the check failed too.
	catUnresolved = "transfer unknown, check failed"
	// catExhausted: the vendor's typed *Error after the retry budget (6 attempts)
	// was spent on retryable answers (transient, rate limited).
	catExhausted = "retries exhausted (vendor *Error)"
	// catExhaustedConn: an idempotent call whose last allowed attempt lost its
	// connection: the transport's error (EOF, reset), nothing typed to add.
	catExhaustedConn = "retries exhausted (connection dropped)"
	// catRejectedTwice: the token was rejected, and the one re-send with a fresh
	// token was rejected too (a second revocation in between).
	catRejectedTwice = "token rejected twice"
	// catLoginFailed: no token could be had: the login itself ran out of retries
	// (*roundtripper.TokenError); the request was not sent.
	catLoginFailed = "login failed (TokenError)"
	// catBreaker: the circuit breaker was open; the request was not sent.
	catBreaker = "breaker open"
)

func categorize(j job, err error) string {
	if err == nil {
		return catOK
	}
	idempotent := map[string]bool{"login": true, "product": true, "balance": true, "games": true}[j.op]
	var unresolved *vertexplay.UnresolvedError
	if errors.As(err, &unresolved) {
		var ve *vertexplay.Error
		if errors.As(unresolved.Check, &ve) && ve.Code == strconv.Itoa(vertexplaytest.CodeTransactionNotFound) {
			return catNotPerformed
		}
		return catUnresolved
	}
	if errors.Is(err, outcome.ErrUnknown) {
		if idempotent {
			return "UNEXPECTED unknown outcome on an idempotent call"
		}
		return catUnknown
	}
	if errors.Is(err, breaker.ErrOpen) {
		return catBreaker
	}
	var te *roundtripper.TokenError
	if errors.As(err, &te) {
		if k, _ := outcome.KindOf(te.Err); k == outcome.Permanent {
			return "UNEXPECTED permanent login error"
		}
		return catLoginFailed
	}
	// A dropped connection on an idempotent call ends, after its retries, in a
	// *retry.Error that carries the last attempt's kind (Unknown) but no vendor
	// error: it is checked before the kinds, which expect one.
	if idempotent && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)) {
		return catExhaustedConn
	}
	if k, ok := outcome.KindOf(err); ok {
		if !isVendorError(j.vendor, err) {
			return fmt.Sprintf("UNEXPECTED %s error that is not a *%s.Error", k, j.vendor)
		}
		switch k {
		case outcome.RateLimited:
			return catExhausted
		case outcome.Transient, outcome.Unknown:
			if !idempotent {
				return "UNEXPECTED transient error on a non-idempotent call (should be unknown)"
			}
			return catExhausted
		case outcome.TokenRejected:
			return catRejectedTwice
		}
		return "UNEXPECTED " + k.String() + " error"
	}
	return "UNEXPECTED untyped error"
}

// isVendorError reports whether err is (or wraps) the vendor's own *Error.
func isVendorError(vendor string, err error) bool {
	var ve *outcome.Error
	return errors.As(err, &ve) && ve.Vendor == vendor
}

func checkNXCloud(t *testing.T, sim *nxcloudtest.Server, rec *recorder, results []result) {
	t.Helper()
	st := sim.Stats()
	var dup, okNotSent, sentUnexpectedly, loginOK, otaOK, otaUnknown int
	for _, r := range results {
		if r.vendor != "nxcloud" {
			continue
		}
		switch r.op {
		case "getCode":
			n := st.CodesSent[phone("234", r.i)]
			switch {
			case n > 1:
				dup++
			case r.category == catOK && n != 1:
				okNotSent++
			case r.category != catOK && r.category != catUnknown && n != 0:
				sentUnexpectedly++ // a rate-limited (unprocessed) answer, yet sent
			}
		case "login":
			if r.category == catOK {
				loginOK++
			}
		case "otaInit":
			switch r.category {
			case catOK:
				otaOK++
			case catUnknown:
				otaUnknown++
			}
		}
	}
	codes := 0
	for _, n := range st.CodesSent {
		codes += n
	}
	t.Logf("nxcloud: %d codes sent to %d phones, %d sent twice; %d OTA inits (%d ok, %d unknown); %d logins (%d ok calls, %d login replies dropped)",
		codes, len(st.CodesSent), dup, st.Inits, otaOK, otaUnknown, st.Logins, loginOK, rec.droppedAt(nxcloudtest.PathLogin))
	if dup > 0 {
		t.Errorf("nxcloud: %d phones got more than one code", dup)
	}
	if okNotSent > 0 || sentUnexpectedly > 0 {
		t.Errorf("nxcloud: %d getCode successes without a code sent, %d failures with one sent", okNotSent, sentUnexpectedly)
	}
	if st.Inits < otaOK || st.Inits > otaOK+otaUnknown {
		t.Errorf("nxcloud: %d OTA inits for %d successes and %d unknown outcomes", st.Inits, otaOK, otaUnknown)
	}
	// NXCloud's login is an explicit call (its stack signs; no token is cached):
	// every successful call is one login, plus those whose reply was dropped.
	if d := rec.droppedAt(nxcloudtest.PathLogin); st.Logins < loginOK || st.Logins > loginOK+d {
		t.Errorf("nxcloud: %d logins for %d successful calls and %d dropped replies", st.Logins, loginOK, d)
	}
}

func checkVertexPlay(t *testing.T, sim *vertexplaytest.Server, results []result) {
	t.Helper()
	var dup, performed, wrong int
	credited := make([]int, players)
	for _, r := range results {
		if r.vendor != "vertexplay" || r.op != "transfer" {
			continue
		}
		id := transID(r.i)
		if sim.TransferRequests(id) > 1 {
			dup++
		}
		_, done := sim.Transaction(id)
		if done {
			performed++
			credited[r.i%players]++
		}
		switch r.category {
		case catOK:
			if !done {
				wrong++
			}
		case catNotPerformed, catExhausted:
			if done {
				wrong++
			}
		}
	}
	st := sim.Stats()
	t.Logf("vertexplay: %d transfers performed (simulator: %d), %d sent twice, %d outcomes contradicting the simulator", performed, st.Transfers, dup, wrong)
	if dup > 0 {
		t.Errorf("vertexplay: %d transIds sent more than once", dup)
	}
	if wrong > 0 {
		t.Errorf("vertexplay: %d transfers whose outcome contradicts the simulator", wrong)
	}
	if st.Transfers != performed {
		t.Errorf("vertexplay: the simulator performed %d transfers, %d under this run's transIds", st.Transfers, performed)
	}
	// Money is conserved: each player holds the start plus what was credited.
	for p := range players {
		got, _ := sim.Balance(player(p))
		want := new(big.Rat).Mul(big.NewRat(int64(credited[p]), 1), mustRat(transferValue))
		want.Add(want, mustRat(startBalance))
		if g := mustRat(got); g.Cmp(want) != 0 {
			t.Errorf("vertexplay: %s has %s, want %s", player(p), got, want.FloatString(2))
		}
	}
}

func mustRat(s string) *big.Rat {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return new(big.Rat)
	}
	return r
}

// secretValues returns every value that must never be printed, by name: the
// configured secrets, their encodings, and every token the simulators issued
// or received.
func secretValues(recs ...*recorder) map[string]string {
	md := md5.Sum([]byte(ikPassword))
	key, _ := hex.DecodeString(vpAPIKey)
	s := map[string]string{
		"nxcloud access secret":          nxAccessSecret,
		"icekredit password":             ikPassword,
		"icekredit password MD5":         hex.EncodeToString(md[:]),
		"icekredit password MD5 (upper)": strings.ToUpper(hex.EncodeToString(md[:])),
		"vertexplay API KEY":             vpAPIKey,
		"vertexplay API KEY (upper)":     strings.ToUpper(vpAPIKey),
		"vertexplay API KEY base64":      base64.StdEncoding.EncodeToString(key),
		"vertexplay API KEY base64url":   base64.RawURLEncoding.EncodeToString(key),
		"vertexplay Secret KEY":          vpSecretKey,
		"vertexplay API KEY first half":  vpAPIKey[:32],
		"vertexplay API KEY second half": vpAPIKey[32:],
	}
	for _, rec := range recs {
		n := 0
		for tok := range rec.tokenSet() {
			n++
			s[fmt.Sprintf("%s token #%d", rec.path, n)] = tok
			// A JWT's header is the same for every token; its claims and
			// signature are not.
			if parts := strings.Split(tok, "."); len(parts) == 3 {
				s[fmt.Sprintf("%s token #%d claims", rec.path, n)] = parts[1]
				s[fmt.Sprintf("%s token #%d signature", rec.path, n)] = parts[2]
			}
		}
	}
	return s
}

// render writes v with every verb that could reach a secret.
func render(w io.Writer, v any) {
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		fmt.Fprintf(w, verb+"\n", v)
	}
	if err, ok := v.(error); ok {
		io.WriteString(w, err.Error()+"\n")
		for u := errors.Unwrap(err); u != nil; u = errors.Unwrap(u) {
			fmt.Fprintf(w, "%v %+v %#v\n", u, u, u)
		}
	}
}

// logLines parses the JSON log and groups the lines by message ("total": all).
func logLines(t *testing.T, text string) map[string][]map[string]any {
	t.Helper()
	out := map[string][]map[string]any{}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Errorf("log line is not JSON: %q", sc.Text())
			continue
		}
		msg, _ := m["msg"].(string)
		out[msg] = append(out[msg], m)
		out["total"] = append(out["total"], m)
	}
	return out
}

func fmtCounts(m map[string]int) string {
	var parts []string
	for k, v := range m {
		parts = append(parts, fmt.Sprintf("%s %d", k, v))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// quickPauses is an adaptive limiter whose pause after a rate-limited answer is
// capped: the vendors' 1 s default would make a 10% rate-limit storm take
// minutes. The slow-down itself (halving the rate) is kept.
type quickPauses struct {
	*ratelimit.Adaptive
	max time.Duration
}

func (q quickPauses) Observe(key string, r outcome.Result) {
	if r.After > q.max {
		r.After = q.max
	}
	q.Adaptive.Observe(key, r)
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// recorder wraps a simulator on the server side: it keeps every credential a
// request carries (token_id, Authorization), every token a login reply issues,
// and counts the connections the simulator drops (hijacks), per path.
type recorder struct {
	next http.Handler
	path string // the login path, whose replies carry tokens

	mu      sync.Mutex
	tokens  map[string]bool
	dropped map[string]int
	spikes  int // replies that took at least a latency spike
}

func newRecorder(next http.Handler, loginPath string) *recorder {
	return &recorder{next: next, path: loginPath, tokens: map[string]bool{}, dropped: map[string]int{}}
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if v := r.Header.Get("token_id"); v != "" {
		rc.addToken(v)
	}
	if v, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && v != "" {
		rc.addToken(v)
	}
	rw := &recWriter{ResponseWriter: w, rc: rc, path: r.URL.Path, tee: r.URL.Path == rc.path}
	began := time.Now()
	rc.next.ServeHTTP(rw, r)
	if time.Since(began) >= latencySpike {
		rc.mu.Lock()
		rc.spikes++
		rc.mu.Unlock()
	}
	if rw.tee && rw.buf.Len() > 0 {
		var env struct {
			TokenID string `json:"token_id"` // IceKredit
			Data    struct {
				Token       string `json:"token"`       // NXCloud
				AccessToken string `json:"accessToken"` // VertexPlay
			} `json:"data"`
		}
		if json.Unmarshal(rw.buf.Bytes(), &env) == nil {
			for _, tok := range []string{env.TokenID, env.Data.Token, env.Data.AccessToken} {
				if tok != "" {
					rc.addToken(tok)
				}
			}
		}
	}
}

func (rc *recorder) addToken(tok string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.tokens[tok] = true
}

func (rc *recorder) tokenSet() map[string]bool {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := make(map[string]bool, len(rc.tokens))
	for k := range rc.tokens {
		out[k] = true
	}
	return out
}

func (rc *recorder) droppedAt(path string) int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.dropped[path]
}

type recWriter struct {
	http.ResponseWriter
	rc   *recorder
	path string
	tee  bool
	buf  bytes.Buffer
}

func (w *recWriter) Write(p []byte) (int, error) {
	if w.tee {
		w.buf.Write(p)
	}
	return w.ResponseWriter.Write(p)
}

// Hijack lets the simulators drop the connection, and counts it.
func (w *recWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.rc.mu.Lock()
	w.rc.dropped[w.path]++
	w.rc.mu.Unlock()
	hj, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("chaos: connection cannot be hijacked")
	}
	return hj.Hijack()
}
