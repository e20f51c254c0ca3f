package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

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

// vendorInfo is what the CLI knows of a vendor beyond its provider package.
type vendorInfo struct {
	name              string
	baseEnv, loginEnv string
	creds             []string // required environment variables
	identity, secret  string   // the account's public id and its secret (token cache)
	tokenHeader       string   // "" when the vendor has no token
	example           string   // a PATH
	env               string   // the environment section of "call VENDOR -h"
}

var vendors = map[string]vendorInfo{
	"nxcloud": {name: "nxcloud", baseEnv: envNXBase, creds: []string{envNXKey, envNXSecret}, example: nxcloud.PathLogin,
		env: "  " + envNXKey + "      the access key (shown by -v: it is public)\n  " + envNXSecret + "   the access secret\n  " +
			envNXBase + "        default for --base-url (default " + nxcloud.DefaultBaseURL + ")\n"},
	"icekredit": {name: "icekredit", baseEnv: envIKBase, loginEnv: envIKLogin, creds: []string{envIKMerchant, envIKPassword},
		identity: envIKMerchant, secret: envIKPassword, tokenHeader: icekredit.TokenHeader, example: icekredit.PathNigeriaAutoDecision,
		env: "  " + envIKMerchant + "    the merchant name\n  " + envIKPassword + "    the password (sent as its MD5)\n  " +
			envIKBase + "    default for --base-url (default " + icekredit.DefaultBaseURL + ")\n  " +
			envIKLogin + "   default for --login-url (default " + icekredit.DefaultLoginURL + ")\n"},
	"vertexplay": {name: "vertexplay", baseEnv: envVPBase, creds: []string{envVPAgent, envVPAPIKey, envVPSecret},
		identity: envVPAgent, secret: envVPSecret, tokenHeader: "Authorization", example: vertexplay.PathGames,
		env: "  " + envVPAgent + "     the agentId (shown by -v: it is public)\n  " + envVPAPIKey + "      the API KEY, 64 hex characters (the AES key)\n  " +
			envVPSecret + "   the Secret KEY (sent to /v2/auth only)\n  " + envVPBase + "      default for --base-url (required: given at onboarding)\n"},
}

const commonEnv = "  " + envRedis + "   default for --redis\n  " + envRedisKey + "   the 64-hex-character key that seals tokens in Redis\n  " +
	envCacheDir + "   where tokens are cached (default: the user cache directory + /authwire)\n"

// connOptions are the flags that say where and how to connect: "call" and
// "token" share them.
type connOptions struct {
	baseURL, loginURL string
	insecureHTTP      bool
	noCache           bool
	redisURL          string
	timeout           time.Duration
	retries           int
	rate              float64
	verbose           int
}

func (o *connOptions) register(cmd *cobra.Command) {
	f := cmd.PersistentFlags()
	f.StringVar(&o.baseURL, "base-url", "", "the API base URL (default: $VENDOR_BASE_URL, else the vendor's production host)")
	f.BoolVar(&o.insecureHTTP, "insecure-http", false, "allow credentials over plain http:// to a host that is not loopback (test rigs only)")
	f.BoolVar(&o.noCache, "no-cache", false, "neither read nor write the token cache on disk: log in afresh")
	f.StringVar(&o.redisURL, "redis", "", "share tokens, rate budget and breaker with other processes through Redis (default: $"+envRedis+")")
	f.DurationVar(&o.timeout, "timeout", time.Minute, "bound each request, retries and waits included (0: none)")
	f.IntVar(&o.retries, "retries", 3, "re-send a failed request at most N times, when it is safe to")
	f.Float64Var(&o.rate, "rate", 10, "requests per second the rate limiter allows (burst: the same number)")
	f.CountVarP(&o.verbose, "verbose", "v", "-v: each attempt, its outcome and the wait before the next, headers with secrets REDACTED; -vv: bodies (secret fields REDACTED) and the string that was signed")
}

// callOptions are the flags of "authwire call".
type callOptions struct {
	connOptions
	data      string
	headers   []string
	include   bool
	output    string
	repeat    int
	parallel  int
	bizType   string
	action    string
	algorithm string
	offset    time.Duration
	signature string
}

