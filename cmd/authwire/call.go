package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authwire/authwire/breaker"
	"github.com/authwire/authwire/outcome"
	"github.com/authwire/authwire/providers/icekredit"
	"github.com/authwire/authwire/providers/nxcloud"
	"github.com/authwire/authwire/providers/vertexplay"
	"github.com/authwire/authwire/ratelimit"
	"github.com/authwire/authwire/redisstore"
	"github.com/authwire/authwire/retry"
	"github.com/authwire/authwire/tokensource"
)

// The environment variables the CLI reads. The *_BASE_URL and *_LOGIN_URL ones
// are defaults for --base-url and --login-url, so that the export lines printed
// by "authwire sim" are all a shell needs.
const (
	envNXKey      = "NXCLOUD_ACCESS_KEY"
	envNXSecret   = "NXCLOUD_ACCESS_SECRET"
	envNXBase     = "NXCLOUD_BASE_URL"
	envIKMerchant = "ICEKREDIT_MERCHANT"
	envIKPassword = "ICEKREDIT_PASSWORD"
	envIKBase     = "ICEKREDIT_BASE_URL"
	envIKLogin    = "ICEKREDIT_LOGIN_URL"
	envVPAgent    = "VP_AGENT_ID"
	envVPAPIKey   = "VP_API_KEY"
	envVPSecret   = "VP_SECRET_KEY"
	envVPBase     = "VP_BASE_URL"
	envRedis      = "AUTHWIRE_REDIS_URL"
	envRedisKey   = "AUTHWIRE_REDIS_KEY"
)

// callOptions are the parsed flags of "authwire call".
type callOptions struct {
	vendor    string
	path      string
	body      []byte
	baseURL   string
	loginURL  string
	repeat    int
	parallel  int
	summary   bool // --repeat or --parallel given
	verbose   bool
	redisURL  string
	bizType   string
	action    string
	algorithm string
	signature string
}

const callSynopsis = "authwire call nxcloud|icekredit|vertexplay [flags] PATH [-d BODY]"

// cmdCall sends one authenticated request (or --repeat N of them) through the
// provider's full stack and prints the response body.
func cmdCall(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		return usageErr(stderr, "call: name a vendor: nxcloud, icekredit or vertexplay")
	}
	o := callOptions{vendor: args[0]}
	switch o.vendor {
	case "nxcloud", "icekredit", "vertexplay":
	case "-h", "-help", "--help":
		fmt.Fprintf(stdout, "Usage: %s   (authwire call VENDOR -h for the flags)\n", callSynopsis)
		return exitOK
	default:
		return usageErr(stderr, "call: unknown vendor %q (want nxcloud, icekredit or vertexplay)", o.vendor)
	}
	fs := newFlagSet("call "+o.vendor, strings.Replace(callSynopsis, "nxcloud|icekredit|vertexplay", o.vendor, 1), stdout)
	base := fs.String("base-url", "", "the API base URL (default: $"+baseEnv(o.vendor)+", else the vendor's production host)")
	data := fs.String("d", "", "the request body (VertexPlay: the plaintext parameters JSON); @file reads a file, @- standard input")
	fs.IntVar(&o.repeat, "repeat", 1, "send the request N times over one shared client")
	fs.IntVar(&o.parallel, "parallel", 1, "with --repeat, run C requests at a time")
	fs.BoolVar(&o.verbose, "v", false, "print each attempt's request and response headers on stderr, secrets and tokens REDACTED")
	fs.StringVar(&o.redisURL, "redis", "", "share the token store, rate budget and breaker through Redis (default: $"+envRedis+")")
	switch o.vendor {
	case "nxcloud":
		fs.StringVar(&o.bizType, "biz-type", "", "the bizType header (default: the known operation of PATH)")
		fs.StringVar(&o.action, "action", "", "the action header (default: the known operation of PATH)")
		fs.StringVar(&o.algorithm, "algorithm", "md5", "signature hash: md5 or sha256")
	case "icekredit":
		fs.StringVar(&o.loginURL, "login-url", "", "the login (LOGIN_DOMAIN) base URL (default: $"+envIKLogin+", else the vendor's)")
	case "vertexplay":
		fs.StringVar(&o.signature, "signature", "v2", "signature version: v1 or v2")
	}
	pos, err := parseInterleaved(fs, args[1:])
	if err == errHelp {
		return exitOK
	}
	if err != nil {
		return usageErr(stderr, "call %s: %v", o.vendor, err)
	}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "repeat" || f.Name == "parallel" {
			o.summary = true
		}
	})
	switch {
	case len(pos) == 0:
		return usageErr(stderr, "call %s: missing PATH (e.g. %s)", o.vendor, examplePath(o.vendor))
	case len(pos) > 1:
		return usageErr(stderr, "call %s: one PATH expected, got %q", o.vendor, pos)
	case o.repeat < 1:
		return usageErr(stderr, "call %s: --repeat must be at least 1", o.vendor)
	case o.parallel < 1:
		return usageErr(stderr, "call %s: --parallel must be at least 1", o.vendor)
	}
	o.path = pos[0]
	if !strings.HasPrefix(o.path, "/") {
		o.path = "/" + o.path
	}
	if o.body, err = readBody(*data, stdin); err != nil {
		return usageErr(stderr, "call %s: %v", o.vendor, err)
	}
	o.baseURL = firstNonEmpty(*base, getenv(baseEnv(o.vendor)))
	if o.vendor == "icekredit" {
		o.loginURL = firstNonEmpty(o.loginURL, getenv(envIKLogin))
	}
	if o.redisURL == "" {
		o.redisURL = getenv(envRedis)
	}

	cc, err := newCallClient(&o, getenv, stderr)
	if err != nil {
		var ue *usageError
		if errors.As(err, &ue) {
			return usageErr(stderr, "call %s: %v", o.vendor, ue.err)
		}
		fmt.Fprintf(stderr, "authwire: %s: %s\n", o.vendor, oneLine(err.Error()))
		return exitFail
	}
	defer cc.close()
	return cc.run(ctx, &o, stdout, stderr)
}

