// Command fleetprobe is one replica of a fleet, for the multi-process tests of
// redisstore and of this directory: it logs in to a fake vendor (or the
// IceKredit simulator) and calls it through the authwire stack for a while,
// sharing its token (and optionally its rate limit and breaker) through Redis,
// then prints what happened as one JSON line. It lives outside redisstore
// because it names a vendor, which the framework packages do not.
//
//	fleetprobe -login URL -api URL [-redis URL -prefix P] [-limiter] [-breaker] [-for 3s]
//	fleetprobe -vendor icekredit -login URL -api URL -redis URL [-rate 100 -burst 5]
//	fleetprobe -holdlock NAME -redis URL   # take the token lock and never let go
//
// -redis takes any URL redisstore.ParseURL does, so a Redis Cluster too; -keys
// is the seal key ring, newest first, as comma-separated hex.
package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/authwire/authwire/breaker"
	"github.com/authwire/authwire/provider"
	"github.com/authwire/authwire/providers/icekredit"
	"github.com/authwire/authwire/providers/icekredit/icekredittest"
	"github.com/authwire/authwire/ratelimit"
	"github.com/authwire/authwire/redisstore"
	"github.com/authwire/authwire/roundtripper"
	"github.com/authwire/authwire/tokensource"
)

// opTimeout is -optimeout.
var opTimeout time.Duration

// Report is the probe's one line of output.
type Report struct {
	Requests int      `json:"requests"`
	OK       int      `json:"ok"`
	Failed   int      `json:"failed"`
	Errors   []string `json:"errors,omitempty"`
}

func main() {
	var (
		redisURL = flag.String("redis", "", "Redis URL; empty runs without Redis")
		loginURL = flag.String("login", "", "login endpoint (POST, answers {token, expires_ms})")
		apiURL   = flag.String("api", "", "API endpoint (GET with a Bearer token)")
		dur      = flag.Duration("for", 3*time.Second, "how long to send requests")
		every    = flag.Duration("every", 25*time.Millisecond, "pause between requests")
		keyHex   = flag.String("keys", strings.Repeat("ab", 32), "token seal key ring, newest first: comma-separated hex")
		rateF    = flag.Float64("rate", 2000, "fleet-wide rate of the icekredit limiter, requests/s")
		burst    = flag.Int("burst", 200, "burst of the icekredit limiter")
		lease    = flag.Duration("lease", 10*time.Second, "token lock lease")
		useLim   = flag.Bool("limiter", false, "pace requests with the fleet limiter")
		useBrk   = flag.Bool("breaker", false, "guard requests with a fleet breaker")
		prefix   = flag.String("prefix", "authwire:", "Redis key prefix")
		vendor   = flag.String("vendor", "fake", "fake (-login/-api of the test's fake vendor) or icekredit (-login/-api of icekredittest)")
		opTO     = flag.Duration("optimeout", 2*time.Second, "bound of each Redis call (generous: many probes share a small machine)")
		holdLock = flag.String("holdlock", "", "take the token lock for this key, print \"locked\" and hang")
	)
	flag.Parse()
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	lcfg := ratelimit.Config{Rate: *rateF, Burst: *burst}
	opTimeout = *opTO
	if err := run(log, *redisURL, *loginURL, *apiURL, *dur, *every, *keyHex, *lease, *useLim, *useBrk, *holdLock, *prefix, *vendor, lcfg); err != nil {
		fmt.Fprintln(os.Stderr, "fleetprobe:", err)
		os.Exit(1)
	}
}

