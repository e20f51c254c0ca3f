package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authwire/authwire/outcome"
	"github.com/authwire/authwire/provider"
	"github.com/authwire/authwire/providers/nxcloud"
	"github.com/authwire/authwire/providers/nxcloud/nxcloudtest"
	"github.com/authwire/authwire/providers/vertexplay"
	"github.com/authwire/authwire/providers/vertexplay/vertexplaytest"
	"github.com/authwire/authwire/ratelimit"
	"github.com/authwire/authwire/retry"
)

// The caller boundary: the rules the framework applies to every vendor, each
// shown by one real call of a real provider against a small loopback server
// (a simulator, wrapped where the rule needs a misbehaviour it does not
// script). Every line is built from what was observed, never from a timer, so
// the section reads the same on every run.

// boundaryCase is one rule: run makes the call and returns one line of what
// happened and the problems found (empty when the rule held); right says why
// that outcome is the correct one.
type boundaryCase struct {
	run   func(ctx context.Context) (what string, problems []string)
	right string
}

// boundaryResult is how one case ended.
type boundaryResult struct {
	what, right string
	problems    []string
}

// The stack settings of the boundary calls: short enough that a broken rule
// shows as a FAIL line at once rather than a hang, and a rate-limit pause far
// below the demo's (one call, nothing to spare the vendor from).
var (
	boundaryRetry = retry.Policy{MaxAttempts: 4, WaitMin: time.Millisecond, WaitMax: 5 * time.Millisecond}
	boundaryLimit = ratelimit.Config{Rate: 1e6, Burst: 1e6, Pause: 5 * time.Millisecond, MaxPause: 5 * time.Millisecond}
)

const boundaryPhone = "+2348000000001"

var boundaryCases = []boundaryCase{
	{boundaryDeadline, `the SMS went out before the deadline passed: a bare "deadline exceeded" would hide that it may have been processed`},
	{boundaryRateLimitIn429, "the vendor's code says it did nothing yet, whatever the status: waiting and sending again is safe"},
	{boundaryAuthIn401, "a bad signature stays bad: sending it again only spends attempts and the vendor's patience"},
	{boundaryTypo, "the caller's mistake says nothing about the vendor: not \"may have been processed\", not retried, not counted by the breaker"},
	{boundaryTruncated, "half a reply is not a success: the SMS may have gone out, so the caller hears unknown and nothing is re-sent"},
	{boundaryRedirect, "a redirect is not the vendor's answer: an empty success would hide that nothing was done"},
}

// runBoundary runs the cases one after the other.
func runBoundary(ctx context.Context) []boundaryResult {
	var out []boundaryResult
	for _, c := range boundaryCases {
		if ctx.Err() != nil {
			break
		}
		what, problems := c.run(ctx)
		out = append(out, boundaryResult{what: what, right: c.right, problems: problems})
	}
	return out
}

// boundaryOptions are the Options of one boundary client on srv, with its own
// breakers (openings counted in cnt).
func boundaryOptions(srv *httptest.Server, cnt *counters) provider.Options {
	return provider.Options{
		Transport: srv.Client().Transport, // closed with srv: no idle connection outlives the case
		Limiter:   ratelimit.NewAdaptive(boundaryLimit),
		Breakers:  cnt.breakers(demoBreaker),
		Retry:     cnt.retry(boundaryRetry),
		Timeout:   2 * time.Second, AttemptTimeout: time.Second,
	}
}

// newBoundaryNX is an nxcloud client on h, served by a fresh loopback server;
// done closes both.
func newBoundaryNX(h http.Handler, cnt *counters) (c *nxcloud.Client, done func(), err error) {
	srv := httptest.NewServer(h)
	c, err = nxcloud.New(nxcloud.Config{BaseURL: srv.URL, Options: boundaryOptions(srv, cnt),
		Credentials: nxcloud.NewCredentials(nxcloudtest.AccessKey, nxcloudtest.AccessSecret)})
	if err != nil {
		srv.Close()
		return nil, nil, err
	}
	return c, func() { c.Close(); srv.Close() }, nil
}

func setupFailed(err error) (string, []string) {
	return "setup failed", []string{oneLine(err.Error())}
}