func (a *app) callCommand() *cobra.Command {
	o := &callOptions{}
	call := &cobra.Command{
		Use:   "call VENDOR PATH [flags]",
		Short: "send one authenticated request through the vendor's full stack",
		Long: `call POSTs one request to the vendor through its full stack — signed or logged in (token cached
on disk between runs), paced, guarded by a breaker, retried when safe — and prints the response body
on stdout. Exit 0 when the vendor reports success, 1 otherwise (one line on stderr naming the vendor,
code, HTTP status, outcome and a hint), 2 on a usage error, 130 when interrupted.

Run "authwire call VENDOR -h" for the environment variables and flags of a vendor.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return usagef("name a vendor: nxcloud, icekredit or vertexplay")
		},
	}
	o.register(call)
	f := call.PersistentFlags()
	f.StringVarP(&o.data, "data", "d", "", "the request body; @FILE reads a file, @- standard input (VertexPlay: the plaintext JSON)")
	f.StringArrayVarP(&o.headers, "header", "H", nil, "add a request header, 'Name: value' (repeatable)")
	f.BoolVarP(&o.include, "include", "i", false, "print the response status line and headers before the body")
	f.StringVarP(&o.output, "output", "o", "", "write the response body to FILE instead of standard output")
	f.IntVar(&o.repeat, "repeat", 1, "send the request N times over one shared client (one login for all)")
	f.IntVar(&o.parallel, "parallel", 1, "with --repeat, send C requests at a time")

	for _, name := range []string{"nxcloud", "icekredit", "vertexplay"} {
		v := vendors[name]
		sub := &cobra.Command{
			Use:   name + " PATH [flags]",
			Short: "call " + name,
			Long: "POST PATH (e.g. " + v.example + ") to " + name + " through its full stack.\n\nEnvironment:\n" + v.env + commonEnv +
				"\nCredentials are read from the environment only, never from flags (shell history, ps).",
			Args: cobra.ArbitraryArgs,
			RunE: func(cmd *cobra.Command, args []string) error {
				switch {
				case len(args) == 0:
					return usagef("missing PATH (e.g. %s)", v.example)
				case len(args) > 1:
					return usagef("one PATH expected, got %q", args)
				}
				return a.call(o, v, args[0], cmd.Flags().Changed("repeat") || cmd.Flags().Changed("parallel"))
			},
		}
		sf := sub.Flags()
		switch name {
		case "nxcloud":
			sf.StringVar(&o.bizType, "biz-type", "", "the bizType header (default: the known operation of PATH)")
			sf.StringVar(&o.action, "action", "", "the action header (default: the known operation of PATH)")
			sf.StringVar(&o.algorithm, "algorithm", "md5", "signature hash: md5 or sha256")
			sf.DurationVar(&o.offset, "clock-offset", 0, "add this to the clock for the ts header, when this host's clock is known to be off (e.g. -3s)")
		case "icekredit":
			sf.StringVar(&o.loginURL, "login-url", "", "the login (LOGIN_DOMAIN) base URL (default: $"+envIKLogin+", else the vendor's)")
		case "vertexplay":
			sf.StringVar(&o.signature, "signature", "v2", "signature version: v1 or v2")
		}
		call.AddCommand(sub)
	}
	return call
}

// stack is a vendor client built from the flags, with what -v and the summary
// need.
type stack struct {
	*vendorClient
	name    string
	url     string // base URL + PATH
	cnt     *counters
	tr      *tracer // nil without -v
	closers []func()
}

func (s *stack) Close() {
	if s.vendorClient != nil {
		s.vendor.Close()
	}
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
}

// build checks the connection flags and the environment, and builds the
// vendor's client. Everything that can be wrong on the command line is found
// here, before any lookup or connection.
func (a *app) build(o *connOptions, v vendorInfo, path string, spec clientSpec) (*stack, error) {
	if _, err := requireEnv(a.getenv, v.creds...); err != nil {
		return nil, &usageError{err}
	}
	o.baseURL = firstNonEmpty(o.baseURL, a.getenv(v.baseEnv))
	if err := checkOrigin("--base-url", o.baseURL, o.insecureHTTP); err != nil {
		return nil, err
	}
	if v.name == "vertexplay" && o.baseURL == "" {
		return nil, usagef("missing --base-url (or $%s): VertexPlay gives the API host at onboarding", envVPBase)
	}
	if v.loginEnv != "" {
		o.loginURL = firstNonEmpty(o.loginURL, a.getenv(v.loginEnv))
		if err := checkOrigin("--login-url", o.loginURL, o.insecureHTTP); err != nil {
			return nil, err
		}
	}
	switch {
	case o.retries < 0:
		return nil, usagef("--retries must be 0 or more")
	case o.rate <= 0:
		return nil, usagef("--rate must be more than 0")
	case o.timeout < 0:
		return nil, usagef("--timeout must not be negative")
	}
	o.redisURL = firstNonEmpty(o.redisURL, a.getenv(envRedis))

	s := &stack{name: v.name, cnt: &counters{}}
	if o.verbose > 0 {
		ver, _ := vertexplay.ParseSignatureVersion(firstNonEmpty(spec.signature, "v2"))
		s.tr = newTracer(o.verbose, v.name, pathOf(firstNonEmpty(o.baseURL, defaultBase(v.name)), path), a.stderr, a.getenv, ver)
		spec.opts.Transport = s.tr.transport(nil)
	}
	lcfg := ratelimit.Config{Rate: o.rate, Burst: max(1, int(o.rate))}
	var limiter ratelimit.Limiter = ratelimit.NewAdaptive(lcfg)
	var breakerStore breaker.SharedStore
	switch {
	case o.redisURL != "":
		// Single node, cluster (addr= or redis+cluster://) or sentinel
		// (master_name=), each with every call bounded by the op timeout.
		rdb, err := redisstore.ParseURL(o.redisURL)
		if err != nil {
			return nil, usagef("--redis %q: %v", redactURL(o.redisURL), err)
		}
		// go-redis logs every failed dial through its global logger; the fleet
		// says it once, through the slog logger below.
		redis.SetLogger(quietRedis{})
		s.closers = append(s.closers, func() { rdb.Close() })
		logger := slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
		fleet := redisstore.New(rdb, redisstore.WithLogger(logger))
		key, err := fleetKey(v.name, a.getenv(envRedisKey), a.getenv)
		if err != nil {
			return nil, err
		}
		if spec.opts.TokenStore, err = fleet.TokenStore(key); err != nil {
			return nil, err
		}
		limiter, breakerStore = fleet.Limiter(lcfg), fleet.BreakerStore()
	case !o.noCache && v.tokenHeader != "":
		dir, err := cacheDir(a.getenv)
		if err != nil {
			return nil, &usageError{err}
		}
		origin := strings.TrimRight(firstNonEmpty(o.loginURL, o.baseURL, defaultBase(v.name)), "/")
		if spec.opts.TokenStore, err = newDiskCache(dir, v.name, origin, a.getenv(v.identity), []byte(a.getenv(v.secret))); err != nil {
			return nil, err
		}
	}
	var onWait func(time.Duration)
	policy := retry.Policy{MaxAttempts: o.retries + 1, WaitMin: 100 * time.Millisecond, WaitMax: time.Second}
	if s.tr != nil {
		onWait, policy.OnRetry, policy.Backoff = s.tr.onWait, s.tr.onRetry, s.tr.backoff(nil)
	}
	timeout := o.timeout
	if timeout == 0 {
		timeout = -1 // --timeout 0: none (the provider's zero is its default)
	}
	spec.vendor, spec.getenv, spec.baseURL, spec.loginURL = v.name, a.getenv, o.baseURL, o.loginURL
	spec.opts.Limiter = s.cnt.limiter(limiter, onWait)
	spec.opts.Breakers = s.cnt.breakers(breaker.Config{Store: breakerStore})
	spec.opts.Retry = s.cnt.retry(policy)
	spec.opts.Timeout, spec.opts.AllowInsecureHTTP = timeout, o.insecureHTTP
	vc, err := newClient(spec)
	if err == nil {
		s.vendorClient = vc
		s.url, err = vc.URL(path)
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func defaultBase(vendor string) string {
	switch vendor {
	case "nxcloud":
		return nxcloud.DefaultBaseURL
	case "icekredit":
		return icekredit.DefaultBaseURL
	}
	return ""
}

// pathOf is the URL path a request to base + path has on the wire.
func pathOf(base, path string) string {
	u, err := url.Parse(strings.TrimRight(base, "/") + path)
	if err != nil {
		return path
	}
	return u.Path
}

// checkOrigin refuses what must never carry credentials: a URL that is not
// http(s), has a query or fragment (the PATH is appended to it), or is plain
// http to a host that is not loopback (unless --insecure-http). It only
// parses: no lookup, no connection.
func checkOrigin(flag, raw string, insecure bool) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https"):
		return usagef("%s %q is not an http(s) URL", flag, raw)
	case strings.ContainsAny(raw, "?#"):
		return usagef("%s %q has a query or fragment: give the base URL only (PATH and -d carry the rest)", flag, raw)
	case u.User != nil:
		return usagef("%s: credentials in the URL are not accepted (they come from the environment)", flag)
	case u.Scheme == "http" && !insecure && !isLoopback(u.Hostname()):
		return usagef("%s %q would send credentials in clear text: use https, or pass --insecure-http for a test rig", flag, raw)
	}
	return nil
}

// isLoopback reports whether host is a loopback name or address, without a
// lookup.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// call runs "authwire call VENDOR PATH".
func (a *app) call(o *callOptions, v vendorInfo, path string, summary bool) error {
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	switch {
	case o.repeat < 1:
		return usagef("--repeat must be at least 1")
	case o.parallel < 1:
		return usagef("--parallel must be at least 1")
	}
	header := http.Header{"Content-Type": {"application/json"}}
	switch v.name {
	case "nxcloud":
		if o.algorithm != string(nxcloud.MD5) && o.algorithm != string(nxcloud.SHA256) {
			return usagef("--algorithm %q is not md5 or sha256", o.algorithm)
		}
		biz, action := o.bizType, o.action
		if op, ok := nxcloud.OperationOf(path); ok {
			biz, action = firstNonEmpty(biz, strconv.Itoa(int(op.BizType))), firstNonEmpty(action, op.Action)
		}
		if biz == "" || action == "" {
			return usagef("%s is not a known operation: give --biz-type and --action", path)
		}
		if _, err := strconv.Atoi(biz); err != nil {
			return usagef("--biz-type %q is not a number", biz)
		}
		// The vendor's own spelling, not the canonical one.
		header[nxcloud.HeaderBizType], header[nxcloud.HeaderAction] = []string{biz}, []string{action}
	case "icekredit":
		header.Set("Content-Type", "application/json; charset=utf-8")
	}
	userHeader := http.Header{}
	for _, h := range o.headers {
		name, value, ok := strings.Cut(h, ":")
		if name = strings.TrimSpace(name); !ok || name == "" || strings.ContainsAny(name, " \t") {
			return usagef("-H %q is not 'Name: value'", h)
		}
		userHeader.Add(name, strings.TrimSpace(value))
	}
	for k, vs := range userHeader {
		header[k] = vs // -H replaces a header of the same name
	}
	body, err := readBody(o.data, a.stdin)
	if err != nil {
		return &usageError{err}
	}
	if v.name == "icekredit" && len(body) == 0 {
		body = []byte("{}")
	}
	s, err := a.build(&o.connOptions, v, path, clientSpec{algorithm: o.algorithm, clockOffset: o.offset, signature: o.signature})
	if err != nil {
		return err
	}
	defer s.Close()

	out := a.stdout
	if o.output != "" {
		f, err := os.Create(o.output)
		if err != nil {
			return usagef("-o: %v", err)
		}
		defer f.Close()
		out = f
	}
	if burst := max(1, int(o.rate)); summary && o.repeat > burst {
		fmt.Fprintf(a.stderr, "note: --rate %g paces %d requests over about %.1fs (raise --rate if the vendor allows more)\n",
			o.rate, o.repeat, float64(o.repeat-burst)/o.rate)
	}
	var (
		mu       sync.Mutex
		ok, fail int
		wg       sync.WaitGroup
		sem      = make(chan struct{}, o.parallel)
	)
	start := time.Now()
	for i := 1; i <= o.repeat && a.ctx.Err() == nil; i++ {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			ctx := a.ctx
			if o.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, o.timeout)
				defer cancel()
			}
			if s.tr != nil {
				ctx = withTrace(ctx, i)
			}
			resp, raw, err := s.do(ctx, body, header)
			mu.Lock()
			defer mu.Unlock()
			if resp != nil && o.include {
				fmt.Fprintf(out, "%s %s\n", resp.Proto, resp.Status)
				resp.Header.Write(out)
				io.WriteString(out, "\n")
			}
			if raw != nil {
				out.Write(raw)
				if len(raw) == 0 || raw[len(raw)-1] != '\n' {
					io.WriteString(out, "\n")
				}
			}
			if s.tr != nil {
				s.tr.printf("* request %d: %s\n", i, finalWord(err))
			}
			if err != nil {
				fail++
				if a.ctx.Err() == nil {
					line := errLine(v.name, err)
					if errors.Is(err, context.DeadlineExceeded) {
						line = timeoutLine(v.name, o.timeout, err)
					}
					fmt.Fprintln(a.stderr, line)
				}
				return
			}
			ok++
		}()
	}
	wg.Wait()
	if summary {
		fmt.Fprintf(a.stderr, "summary: ok=%d failed=%d logins=%d retries=%d rate-limit-waits=%d breaker-opens=%d elapsed=%s\n",
			ok, fail, s.Logins(), s.cnt.retries.Load(), s.cnt.waits.Load(), s.cnt.opens.Load(), time.Since(start).Round(time.Millisecond))
	}
	switch {
	case a.ctx.Err() != nil:
		fmt.Fprintf(a.stderr, "authwire: %s: interrupted\n", v.name)
		return &exitError{exitInterrupt}
	case fail > 0:
		return &exitError{exitFail}
	}
	return nil
}

// timeoutLine is the stderr line of a call that --timeout ended. Every layer's
// message ends in "context deadline exceeded"; what matters beyond the
// deadline is whether the request may have been processed.
func timeoutLine(vendor string, d time.Duration, err error) string {
	line := fmt.Sprintf("authwire: %s: no answer within %s (--timeout)", vendor, d)
	if errors.Is(err, outcome.ErrUnknown) {
		line += ": the request may have been processed and was not re-sent"
	}
	return line
}

func finalWord(err error) string {
	if err == nil {
		return "success"
	}
	if k, ok := outcome.KindOf(err); ok {
		return "ended " + k.String()
	}
	return "failed: " + oneLine(err.Error())
}

// do sends one request. It returns the response and its body whenever there
// is a response, and an error when the vendor did not report success.
func (s *stack) do(ctx context.Context, body []byte, header http.Header) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	if len(body) == 0 {
		req.Body, req.GetBody, req.ContentLength = http.NoBody, nil, 0
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := s.Do(req) // the stack's own error, not wrapped in *url.Error
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, outcome.MaxBody))
	if err != nil {
		return resp, nil, fmt.Errorf("read reply: %w", err)
	}
	if r := s.Outcome(resp); r.Kind != outcome.Success {
		if r.Err == nil {
			r.Err = &outcome.Error{Vendor: s.name, Message: http.StatusText(resp.StatusCode), HTTPStatus: resp.StatusCode, Kind: r.Kind}
		}
		return resp, raw, r.Err
	}
	return resp, raw, nil
}

// quietRedis discards go-redis's own log lines.
type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}

// fleetKey is the 32-byte key that seals tokens at rest in Redis. Every process
// sharing the fleet needs the same one: $AUTHWIRE_REDIS_KEY (64 hex characters)
// if set, else an HMAC of the vendor credentials — processes with the same
// credentials derive the same key, and a reader of Redis without them cannot
// open the tokens.
func fleetKey(vendor, hexKey string, getenv func(string) string) ([]byte, error) {
	if hexKey != "" {
		k, err := hex.DecodeString(hexKey)
		if err != nil || len(k) != redisstore.KeySize {
			return nil, usagef("$%s must be %d bytes as %d hex characters", envRedisKey, redisstore.KeySize, 2*redisstore.KeySize)
		}
		return k, nil
	}
	var parts []string
	for _, name := range vendors[vendor].creds {
		parts = append(parts, getenv(name))
	}
	m := hmac.New(sha256.New, []byte(strings.Join(parts, "\x00")))
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

// errLine renders err as the one stderr line of a failed call: it names the
// vendor, the vendor's code and message (when the vendor answered), the HTTP
// status and the outcome kind, and a hint in the CLI's terms. Vendor errors
// never carry bodies or credentials.
func errLine(vendor string, err error) string {
	prefix := "authwire: " + vendor + ": "
	if errors.Is(err, outcome.ErrUnknown) {
		prefix += "outcome unknown, not re-sent: "
	}
	line := err.Error()
	// Every provider's error is an *outcome.Error, whatever the vendor.
	var ve *outcome.Error
	if errors.As(err, &ve) {
		line = vendorLine(ve.Code != "", ve.Code, ve.Message, ve.HTTPStatus, ve.Kind, ve.TraceLabel, ve.TraceID, cliHint(vendor, ve.Hint))
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

// cliHints translate the providers' hints, written for Go callers (Config
// fields), into what a user of the command sets: flags and environment
// variables. Longer phrases come first so that they win over their parts.
var cliHints = map[string]*strings.Replacer{
	"nxcloud": strings.NewReplacer(
		"Config.Credentials (access key and secret)", "$"+envNXKey+" and $"+envNXSecret,
		"Config.Credentials", "$"+envNXKey+" and $"+envNXSecret,
		"Config.Algorithm", "--algorithm",
		"set Config.ClockOffset", "pass --clock-offset",
		"Config.ClockOffset", "--clock-offset",
		"Config.BaseURL", "--base-url",
		"Config.Timeout", "--timeout",
	),
	"icekredit": strings.NewReplacer(
		"(Config.Credentials)", "($"+envIKMerchant+", $"+envIKPassword+")",
		"Config.Credentials", "$"+envIKMerchant+" and $"+envIKPassword,
		"the client does not log in again until the hold period (Config.LoginErrorHold) passes",
		"each authwire process tries the login once",
		"Config.LoginErrorHold", "the login error hold",
		"see Config.LoginEncoding", "the CLI logs in with a form, then JSON once",
		"Config.BaseURL", "--base-url",
		"Config.LoginURL", "--login-url",
		"Config.Timeout", "--timeout",
	),
	"vertexplay": strings.NewReplacer(
		"Config.SignatureVersion", "--signature",
		"(Config.DeriveKey, default hex-decode)", "($"+envVPAPIKey+" is hex-decoded)",
		"Config.DeriveKey", "the key derivation",
		"the client does not ask for a token again until tokensource's hold period passes",
		"each authwire process asks for a token once",
		"Config.Credentials", "$"+envVPAgent+", $"+envVPAPIKey+" and $"+envVPSecret,
		"Config.BaseURL", "--base-url",
		"Config.Timeout", "--timeout",
	),
}

func cliHint(vendor, hint string) string {
	if r := cliHints[vendor]; r != nil {
		return r.Replace(hint)
	}
	return hint
}

// readBody resolves -d: "@file" reads the file ("@-" reads stdin), anything
// else is the body itself.
func readBody(d string, stdin io.Reader) ([]byte, error) {
	if !strings.HasPrefix(d, "@") {
		return []byte(d), nil
	}
	name := d[1:]
	if name == "-" {
		if stdin == nil {
			return nil, errors.New("-d @-: no standard input")
		}
		return io.ReadAll(stdin)
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("-d %s: %w", d, err)
	}
	return b, nil
}

// requireEnv returns the values of the named environment variables, or an error
// naming every missing one.
func requireEnv(getenv func(string) string, names ...string) ([]string, error) {
	vals := make([]string, len(names))
	var missing []string
	for i, n := range names {
		vals[i] = getenv(n)
		if vals[i] == "" {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("missing credential: set %s", strings.Join(missing, " and "))
	}
	return vals, nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

var _ tokensource.Store = (*diskCache)(nil)
