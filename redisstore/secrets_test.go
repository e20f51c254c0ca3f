package redisstore_test

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"

	"github.com/authwire/authwire/breaker"
	"github.com/authwire/authwire/outcome"
	"github.com/authwire/authwire/ratelimit"
	"github.com/authwire/authwire/redisstore"
)

// TestNoSecretsInLogsOrErrors drives every part of the package with Redis up,
// with Redis down and with a Redis that refuses our password, and checks that
// no log line, error string or printed value contains the sealing key, a token,
// an extra or the Redis password.
func TestNoSecretsInLogsOrErrors(t *testing.T) {
	key := []byte("0123456789abcdef0123456789ABCDEF") // printable, to be findable
	const (
		access   = "ACCESS-TOKEN-SECRET"
		refresh  = "REFRESH-TOKEN-SECRET"
		extra    = "EXTRA-SESSION-SECRET"
		password = "REDIS-PASSWORD-SECRET"
	)
	secrets := []string{string(key), hex.EncodeToString(key), base64.StdEncoding.EncodeToString(key),
		access, refresh, extra, password}

	var logs logBuffer
	var seen []string // every error string and printed value
	exercise := func(t *testing.T, rdb redis.UniversalClient, prefix string) {
		f := redisstore.New(rdb, redisstore.WithLogger(logs.logger()), redisstore.WithPrefix(prefix),
			redisstore.WithRetryInterval(time.Millisecond))
		store, err := f.TokenStore(key)
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.TokenStore(key[:31])
		seen = append(seen, err.Error())
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%q", "%d"} {
			seen = append(seen, fmt.Sprintf(verb, store))
		}
		slog.New(slog.NewTextHandler(&logs, nil)).Info("store", "store", store)

		ctx := context.Background()
		tok := (&oauth2.Token{AccessToken: access, RefreshToken: refresh, Expiry: time.Now().Add(time.Minute)}).
			WithExtra(map[string]any{"session": extra})
		errs := []error{store.Save(ctx, "acct", tok)}
		_, err = store.Load(ctx, "acct")
		errs = append(errs, err)
		if unlock, err := store.Lock(ctx, "acct"); err == nil {
			unlock()
		} else {
			errs = append(errs, err)
		}
		errs = append(errs, store.Delete(ctx, "acct", tok))
		// A value sealed under another key.
		other, _ := f.TokenStore([]byte(strings.Repeat("z", 32)))
		_ = other.Save(ctx, "acct2", tok)
		_, err = store.Load(ctx, "acct2")
		errs = append(errs, err)

		lim := f.Limiter(ratelimit.Config{Rate: 100})
		errs = append(errs, lim.Wait(ctx, "k"))
		lim.Observe("k", outcome.Result{Kind: outcome.RateLimited})

		bs := f.BreakerStore()
		set := breaker.NewSet(breaker.Config{Store: bs})
		_ = set.State("vendor")
		for _, err := range errs {
			if err != nil {
				seen = append(seen, err.Error(), fmt.Sprintf("%+v", err))
			}
		}
	}

	t.Run("redis down", func(t *testing.T) {
		rdb := redis.NewClient(&redis.Options{Addr: deadRedis(t).Options().Addr, Password: password,
			MaxRetries: -1, DialerRetries: 1, DialTimeout: 100 * time.Millisecond})
		defer rdb.Close()
		exercise(t, rdb, "authwire-test:")
	})
	t.Run("redis up", func(t *testing.T) {
		rdb, prefix := testRedis(t)
		exercise(t, rdb, prefix)
	})
	t.Run("redis refuses the password", func(t *testing.T) {
		_, prefix := testRedis(t)
		opt, _ := redis.ParseURL(testRedisURL(t))
		opt.Username, opt.Password, opt.MaxRetries, opt.DialerRetries = "nobody", password, -1, 1
		rdb := redis.NewClient(opt)
		defer rdb.Close()
		exercise(t, rdb, prefix)
	})

	all := logs.String() + "\n" + strings.Join(seen, "\n")
	refused := os.Getenv("AUTHWIRE_TEST_REDIS") == "" || strings.Contains(all, "WRONGPASS")
	if !strings.Contains(all, "redis unreachable") || !refused || !strings.Contains(all, "REDACTED") {
		t.Fatalf("the test exercised nothing:\n%s", all)
	}
	for _, s := range secrets {
		if strings.Contains(all, s) {
			t.Errorf("secret %q appears in logs or errors:\n%s", s, all)
		}
	}
}