// wantErr records a problem unless err matches every target.
func wantErr(p *[]string, err error, targets ...error) {
	for _, t := range targets {
		if !errors.Is(err, t) {
			*p = append(*p, fmt.Sprintf("error does not match %v: %v", t, oneLine(fmt.Sprint(err))))
		}
	}
}

func wantCount(p *[]string, what string, got, want int) {
	if got != want {
		*p = append(*p, fmt.Sprintf("%s = %d, want %d", what, got, want))
	}
}

// matchesBoth says which of a and b (named an, bn) err matches, for the lines
// above.
func matchesBoth(err, a, b error, an, bn string) string {
	switch ia, ib := errors.Is(err, a), errors.Is(err, b); {
	case ia && ib:
		return fmt.Sprintf("matches both %s and %s", an, bn)
	case ia:
		return fmt.Sprintf("matches %s but NOT %s", an, bn)
	case ib:
		return fmt.Sprintf("matches %s but NOT %s", bn, an)
	}
	return fmt.Sprintf("matches NEITHER %s NOR %s", an, bn)
}

// deadlineCtx is a caller's context whose deadline passes at the moment pass is
// called — here, by the server once it has processed the request — so that the
// case shows a deadline after send on any machine, however slow: a wall-clock
// deadline could pass before the request left. Its error is
// context.DeadlineExceeded, as a real deadline's.
type deadlineCtx struct {
	context.Context
	done chan struct{}
	once sync.Once
}

func newDeadlineCtx(parent context.Context) *deadlineCtx {
	return &deadlineCtx{Context: context.WithoutCancel(parent), done: make(chan struct{})}
}

func (c *deadlineCtx) pass()                       { c.once.Do(func() { close(c.done) }) }
func (c *deadlineCtx) Deadline() (time.Time, bool) { return time.Time{}, false }
func (c *deadlineCtx) Done() <-chan struct{}       { return c.done }
func (c *deadlineCtx) Err() error {
	select {
	case <-c.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}

// boundaryDeadline: the vendor sends the SMS, then the caller's deadline passes
// before the reply: GetCode's error matches outcome.ErrUnknown and
// context.DeadlineExceeded, and the SMS went out once.
func boundaryDeadline(ctx context.Context) (string, []string) {
	sim := nxcloudtest.New(nxcloudtest.Config{})
	dctx := newDeadlineCtx(ctx)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != nxcloudtest.PathGetCode {
			sim.ServeHTTP(w, r)
			return
		}
		// The vendor processes the request (the simulator sends the code; its
		// reply goes nowhere), then is too slow to answer: the caller's
		// deadline passes, and the reply is never written.
		sim.ServeHTTP(httptest.NewRecorder(), r)
		dctx.pass()
		<-r.Context().Done() // the client gave up and closed the connection
	})
	var cnt counters
	c, done, err := newBoundaryNX(h, &cnt)
	if err != nil {
		return setupFailed(err)
	}
	defer done()
	defer dctx.pass() // whatever happened, no handler waits for ever
	err = c.GetCode(dctx, boundaryPhone, nxcloud.MethodSMS)
	var p []string
	wantErr(&p, err, outcome.ErrUnknown, context.DeadlineExceeded)
	sent, reqs := sim.CodesSent(boundaryPhone), sim.Requests(nxcloudtest.PathGetCode)
	wantCount(&p, "codes sent", sent, 1)
	wantCount(&p, "getCode requests", reqs, 1)
	return fmt.Sprintf("caller's deadline passed after the vendor processed GetCode: the error %s; %d request, %d SMS sent",
		matchesBoth(err, outcome.ErrUnknown, context.DeadlineExceeded, "outcome.ErrUnknown", "context.DeadlineExceeded"), reqs, sent), p
}