func baseEnv(vendor string) string {
	switch vendor {
	case "nxcloud":
		return envNXBase
	case "icekredit":
		return envIKBase
	}
	return envVPBase
}

func examplePath(vendor string) string {
	switch vendor {
	case "nxcloud":
		return nxcloud.PathLogin
	case "icekredit":
		return icekredit.PathNigeriaAutoDecision
	}
	return vertexplay.PathGames
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// usageError marks a configuration problem the user fixes with a flag or an
// environment variable: exit 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }

func usagef(format string, a ...any) error { return &usageError{fmt.Errorf(format, a...)} }

// callClient is one vendor's full stack, as the CLI uses it.
type callClient struct {
	vendor   string
	url      string
	http     *http.Client
	classify outcome.Classifier
	prepare  func(*http.Request)
	logins   func() int64
	cnt      *counters
	closers  []func()
}

func (c *callClient) close() {
	for i := len(c.closers) - 1; i >= 0; i-- {
		c.closers[i]()
	}
}

// shared are the pieces of the stack a --redis fleet replaces.
type shared struct {
	limiter      ratelimit.Limiter
	breakerStore breaker.SharedStore
	tokens       tokensource.Store
}

func newCallClient(o *callOptions, getenv func(string) string, stderr io.Writer) (*callClient, error) {
	cc := &callClient{vendor: o.vendor, cnt: &counters{}, prepare: func(*http.Request) {}}
	var transport http.RoundTripper
	if o.verbose {
		transport = &verboseTransport{out: stderr}
	}
	// The same limiter the providers build by default (10 requests/s, burst 10),
	// built here so that its waits can be counted.
	lcfg := ratelimit.Config{Rate: 10, Burst: 10}
	sh := shared{limiter: ratelimit.NewAdaptive(lcfg)}
	var secretParts []string
	switch o.vendor {
	case "nxcloud":
		secretParts = []string{getenv(envNXKey), getenv(envNXSecret)}
	case "icekredit":
		secretParts = []string{getenv(envIKMerchant), getenv(envIKPassword)}
	case "vertexplay":
		secretParts = []string{getenv(envVPAgent), getenv(envVPSecret)}
	}
	// Credentials first: a missing one is the most common usage error.
	if err := checkCredentials(o.vendor, getenv); err != nil {
		return nil, err
	}
	if o.redisURL != "" {
		opt, err := redis.ParseURL(o.redisURL)
		if err != nil {
			return nil, usagef("--redis %q: %v", redactURL(o.redisURL), err)
		}
		opt.MaxRetries, opt.DialerRetries = -1, 1 // notice a dead Redis at once
		// go-redis logs every failed dial through its global logger; the fleet
		// says it once, through the slog logger below.
		redis.SetLogger(quietRedis{})
		rdb := redis.NewClient(opt)
		cc.closers = append(cc.closers, func() { rdb.Close() })
		logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
		// A short breaker lock wait: IceKredit's login and product calls share a
		// breaker key when both URLs are on one host (as under "authwire sim"),
		// and the login's breaker then waits for the product call's lock.
		fleet := redisstore.New(rdb, redisstore.WithLogger(logger), redisstore.WithBreakerLockWait(250*time.Millisecond))
		key, err := fleetKey(o.vendor, getenv(envRedisKey), secretParts)
		if err != nil {
			return nil, err
		}
		store, err := fleet.TokenStore(key)
		if err != nil {
			return nil, err
		}
		sh = shared{limiter: fleet.Limiter(lcfg), breakerStore: fleet.BreakerStore(), tokens: store}
	}
	lim := cc.cnt.limiter(sh.limiter)
	brk := cc.cnt.breakers(breaker.Config{Store: sh.breakerStore})
	pol := cc.cnt.retry(retry.Policy{})

	switch o.vendor {
	case "nxcloud":
		alg := nxcloud.Algorithm(o.algorithm)
		if alg != nxcloud.MD5 && alg != nxcloud.SHA256 {
			return nil, usagef("--algorithm %q is not md5 or sha256", o.algorithm)
		}
		biz, action := o.bizType, o.action
		if op, ok := nxcloud.OperationOf(o.path); ok {
			biz = firstNonEmpty(biz, strconv.Itoa(int(op.BizType)))
			action = firstNonEmpty(action, op.Action)
		}
		if biz == "" || action == "" {
			return nil, usagef("%s is not a known operation: give --biz-type and --action", o.path)
		}
		if _, err := strconv.Atoi(biz); err != nil {
			return nil, usagef("--biz-type %q is not a number", biz)
		}
		c, err := nxcloud.New(nxcloud.Config{
			BaseURL: o.baseURL, Credentials: nxcloud.NewCredentials(getenv(envNXKey), getenv(envNXSecret)),
			Transport: transport, Limiter: lim, Breakers: brk, Retry: pol, Algorithm: alg,
		})
		if err != nil {
			return nil, usagef("%v", err)
		}
		cc.closers = append(cc.closers, func() { c.Close() })
		cc.http, cc.classify = c.HTTPClient(), nxcloud.Classify
		cc.url = strings.TrimRight(firstNonEmpty(o.baseURL, nxcloud.DefaultBaseURL), "/") + o.path
		cc.prepare = func(r *http.Request) {
			r.Header[nxcloud.HeaderBizType] = []string{biz}
			r.Header[nxcloud.HeaderAction] = []string{action}
		}
		// NXCloud signs every request and has no session: the only "login" is
		// the embedded-page login API, counted when PATH is it and it succeeds.
		var n atomic.Int64
		if strings.HasSuffix(o.path, nxcloud.PathLogin) {
			cc.classify = func(resp *http.Response, body []byte) outcome.Result {
				r := nxcloud.Classify(resp, body)
				if r.Kind == outcome.Success {
					n.Add(1)
				}
				return r
			}
		}
		cc.logins = n.Load
	case "icekredit":
		c, err := icekredit.New(icekredit.Config{
			LoginURL: o.loginURL, BaseURL: o.baseURL,
			Credentials: icekredit.NewCredentials(getenv(envIKMerchant), getenv(envIKPassword)),
			Transport:   transport, Limiter: lim, Breakers: brk, Retry: pol, TokenStore: sh.tokens,
		})
		if err != nil {
			return nil, usagef("%v", err)
		}
		cc.closers = append(cc.closers, func() { c.Close() })
		cc.http, cc.classify, cc.logins = c.HTTPClient(), icekredit.Classify, c.Logins
		cc.url = strings.TrimRight(firstNonEmpty(o.baseURL, icekredit.DefaultBaseURL), "/") + o.path
		cc.prepare = func(r *http.Request) { r.Header.Set("Content-Type", "application/json; charset=utf-8") }
		if len(o.body) == 0 {
			o.body = []byte("{}")
		}
	case "vertexplay":
		if o.baseURL == "" {
			return nil, usagef("missing --base-url (or $%s): VertexPlay gives the API host at onboarding", envVPBase)
		}
		ver, err := vertexplay.ParseSignatureVersion(o.signature)
		if err != nil {
			return nil, usagef("--signature %q is not v1 or v2", o.signature)
		}
		creds, err := vertexplay.NewCredentials(getenv(envVPAgent), getenv(envVPAPIKey), getenv(envVPSecret))
		if err != nil {
			return nil, usagef("%s/%s/%s: %v", envVPAgent, envVPAPIKey, envVPSecret, err)
		}
		// Logins are the token fetches that reached /v2/auth, seen by the token
		// source's observer (a token loaded from Redis is not a login).
		var n atomic.Int64
		opts := []tokensource.Option{tokensource.WithObserver(func(e tokensource.Event) {
			if e.Err == nil && !e.Shared {
				n.Add(1)
			}
		})}
		if sh.tokens != nil {
			opts = append(opts, tokensource.WithStore(sh.tokens, "vertexplay|"+strings.TrimRight(o.baseURL, "/")+"|"+creds.AgentID))
		}
		c, err := vertexplay.New(vertexplay.Config{
			BaseURL: o.baseURL, Credentials: creds, Transport: transport, Limiter: lim, Breakers: brk,
			Retry: pol, SignatureVersion: ver, TokenOptions: opts,
		})
		if err != nil {
			return nil, usagef("%v", err)
		}
		cc.closers = append(cc.closers, func() { c.Close() })
		cc.http, cc.classify, cc.logins = c.HTTPClient(), vertexplay.Classify, n.Load
		cc.url = strings.TrimRight(o.baseURL, "/") + o.path
	}
	if _, err := url.Parse(cc.url); err != nil {
		return nil, usagef("bad URL %q: %v", cc.url, err)
	}
	return cc, nil
}

// quietRedis discards go-redis's own log lines.
type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}

