package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/authwire/authwire/breaker"
	"github.com/authwire/authwire/clock"
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
)

// demoConfig sizes the demo; tests run a smaller one.
type demoConfig struct {
	requests int    // per vendor
	seed     uint64 // the simulators' fault draws
	progress time.Duration
	tty      bool // stderr is a terminal: show the progress line
}

var defaultDemo = demoConfig{requests: 300, seed: 20260501, progress: 250 * time.Millisecond}

// The stack settings of the demo: the providers' defaults scaled to a run of a
// few seconds (the production defaults pause 1 s on a rate limit and keep a
// breaker open 30 s). Nothing the table counts may depend on how fast this
// machine is: the limiter's steady rate is far above what one caller reaches,
// so that it waits only when a vendor's rate-limit code pauses it (for ten
// times the longest retry backoff, so that the retry always meets the pause),
// and a caller that meets an open breaker waits until the breaker lets a probe
// through.
var (
	demoRetry   = retry.Policy{MaxAttempts: 4, WaitMin: 5 * time.Millisecond, WaitMax: 20 * time.Millisecond}
	demoLimit   = ratelimit.Config{Rate: 1e6, Burst: 1e6, Pause: 200 * time.Millisecond, MaxPause: 200 * time.Millisecond}
	demoBreaker = breaker.Config{ConsecutiveFailures: 5, Timeout: 200 * time.Millisecond}
	// breakerBackoff is how long a demo caller pauses after a fast failure:
	// past the breaker's open period, so that the next request is its probe.
	breakerBackoff = demoBreaker.Timeout + 50*time.Millisecond
)

// ending is how one demo request ended. The expected ones are the typed errors
// the stack must return for the faults injected; anything else fails the demo.
type ending string

const (
	endOK          ending = "ok"
	endUnknown     ending = "outcome unknown, not re-sent (ErrUnknown)"
	endNotDone     ending = "transfer unknown, check says not done"
	endUnresolved  ending = "transfer unknown, check failed too (UnresolvedError)"
	endBreakerOpen ending = "breaker open, failed fast (breaker.ErrOpen)"
	endExhausted   ending = "vendor still failing after retries (typed transient)"
	endRejected2   ending = "new token killed too before its re-send (typed token-rejected)"
)

// why says in one line why an expected failure is the right outcome.
var why = map[ending]string{
	endUnknown:     "an SMS may have gone out; sending it again could send two",
	endNotDone:     "the check call says the vendor never got it: no money moved, the caller may try again",
	endUnresolved:  "neither the transfer nor its check answered: only a later check can tell, a blind re-send could pay twice",
	endBreakerOpen: "the vendor had just failed 5 times in a row: failing at once spares it and the caller",
	endExhausted:   "the fault outlasted every retry: the caller gets the vendor's typed error, not a hang",
	endRejected2:   "re-auth re-sends once with a fresh token and never loops",
}

// options are the stack settings the demo gives every vendor's Config: the
// same for the three, each with its own counters.
func (v *demoVendor) options() provider.Options {
	return provider.Options{Limiter: v.limiter(), Breakers: v.cnt.breakers(demoBreaker), Retry: v.cnt.retry(demoRetry)}
}

// limiter is the demo's limiter for v. Its waits are counted where the
// limiter decides to wait — it sleeps on its Clock only then — not by timing
// Wait, which a busy machine could stretch past any threshold.
func (v *demoVendor) limiter() ratelimit.Limiter {
	cfg := demoLimit
	cfg.Clock = sleepCounter{Clock: clock.Real, n: &v.cnt.waits}
	return ratelimit.NewAdaptive(cfg)
}

// sleepCounter is a clock.Clock that counts its Sleeps.
type sleepCounter struct {
	clock.Clock
	n *atomic.Int64
}

func (c sleepCounter) Sleep(ctx context.Context, d time.Duration) error {
	c.n.Add(1)
	return c.Clock.Sleep(ctx, d)
}