// boundaryRateLimitIn429: 2206 inside an HTTP 429 is the vendor's rate limit:
// GetCode (never re-sent when it may have been processed) is retried and
// succeeds, with one SMS sent.
func boundaryRateLimitIn429(context.Context) (string, []string) {
	sim := nxcloudtest.New(nxcloudtest.Config{})
	sim.Inject(nxcloudtest.Fault{Path: nxcloudtest.PathGetCode, Status: http.StatusTooManyRequests, Code: nxcloudtest.CodeRateLimited})
	var cnt counters
	c, done, err := newBoundaryNX(sim, &cnt)
	if err != nil {
		return setupFailed(err)
	}
	defer done()
	err = c.GetCode(context.Background(), boundaryPhone, nxcloud.MethodSMS)
	var p []string
	if err != nil {
		p = append(p, "GetCode: "+oneLine(err.Error()))
	}
	reqs, sent, retries := sim.Requests(nxcloudtest.PathGetCode), sim.CodesSent(boundaryPhone), int(cnt.retries.Load())
	wantCount(&p, "getCode requests", reqs, 2)
	wantCount(&p, "retries", retries, 1)
	wantCount(&p, "codes sent", sent, 1)
	return fmt.Sprintf("code 2206 inside an HTTP 429: GetCode rate-limited, retried %d time, %s; %d requests, %d SMS sent",
		retries, okOr(err), reqs, sent), p
}

// boundaryAuthIn401: 1003 (bad signature) inside an HTTP 401 is a permanent
// authentication error, sent once even by the idempotent login.
func boundaryAuthIn401(context.Context) (string, []string) {
	sim := nxcloudtest.New(nxcloudtest.Config{})
	sim.Inject(nxcloudtest.Fault{Path: nxcloudtest.PathLogin, Status: http.StatusUnauthorized, Code: nxcloudtest.CodeBadSign})
	var cnt counters
	c, done, err := newBoundaryNX(sim, &cnt)
	if err != nil {
		return setupFailed(err)
	}
	defer done()
	_, err = c.Login(context.Background())
	var p []string
	var e *nxcloud.Error
	if !errors.As(err, &e) || e.Code != "1003" || e.HTTPStatus != http.StatusUnauthorized || !nxcloud.IsAuth(err) || !outcome.IsPermanent(err) {
		p = append(p, fmt.Sprintf("Login: %v, want a permanent authentication error 1003 in HTTP 401", oneLine(fmt.Sprint(err))))
	}
	reqs := sim.Requests(nxcloudtest.PathLogin)
	wantCount(&p, "login requests", reqs, 1)
	return fmt.Sprintf("code 1003 inside an HTTP 401: Login %s (authentication), %d request, %d retries", kindOf(err), reqs, cnt.retries.Load()), p
}

// boundaryTypo: a caller's wrong path answers HTTP 404 without the vendor's
// envelope, once more than the breaker's failure threshold: each is
// permanent and sent once, the breaker stays closed and the next valid call
// succeeds.
func boundaryTypo(context.Context) (string, []string) {
	const typo = "/api/wa/integrator/embedded/register/getCod"
	n := int(demoBreaker.ConsecutiveFailures) + 1 // one past what would open the breaker
	sim := nxcloudtest.New(nxcloudtest.Config{})
	var cnt counters
	c, done, err := newBoundaryNX(sim, &cnt)
	if err != nil {
		return setupFailed(err)
	}
	defer done()
	ctx := nxcloud.WithOperation(context.Background(), nxcloud.Operation{BizType: nxcloud.BizWhatsApp, Action: "getCode"})
	var p []string
	for i := range n {
		err := c.Call(ctx, typo, map[string]string{"phone_number": boundaryPhone, "method": "sms"}, nil)
		var e *nxcloud.Error
		if !errors.As(err, &e) || e.HTTPStatus != http.StatusNotFound || !outcome.IsPermanent(err) || errors.Is(err, outcome.ErrUnknown) {
			p = append(p, fmt.Sprintf("typo %d: %v, want a permanent HTTP 404, not unknown", i+1, oneLine(fmt.Sprint(err))))
		}
	}
	reqs, opens := sim.Requests(typo), int(cnt.opens.Load())
	wantCount(&p, "typo requests", reqs, n)
	wantCount(&p, "breaker opens", opens, 0)
	err = c.GetCode(context.Background(), boundaryPhone, nxcloud.MethodSMS)
	if err != nil {
		p = append(p, "GetCode after the typos: "+oneLine(err.Error()))
	}
	return fmt.Sprintf("caller's typo (HTTP 404, no envelope) x%d, the breaker opening after %d failures: each permanent, %d requests, %d retries, breaker opens %d; next GetCode %s",
		n, demoBreaker.ConsecutiveFailures, reqs, cnt.retries.Load(), opens, okOr(err)), p
}