// checkCredentials names every missing environment variable of vendor.
func checkCredentials(vendor string, getenv func(string) string) error {
	var names []string
	switch vendor {
	case "nxcloud":
		names = []string{envNXKey, envNXSecret}
	case "icekredit":
		names = []string{envIKMerchant, envIKPassword}
	case "vertexplay":
		names = []string{envVPAgent, envVPAPIKey, envVPSecret}
	}
	if _, err := requireEnv(getenv, names...); err != nil {
		return &usageError{err}
	}
	return nil
}

// fleetKey is the 32-byte key that seals tokens at rest in Redis. Every process
// sharing the fleet needs the same one: $AUTHWIRE_REDIS_KEY (64 hex characters)
// if set, else an HMAC of the vendor credentials — processes with the same
// credentials derive the same key, and a reader of Redis without them cannot
// open the tokens.
func fleetKey(vendor, hexKey string, secretParts []string) ([]byte, error) {
	if hexKey != "" {
		k, err := hex.DecodeString(hexKey)
		if err != nil || len(k) != redisstore.KeySize {
			return nil, usagef("$%s must be %d bytes as %d hex characters", envRedisKey, redisstore.KeySize, 2*redisstore.KeySize)
		}
		return k, nil
	}
	m := hmac.New(sha256.New, []byte(strings.Join(secretParts, "\x00")))
	m.Write([]byte("authwire cli redis token key v1/" + vendor))
	return m.Sum(nil), nil
}