func run(log *slog.Logger, redisURL, loginURL, apiURL string, dur, every time.Duration, keyHex string,
	lease time.Duration, useLim, useBrk bool, holdLock, prefix, vendor string, lcfg ratelimit.Config) error {
	var ring [][]byte
	for _, h := range strings.Split(keyHex, ",") {
		k, err := hex.DecodeString(h)
		if err != nil {
			return errors.New("bad -keys")
		}
		ring = append(ring, k)
	}
	newStore := func(f *redisstore.Fleet) (*redisstore.TokenStore, error) { return f.TokenStore(ring[0], ring[1:]...) }
	var fleet *redisstore.Fleet
	if redisURL != "" {
		rdb, err := redisstore.ParseURL(redisURL)
		if err != nil {
			return err
		}
		defer rdb.Close()
		fleet = redisstore.New(rdb, redisstore.WithLogger(log), redisstore.WithLockLease(lease), redisstore.WithPrefix(prefix),
			redisstore.WithOpTimeout(opTimeout), redisstore.WithRetryInterval(200*time.Millisecond))
	}
	if holdLock != "" {
		if fleet == nil {
			return errors.New("-holdlock needs -redis")
		}
		store, err := newStore(fleet)
		if err != nil {
			return err
		}
		if _, err := store.Lock(context.Background(), holdLock); err != nil {
			return err
		}
		fmt.Println("locked")
		select {} // until killed
	}

	if vendor == "icekredit" {
		var store tokensource.Store
		var lim ratelimit.Limiter = ratelimit.NewAdaptive(lcfg)
		if fleet != nil {
			ts, err := newStore(fleet)
			if err != nil {
				return err
			}
			store, lim = ts, fleet.Limiter(lcfg)
		}
		c, err := icekredit.New(icekredit.Config{
			LoginURL: loginURL, BaseURL: apiURL,
			Credentials: icekredit.NewCredentials(icekredittest.MerchantName, icekredittest.Password),
			Options:     provider.Options{TokenStore: store, Limiter: lim},
		})
		if err != nil {
			return err
		}
		defer c.Close()
		return loop(dur, every, func() error {
			_, err := c.NigeriaAutoDecision(context.Background(), icekredit.NigeriaAutoDecisionRequest{
				ID: "22222222222", Mobile: "08000000000", EquipmentSN: "eq-1", SN: "sn-1", BorrowCount: 1})
			return err
		})
	}

	login := tokensource.FetcherFunc(func(ctx context.Context) (*oauth2.Token, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, loginURL, nil)
		if err != nil {
			return nil, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		var body struct {
			Token     string `json:"token"`
			ExpiresMS int64  `json:"expires_ms"`
			Serial    int64  `json:"serial"`
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("login: HTTP %d", resp.StatusCode)
		}
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			return nil, err
		}
		tok := &oauth2.Token{AccessToken: body.Token, TokenType: "Bearer",
			Expiry: time.Now().Add(time.Duration(body.ExpiresMS) * time.Millisecond)}
		return tok.WithExtra(map[string]any{"serial": body.Serial}), nil
	})
	opts := []tokensource.Option{
		tokensource.WithEarlyRefresh(300*time.Millisecond, 100*time.Millisecond),
		tokensource.WithExpirySkew(50 * time.Millisecond),
		tokensource.WithRefreshBackoff(50*time.Millisecond, 500*time.Millisecond),
		tokensource.WithFetchTimeout(5 * time.Second),
	}
	cfg := roundtripper.Config{}
	if fleet != nil {
		store, err := newStore(fleet)
		if err != nil {
			return err
		}
		opts = append(opts, tokensource.WithStore(store, "fake-vendor:account-1"))
		if useLim {
			cfg.Limiter = fleet.Limiter(ratelimit.Config{Rate: 2000, Burst: 200})
		}
		if useBrk {
			cfg.Breakers = breaker.NewSet(breaker.Config{Store: fleet.BreakerStore()})
		}
	}
	src := tokensource.New(login, opts...)
	defer src.Close()
	hosts, err := roundtripper.HostsOf(apiURL)
	if err != nil {
		return err
	}
	cfg.Hosts, cfg.Token = hosts, src
	rt, err := roundtripper.New(cfg)
	if err != nil {
		return err
	}
	client := &http.Client{Transport: rt, Timeout: 10 * time.Second}
	return loop(dur, every, func() error { return call(client, apiURL) })
}

// loop calls fn every pause for dur and prints the report.
func loop(dur, every time.Duration, fn func() error) error {
	var rep Report
	end := time.Now().Add(dur)
	for time.Now().Before(end) {
		rep.Requests++
		if err := fn(); err != nil {
			rep.Failed++
			if len(rep.Errors) < 5 {
				rep.Errors = append(rep.Errors, err.Error())
			}
		} else {
			rep.OK++
		}
		time.Sleep(every)
	}
	return json.NewEncoder(os.Stdout).Encode(rep)
}

func call(c *http.Client, url string) error {
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return nil
}