// boundaryTruncated: getCode's reply announces 1000 bytes and the connection
// closes after 19 (a well-formed success envelope, had it been whole): the
// error matches outcome.ErrUnknown and io.ErrUnexpectedEOF, and the POST is not
// re-sent.
func boundaryTruncated(context.Context) (string, []string) {
	const part = `{"code":0,"data":{}` // 19 bytes
	var reqs atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		reqs.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "1000")
		io.WriteString(w, part)
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // close the connection, unlogged
	})
	var cnt counters
	c, done, err := newBoundaryNX(h, &cnt)
	if err != nil {
		return setupFailed(err)
	}
	defer done()
	err = c.GetCode(context.Background(), boundaryPhone, nxcloud.MethodSMS)
	var p []string
	wantErr(&p, err, outcome.ErrUnknown, io.ErrUnexpectedEOF)
	n := int(reqs.Load())
	wantCount(&p, "getCode requests", n, 1)
	return fmt.Sprintf("GetCode's reply cut at %d of its 1000 bytes: the error %s; %d request, %d retries",
		len(part), matchesBoth(err, outcome.ErrUnknown, io.ErrUnexpectedEOF, "outcome.ErrUnknown", "io.ErrUnexpectedEOF"), n, cnt.retries.Load()), p
}

// boundaryRedirect: VertexPlay's API answers a 307 (a moved endpoint) that the
// client does not follow: Games fails with an error naming the Location, its
// query (which may carry a credential) left out.
func boundaryRedirect(context.Context) (string, []string) {
	const moved = "https://moved.example/v3/games"
	sim := vertexplaytest.New(vertexplaytest.Config{})
	var reqs atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != vertexplay.PathGames {
			sim.ServeHTTP(w, r)
			return
		}
		reqs.Add(1)
		io.Copy(io.Discard, r.Body)
		http.Redirect(w, r, moved+"?sig=secret", http.StatusTemporaryRedirect)
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	var cnt counters
	c, err := vertexplay.New(vertexplay.Config{BaseURL: srv.URL, Credentials: sim.Credentials(), Options: boundaryOptions(srv, &cnt)})
	if err != nil {
		return setupFailed(err)
	}
	defer c.Close()
	games, err := c.Games(context.Background())
	var p []string
	var re *outcome.RedirectError
	loc := "(none)"
	if errors.As(err, &re) {
		loc = re.Location
	}
	if loc != moved || games != nil || !outcome.IsPermanent(err) {
		p = append(p, fmt.Sprintf("Games: %d games, %v; want a permanent error naming %s", len(games), oneLine(fmt.Sprint(err)), moved))
	}
	n := int(reqs.Load())
	wantCount(&p, "games requests", n, 1)
	return fmt.Sprintf("HTTP 307 the client did not follow: Games %s, the error naming Location %s; %d request", kindOf(err), loc, n), p
}

func okOr(err error) string {
	if err == nil {
		return "succeeded"
	}
	return "FAILED"
}

// kindOf names how err ends a call, for the lines above.
func kindOf(err error) string {
	if err == nil {
		return "succeeded"
	}
	if k, ok := outcome.KindOf(err); ok {
		return "failed, " + k.String()
	}
	return "failed (untyped)"
}

// reportBoundary prints the section and reports whether every rule held.
func reportBoundary(w io.Writer, rs []boundaryResult) (ok bool) {
	fmt.Fprintf(w, "\ncaller boundary: %d rules every vendor gets from the framework, one real call each\n", len(boundaryCases))
	ok = len(rs) == len(boundaryCases)
	for _, r := range rs {
		mark := "ok  "
		if len(r.problems) > 0 {
			mark, ok = "FAIL", false
		}
		fmt.Fprintf(w, "  %s   %s\n", mark, r.what)
		fmt.Fprintf(w, "         right: %s\n", r.right)
		for _, p := range r.problems {
			fmt.Fprintf(w, "  FAIL   %s\n", p)
		}
	}
	return ok
}