// redactURL hides a password in a Redis URL.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}

// run sends o.repeat requests, o.parallel at a time, prints each response body
// on stdout and each failure as one line on stderr.
func (c *callClient) run(ctx context.Context, o *callOptions, stdout, stderr io.Writer) int {
	var (
		mu       sync.Mutex
		ok, fail int
		wg       sync.WaitGroup
		sem      = make(chan struct{}, o.parallel)
	)
	start := time.Now()
	for i := 0; i < o.repeat && ctx.Err() == nil; i++ {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			body, err := c.do(ctx, o.body)
			mu.Lock()
			defer mu.Unlock()
			if body != nil {
				stdout.Write(body)
				if len(body) == 0 || body[len(body)-1] != '\n' {
					io.WriteString(stdout, "\n")
				}
			}
			if err != nil {
				fail++
				fmt.Fprintln(stderr, errLine(c.vendor, err))
				return
			}
			ok++
		}()
	}
	wg.Wait()
	if ctx.Err() != nil && ok+fail < o.repeat {
		fail += o.repeat - ok - fail
		fmt.Fprintf(stderr, "authwire: %s: interrupted\n", c.vendor)
	}
	if o.summary {
		fmt.Fprintf(stderr, "summary: ok=%d failed=%d logins=%d retries=%d rate-limit-waits=%d breaker-opens=%d elapsed=%s\n",
			ok, fail, c.logins(), c.cnt.retries.Load(), c.cnt.waits.Load(), c.cnt.opens.Load(), time.Since(start).Round(time.Millisecond))
	}
	if fail > 0 {
		return exitFail
	}
	return exitOK
}