// demoVendor is one vendor's part of the demo.
type demoVendor struct {
	name string
	cnt  counters
	// call makes request i and says how it ended; an unexpected ending is
	// returned as an error.
	call func(ctx context.Context, i int) (ending, error)
	// events fire when request at*requests starts: scripted faults.
	events []demoEvent
	// logins reads the simulator's login counter; faults its fault summary.
	logins func() int
	faults func() string
	// check verifies the vendor's invariants after the run (nothing sent twice).
	check func() []string
	close func()

	done      atomic.Int64
	latencies []time.Duration
	endings   map[ending]int
	problems  []string
}

type demoEvent struct {
	at   float64
	name string
	do   func()
}

func (a *app) demoCommand() *cobra.Command {
	cfg := defaultDemo
	cmd := &cobra.Command{
		Use:   "demo [--seed N] [--requests N]",
		Short: "drive every vendor through the full stack with faults; print a report",
		Long: `demo starts the three simulators in-process and sends each vendor its requests through the full
stack while faults are injected, then prints a table of what happened and how every request ended.
Then a "caller boundary" section makes one real provider call per rule the framework gives every
vendor (a deadline after send, a vendor code inside a non-200, a caller's typo, a truncated reply,
a redirect not followed), each against a small loopback server, and checks its outcome.
It exits 0 only if every request ended in success or in the typed error it should, no side
effect was sent twice, and every boundary rule held.

The table is reproducible: the same --seed gives the same counts (each vendor's requests go one at
a time, so the simulators draw their faults in request order). Latencies and the elapsed time, which
are not, go to stderr, with a progress line when stderr is a terminal.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if cfg.requests < 1 {
				return usagef("--requests must be at least 1")
			}
			cfg.tty = isTerminal(a.stderr)
			if code := runDemo(a.ctx, cfg, a.stdout, a.stderr); code != exitOK {
				return &exitError{code}
			}
			return nil
		},
	}
	cmd.Flags().Uint64Var(&cfg.seed, "seed", cfg.seed, "seed of the simulators' fault draws: the same seed gives the same table")
	cmd.Flags().IntVar(&cfg.requests, "requests", cfg.requests, "requests per vendor")
	return cmd
}

// isTerminal reports whether w is a character device (a terminal), without a
// dependency.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func runDemo(ctx context.Context, cfg demoConfig, stdout, stderr io.Writer) int {
	var vendors []*demoVendor
	defer func() {
		for _, v := range vendors {
			v.close()
		}
	}()
	for _, build := range []func(demoConfig) (*demoVendor, error){demoNXCloud, demoIceKredit, demoVertexPlay} {
		v, err := build(cfg)
		if err != nil {
			fmt.Fprintf(stderr, "authwire: demo: %s\n", oneLine(err.Error()))
			return exitFail
		}
		vendors = append(vendors, v)
	}
	start := time.Now()

	stopProgress := make(chan struct{})
	progressDone := make(chan struct{})
	go func() {
		defer close(progressDone)
		if !cfg.tty {
			<-stopProgress
			return
		}
		t := time.NewTicker(cfg.progress)
		defer t.Stop()
		for {
			select {
			case <-stopProgress:
				fmt.Fprintf(stderr, "\r%s\n", progressLine(vendors, cfg.requests, time.Since(start)))
				return
			case <-t.C:
				fmt.Fprintf(stderr, "\r%s", progressLine(vendors, cfg.requests, time.Since(start)))
			}
		}
	}()

	// The vendors run side by side: each has its own simulator and stack, so
	// nothing one does changes what another sees.
	var wg sync.WaitGroup
	for _, v := range vendors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v.run(ctx, cfg)
		}()
	}
	wg.Wait()
	close(stopProgress)
	<-progressDone

	for _, v := range vendors {
		v.problems = append(v.problems, v.check()...)
		slices.Sort(v.problems)
	}
	parts := make([]string, len(vendors))
	for i, v := range vendors {
		parts[i] = fmt.Sprintf("%s p50 %s p99 %s", v.name, fmtDur(percentile(v.latencies, 50)), fmtDur(percentile(v.latencies, 99)))
	}
	// The boundary cases run after the vendors, one at a time: fast, and
	// nothing they print depends on timing.
	var bounds []boundaryResult
	if ctx.Err() == nil {
		bounds = runBoundary(ctx)
	}
	elapsed := time.Since(start)
	fmt.Fprintf(stderr, "demo: %.1fs; latency %s (wall clock: these vary from run to run)\n", elapsed.Seconds(), strings.Join(parts, ", "))
	return report(stdout, vendors, bounds, cfg, ctx.Err() != nil)
}

func progressLine(vs []*demoVendor, n int, d time.Duration) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = fmt.Sprintf("%s %d/%d", v.name, v.done.Load(), n)
	}
	return fmt.Sprintf("demo: %s  (%.1fs)", strings.Join(parts, "  "), d.Seconds())
}

// run makes the vendor's requests one at a time, in order, firing the scripted
// events on the way: the simulator then draws its faults in request order, and
// the same seed gives the same story.
func (v *demoVendor) run(ctx context.Context, cfg demoConfig) {
	v.endings = make(map[ending]int)
	v.latencies = make([]time.Duration, 0, cfg.requests)
	fire := make(map[int][]demoEvent)
	for _, e := range v.events {
		i := int(e.at * float64(cfg.requests))
		fire[i] = append(fire[i], e)
	}
	for i := 0; i < cfg.requests && ctx.Err() == nil; i++ {
		for _, e := range fire[i] {
			e.do()
		}
		t := time.Now()
		end, err := v.call(ctx, i)
		v.latencies = append(v.latencies, time.Since(t))
		if err != nil {
			v.problems = append(v.problems, fmt.Sprintf("request %d: unexpected: %s", i, oneLine(err.Error())))
		} else {
			v.endings[end]++
		}
		v.done.Add(1)
		if end == endBreakerOpen {
			// What a caller does with a fast failure: back off instead of
			// spinning through its work while the vendor is down.
			select {
			case <-time.After(breakerBackoff):
			case <-ctx.Done():
			}
		}
	}
}

// expected sorts a request's error into the endings the stack must produce, or
// returns it as unexpected. sideEffect says whether the call is one that must
// never be re-sent (getCode, a transfer), for which ErrUnknown is right.
func expected(err error, sideEffect bool) (ending, error) {
	switch {
	case err == nil:
		return endOK, nil
	case errors.Is(err, breaker.ErrOpen):
		return endBreakerOpen, nil
	case sideEffect && errors.Is(err, outcome.ErrUnknown):
		return endUnknown, nil
	}
	// A vendor-side fault that outlasted every retry comes back as the vendor's
	// typed error, transient or rate limited: the right answer, not a bug.
	if k, ok := outcome.KindOf(err); ok && (k == outcome.Transient || k == outcome.RateLimited) && isVendorError(err) {
		return endExhausted, nil
	}
	// Re-auth re-sends once and never loops: a request whose fresh token was also
	// killed (the demo revokes tokens and jumps the clock past their life, and the
	// two can fall inside one request) ends with the vendor's typed rejection.
	if k, ok := outcome.KindOf(err); ok && k == outcome.TokenRejected && isVendorError(err) {
		return endRejected2, nil
	}
	return "", err
}

func isVendorError(err error) bool {
	var ve *outcome.Error
	return errors.As(err, &ve)
}

// demoNXCloud: getCode (an SMS: never re-sent when its outcome is unknown), OTA
// init marked idempotent (retried), and the embedded-page login token (cached,
// invalidated once as if the page had reported it rejected). Faults: chaos 5xx,
// 2206, dropped connections after processing, latency; a 503 outage that opens
// the breaker; a 2206 storm.
func demoNXCloud(cfg demoConfig) (*demoVendor, error) {
	sim := nxcloudtest.New(nxcloudtest.Config{Seed: cfg.seed})
	sim.SetChaos(nxcloudtest.Chaos{ServerErrorRate: 0.02, RateLimitRate: 0.01, LoseRate: 0.01, LatencyRate: 0.05, Latency: 15 * time.Millisecond})
	srv := httptest.NewServer(sim)
	v := &demoVendor{name: "nxcloud"}
	c, err := nxcloud.New(nxcloud.Config{Options: v.options(), BaseURL: srv.URL, Credentials: nxcloud.NewCredentials(nxcloudtest.AccessKey, nxcloudtest.AccessSecret)})
	if err != nil {
		srv.Close()
		return nil, err
	}
	phone := func(i int) string { return fmt.Sprintf("+2348%09d", i) }
	v.call = func(ctx context.Context, i int) (ending, error) {
		switch i % 10 {
		case 0, 1, 2, 3, 4, 5:
			return expected(c.GetCode(ctx, phone(i), nxcloud.MethodSMS), true)
		case 6, 7, 8:
			_, err := c.OTAInit(retry.Idempotent(ctx), nxcloud.OTAInitRequest{AppKey: nxcloudtest.AppKey, Phone: phone(i), UserIP: "203.0.113.7"})
			return expected(err, false)
		}
		_, err := c.TokenSource().TokenContext(ctx)
		return expected(err, false)
	}
	v.events = []demoEvent{
		{0.3, "503 outage (8 requests)", func() { sim.Inject(nxcloudtest.Fault{Status: 503, Count: 8}) }},
		{0.5, "login token rejected by the embedded page", func() {
			if tok, err := c.TokenSource().TokenContext(context.Background()); err == nil {
				c.TokenSource().Invalidate(tok)
			}
		}},
		{0.7, "2206 storm (8 requests)", func() { sim.Inject(nxcloudtest.Fault{Code: nxcloudtest.CodeRateLimited, Count: 8}) }},
	}
	v.logins = sim.Logins
	v.faults = func() string {
		st := sim.Stats()
		return fmt.Sprintf("%d faults injected (HTTP 5xx %d, 2206 %d, dropped %d)", st.Faults, st.HTTPErrors, st.Codes[nxcloudtest.CodeRateLimited], st.Dropped)
	}
	v.check = func() []string {
		var p []string
		st := sim.Stats()
		for ph, n := range st.CodesSent {
			if n > 1 {
				p = append(p, fmt.Sprintf("getCode to %s sent %d codes: re-sent a side effect", ph, n))
			}
		}
		return p
	}
	v.close = func() { c.Close(); srv.Close() }
	return v, nil
}

// demoIceKredit: the credit-risk product (a read, retried). Faults: chaos 5xx,
// 10000429, dropped connections, latency; all tokens revoked; 21 minutes of
// idleness on the simulator's clock (the sliding token expires); a 503 outage;
// the client's IP changing. LOGIN_DOMAIN and SERVICE_DOMAIN are two servers, as in
// production.
func demoIceKredit(cfg demoConfig) (*demoVendor, error) {
	fake := clock.NewFake(time.Now())
	sim := icekredittest.New(icekredittest.Config{Clock: fake, Seed: cfg.seed})
	sim.SetChaos(icekredittest.Chaos{ServerErrorRate: 0.02, RateLimitRate: 0.01, LoseRate: 0.01, LatencyRate: 0.05, Latency: 15 * time.Millisecond})
	login := httptest.NewServer(sim)
	api := httptest.NewServer(sim)
	v := &demoVendor{name: "icekredit"}
	c, err := icekredit.New(icekredit.Config{Options: v.options(), LoginURL: login.URL, BaseURL: api.URL,
		Credentials: icekredit.NewCredentials(icekredittest.MerchantName, icekredittest.Password)})
	if err != nil {
		login.Close()
		api.Close()
		return nil, err
	}
	v.call = func(ctx context.Context, i int) (ending, error) {
		_, err := c.NigeriaAutoDecision(ctx, icekredit.NigeriaAutoDecisionRequest{
			ID: fmt.Sprintf("325%011d", i), Mobile: "09012345678", EquipmentSN: "eq-1", SN: fmt.Sprintf("sn-%d", i), BorrowCount: i % 3,
		})
		return expected(err, false)
	}
	v.events = []demoEvent{
		{0.2, "all tokens revoked", sim.RevokeAll},
		{0.4, "21 min idle: sliding token expired", func() { fake.Advance(21 * time.Minute) }},
		{0.6, "503 outage (8 requests)", func() { sim.Inject(icekredittest.Fault{Status: 503, Count: 8}) }},
		{0.8, "client IP changed", sim.ChangeClientIP},
	}
	v.logins = sim.Logins
	v.faults = func() string {
		st := sim.Stats()
		return fmt.Sprintf("%d faults injected (HTTP 5xx %d, 10000429 %d, dropped %d); token rejections 200005 %d, 200006 %d",
			st.Faults, st.Codes[""], st.Codes[icekredit.CodeRateLimited], st.Dropped, st.Codes[icekredit.CodeTokenInvalid], st.Codes[icekredit.CodeIPChanged])
	}
	v.check = func() []string { return nil } // reads: nothing to send twice
	v.close = func() { c.Close(); login.Close(); api.Close() }
	return v, nil
}

// demoVertexPlay: balances and game lists (reads, retried) and transfers through
// TransferOrCheck (never re-sent: an unknown outcome is resolved with the check
// call). Faults: chaos 5xx, 77, dropped connections, lost responses after the
// transfer happened, latency; tokens that expire every 3 s (refreshed early); all
// tokens revoked; a 503 outage.
func demoVertexPlay(cfg demoConfig) (*demoVendor, error) {
	sim := vertexplaytest.New(vertexplaytest.Config{
		Seed:  cfg.seed,
		Chaos: vertexplaytest.Chaos{ServerErrorRate: 0.02, RateLimitRate: 0.01, DropRate: 0.01, LoseRate: 0.02, LatencyRate: 0.05, Latency: 15 * time.Millisecond},
	})
	srv := httptest.NewServer(sim)
	v := &demoVendor{name: "vertexplay"}
	c, err := vertexplay.New(vertexplay.Config{Options: v.options(), BaseURL: srv.URL, Credentials: sim.Credentials()})
	if err != nil {
		srv.Close()
		return nil, err
	}
	const players = 8
	for p := range players {
		sim.AddPlayer(fmt.Sprintf("player%d", p), "1000.00")
	}
	var (
		mu      sync.Mutex
		claimed = map[string]ending{} // transId → how the client says it ended
	)
	v.call = func(ctx context.Context, i int) (ending, error) {
		user := fmt.Sprintf("player%d", i%players)
		switch i % 5 {
		case 0, 1:
			id := fmt.Sprintf("demo-%06d", i)
			_, err := c.TransferOrCheck(ctx, vertexplay.TransferRequest{Username: user, Amount: "1.00", TransID: id})
			end, uerr := expected(err, true)
			var ue *vertexplay.UnresolvedError
			var ve *vertexplay.Error
			if errors.As(err, &ue) {
				end, uerr = endUnresolved, nil
				if errors.As(ue.Check, &ve) && ve.Code == strconv.Itoa(vertexplaytest.CodeTransactionNotFound) {
					end = endNotDone
				}
			}
			mu.Lock()
			claimed[id] = end
			mu.Unlock()
			return end, uerr
		case 2, 3:
			_, err := c.Balance(ctx, user)
			return expected(err, false)
		}
		_, err := c.Games(ctx)
		return expected(err, false)
	}
	v.events = []demoEvent{
		{0.35, "all tokens revoked", sim.RevokeAll},
		{0.6, "503 outage (8 requests)", func() { sim.Inject(vertexplaytest.Fault{Count: 8, Status: 503}) }},
	}
	v.logins = func() int { return sim.Stats().Logins }
	v.faults = func() string {
		st := sim.Stats()
		return fmt.Sprintf("dropped or lost %d, code 77 %d, code 12 %d, transfers performed %d", st.Dropped, st.Codes[vertexplay.CodeTooManyRequests], st.Codes[vertexplay.CodeAuthorization], st.Transfers)
	}
	v.check = func() []string {
		var p []string
		mu.Lock()
		defer mu.Unlock()
		for id, end := range claimed {
			n := sim.TransferRequests(id)
			_, happened := sim.Transaction(id)
			switch {
			case n > 1:
				p = append(p, fmt.Sprintf("transfer %s reached the vendor %d times: money sent twice", id, n))
			case end == endOK && !happened:
				p = append(p, fmt.Sprintf("transfer %s reported ok but never happened", id))
			case end == endNotDone && happened:
				p = append(p, fmt.Sprintf("transfer %s reported not done but happened", id))
			}
		}
		return p
	}
	v.close = func() { c.Close(); srv.Close() }
	return v, nil
}

// report prints the per-vendor table — counts only, the same for the same
// seed — and returns the exit code: 0 only when every request ended in success
// or in its expected typed error and no invariant broke.
func report(w io.Writer, vs []*demoVendor, bounds []boundaryResult, cfg demoConfig, interrupted bool) int {
	fmt.Fprintf(w, "authwire demo: %d vendors x %d requests, one caller each, faults seeded with %d\n\n", len(vs), cfg.requests, cfg.seed)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "vendor\trequests\tsuccesses\tlogins\tretries\trate-limit waits\tbreaker opens\t")
	for _, v := range vs {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t\n", v.name, v.done.Load(), v.endings[endOK], v.logins(),
			v.cnt.retries.Load(), v.cnt.waits.Load(), v.cnt.opens.Load())
	}
	tw.Flush()
	failed := interrupted
	for _, v := range vs {
		fmt.Fprintf(w, "\n%s: %s\n", v.name, v.faults())
		var events []string
		for _, e := range v.events {
			events = append(events, fmt.Sprintf("%s at %d%%", e.name, int(e.at*100)))
		}
		fmt.Fprintf(w, "  scripted: %s\n", strings.Join(events, "; "))
		keys := make([]ending, 0, len(v.endings))
		for k := range v.endings {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b ending) int {
			if d := v.endings[b] - v.endings[a]; d != 0 {
				return d
			}
			return strings.Compare(string(a), string(b))
		})
		for _, k := range keys {
			fmt.Fprintf(w, "  %5d  %s\n", v.endings[k], k)
			if why[k] != "" {
				fmt.Fprintf(w, "         right: %s\n", why[k])
			}
		}
		for _, p := range v.problems {
			fmt.Fprintf(w, "  FAIL   %s\n", p)
			failed = true
		}
	}
	if !interrupted && !reportBoundary(w, bounds) {
		failed = true
	}
	fmt.Fprintln(w)
	switch {
	case interrupted:
		fmt.Fprintln(w, "demo interrupted")
	case failed:
		fmt.Fprintln(w, "FAIL: some requests did not end in success or in the typed error they should, or a boundary rule broke")
	default:
		fmt.Fprintln(w, "PASS: every request ended in success or in the typed error it should; nothing was sent twice; every boundary rule held")
	}
	if interrupted {
		return exitInterrupt
	}
	if failed {
		return exitFail
	}
	return exitOK
}

func percentile(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := (len(s)*p+99)/100 - 1
	return s[max(0, min(i, len(s)-1))]
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2fs", d.Seconds())
	case d >= 10*time.Millisecond:
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
}