// do sends one request. It returns the response body whenever there is a
// response, and an error when the vendor did not report success.
func (c *callClient) do(ctx context.Context, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if len(body) == 0 {
		req.Body, req.GetBody, req.ContentLength = http.NoBody, nil, 0
	}
	req.Header.Set("Content-Type", "application/json")
	c.prepare(req)
	resp, err := c.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) && ue.Err != nil {
			err = ue.Err // the layers' own messages name what failed
		}
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, outcome.MaxBody))
	if err != nil {
		return nil, fmt.Errorf("read reply: %w", err)
	}
	if r := c.classify(resp, raw); r.Kind != outcome.Success {
		if r.Err == nil {
			r.Err = &outcome.ResponseError{Vendor: c.vendor, StatusCode: resp.StatusCode, Kind: r.Kind}
		}
		return raw, r.Err
	}
	return raw, nil
}

// errLine renders err as the one stderr line of a failed call: it names the
// vendor, the vendor's code and message (when the vendor answered), the HTTP
// status and the outcome kind. Vendor errors never carry bodies or credentials.
func errLine(vendor string, err error) string {
	prefix := "authwire: " + vendor + ": "
	if errors.Is(err, outcome.ErrUnknown) {
		prefix += "outcome unknown, not re-sent: "
	}
	var (
		nx *nxcloud.Error
		ik *icekredit.Error
		vp *vertexplay.Error
	)
	line := ""
	switch {
	case errors.As(err, &nx):
		line = vendorLine(nx.Code != 0, strconv.Itoa(nx.Code), nx.Message, nx.HTTPStatus, nx.Kind, "traceId", nx.TraceID, nx.Hint)
	case errors.As(err, &ik):
		line = vendorLine(ik.Code != "", ik.Code, ik.Message, ik.HTTPStatus, ik.Kind, "trace_id", ik.TraceID, ik.Hint)
	case errors.As(err, &vp):
		line = vendorLine(vp.Code >= 0, strconv.Itoa(vp.Code), vp.Message, vp.HTTPStatus, vp.Kind, "logUUID", vp.LogUUID, vp.Hint)
	default:
		line = err.Error()
	}
	return oneLine(prefix + line)
}

func vendorLine(hasCode bool, code, msg string, status int, kind outcome.Kind, idName, id, hint string) string {
	var b strings.Builder
	if hasCode {
		fmt.Fprintf(&b, "code %s: %s (HTTP %d, %s", code, msg, status, kind)
	} else {
		fmt.Fprintf(&b, "HTTP %d: %s (%s", status, msg, kind)
	}
	if id != "" {
		fmt.Fprintf(&b, ", %s %s", idName, id)
	}
	b.WriteString(")")
	if hint != "" {
		b.WriteString(": " + hint)
	}
	return b.String()
}
