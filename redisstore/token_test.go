package redisstore_test

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"

	"github.com/authwire/authwire/clock"
	"github.com/authwire/authwire/redisstore"
	"github.com/authwire/authwire/tokensource"
)

func TestTokenStoreKeySize(t *testing.T) {
	f := redisstore.New(deadRedis(t))
	for _, n := range []int{0, 16, 31, 33, 64} {
		secret := bytes.Repeat([]byte{'k'}, n)
		_, err := f.TokenStore(secret)
		if !errors.Is(err, redisstore.ErrKeySize) {
			t.Fatalf("len %d: err = %v, want ErrKeySize", n, err)
		}
		if n > 0 && strings.Contains(err.Error(), string(secret)) {
			t.Fatalf("error shows the key: %v", err)
		}
	}
	if _, err := f.TokenStore(testKey()); err != nil {
		t.Fatal(err)
	}
}

// TestTokenStoreExtras checks what survives a round trip through Redis: every
// basic type exactly, JSON shapes as JSON does, url.Values exactly; unsupported
// extras are dropped, not fatal.
func TestTokenStoreExtras(t *testing.T) {
	rdb, prefix := testRedis(t)
	store, err := redisstore.New(rdb, redisstore.WithPrefix(prefix)).TokenStore(testKey())
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(time.Hour).Round(0)
	type dur time.Duration
	tests := []struct {
		name  string
		extra any
		want  map[string]any // Extra(key) after the round trip
	}{
		{"none", nil, map[string]any{"x": nil}},
		{"basic types keep their type", map[string]any{
			"s": "v", "b": true, "i": 7, "i64": int64(-9), "u8": uint8(200), "f": 1.5, "f32": float32(0.25), "nil": nil,
		}, map[string]any{
			"s": "v", "b": true, "i": 7, "i64": int64(-9), "u8": uint8(200), "f": 1.5, "f32": float32(0.25), "nil": nil,
		}},
		{"named types come back as their kind", map[string]any{"d": time.Duration(3), "m": dur(4)},
			map[string]any{"d": int64(3), "m": int64(4)}},
		{"JSON shapes as JSON", map[string]any{"obj": map[string]any{"a": 1, "b": []string{"x"}}, "list": []int{1, 2}},
			map[string]any{"obj": map[string]any{"a": 1.0, "b": []any{"x"}}, "list": []any{1.0, 2.0}}},
		{"unsupported types are dropped", map[string]any{"t": time.Now(), "fn": func() {}, "keep": "k"},
			map[string]any{"t": nil, "fn": nil, "keep": "k"}},
		{"url.Values exactly", url.Values{"x_token": {"abc"}, "n": {"12"}},
			map[string]any{"x_token": "abc", "n": int64(12)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			in := &oauth2.Token{AccessToken: "at-" + tc.name, TokenType: "Bearer", RefreshToken: "rt", Expiry: exp}
			if tc.extra != nil {
				in = in.WithExtra(tc.extra)
			}
			if err := store.Save(ctx, tc.name, in); err != nil {
				t.Fatal(err)
			}
			out, err := store.Load(ctx, tc.name)
			if err != nil || out == nil {
				t.Fatalf("Load = %v, %v", out, err)
			}
			if out.AccessToken != in.AccessToken || out.TokenType != "Bearer" || out.RefreshToken != "rt" || !out.Expiry.Equal(exp) {
				t.Fatalf("Load = %+v, want %+v", out, in)
			}
			for k, want := range tc.want {
				if got := out.Extra(k); !reflect.DeepEqual(got, want) {
					t.Errorf("Extra(%q) = %#v (%T), want %#v (%T)", k, got, got, want, want)
				}
			}
		})
	}
}

func TestTokenStoreAtRest(t *testing.T) {
	rdb, prefix := testRedis(t)
	ctx := context.Background()
	f := redisstore.New(rdb, redisstore.WithPrefix(prefix))
	store, _ := f.TokenStore(testKey())
	tok := (&oauth2.Token{AccessToken: "secret-access-token", Expiry: time.Now().Add(2 * time.Second)}).
		WithExtra(map[string]any{"session": "secret-session"})
	if err := store.Save(ctx, "acct", tok); err != nil {
		t.Fatal(err)
	}
	raw, err := rdb.Get(ctx, prefix+"{acct}:token").Bytes()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"secret-access-token", "secret-session"} {
		if bytes.Contains(raw, []byte(s)) {
			t.Fatalf("value in Redis contains %q in clear", s)
		}
	}
	// Two saves of the same token seal differently: a random nonce each time.
	_ = store.Save(ctx, "acct", tok)
	raw2, _ := rdb.Get(ctx, prefix+"{acct}:token").Bytes()
	if bytes.Equal(raw, raw2) {
		t.Fatal("two seals are identical: nonce not random")
	}
	// Redis expires the key with the token.
	if ttl := rdb.PTTL(ctx, prefix+"{acct}:token").Val(); ttl <= 0 || ttl > 2*time.Second {
		t.Fatalf("PTTL = %v, want (0, 2s]", ttl)
	}
	// An expired token is not stored.
	_ = store.Save(ctx, "old", &oauth2.Token{AccessToken: "x", Expiry: time.Now().Add(-time.Second)})
	if n := rdb.Exists(ctx, prefix+"{old}:token").Val(); n != 0 {
		t.Fatal("expired token stored")
	}

	t.Run("wrong key", func(t *testing.T) {
		other, _ := f.TokenStore(bytes.Repeat([]byte{1}, 32))
		if _, err := other.Load(ctx, "acct"); !errors.Is(err, redisstore.ErrCorrupt) {
			t.Fatalf("Load with another key: %v, want ErrCorrupt", err)
		}
	})
	t.Run("tampered", func(t *testing.T) {
		bad := append([]byte(nil), raw2...)
		bad[len(bad)-20] ^= 1
		rdb.Set(ctx, prefix+"{tampered}:token", bad, time.Minute)
		if _, err := store.Load(ctx, "tampered"); !errors.Is(err, redisstore.ErrCorrupt) {
			t.Fatalf("Load tampered: %v, want ErrCorrupt", err)
		}
	})
	t.Run("moved to another key", func(t *testing.T) {
		rdb.Set(ctx, prefix+"{moved}:token", raw2, time.Minute)
		if _, err := store.Load(ctx, "moved"); !errors.Is(err, redisstore.ErrCorrupt) {
			t.Fatalf("Load moved: %v, want ErrCorrupt", err)
		}
	})
	t.Run("missing", func(t *testing.T) {
		if tok, err := store.Load(ctx, "nothing"); tok != nil || err != nil {
			t.Fatalf("Load missing = %v, %v; want nil, nil", tok, err)
		}
	})
}

func TestTokenStoreDeleteOnlyRejected(t *testing.T) {
	rdb, prefix := testRedis(t)
	ctx := context.Background()
	store, _ := redisstore.New(rdb, redisstore.WithPrefix(prefix)).TokenStore(testKey())
	fresh := &oauth2.Token{AccessToken: "fresh", Expiry: time.Now().Add(time.Minute)}
	_ = store.Save(ctx, "k", fresh)
	// A late 401 for an older token must not delete the fresh one.
	if err := store.Delete(ctx, "k", &oauth2.Token{AccessToken: "old"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := store.Load(ctx, "k"); got == nil || got.AccessToken != "fresh" {
		t.Fatalf("after Delete(old): %v, want fresh kept", got)
	}
	if err := store.Delete(ctx, "k", fresh); err != nil {
		t.Fatal(err)
	}
	if got, _ := store.Load(ctx, "k"); got != nil {
		t.Fatalf("after Delete(fresh): %v, want gone", got)
	}
}

// TestTokenStoreExtendOnlyTheSame: Extend (a sliding token's new expiry)
// rewrites the stored token only while it is the same one, also from a replica
// on a newer key ring, and only to a later expiry; a late Extend never puts back
// a token that another replica has replaced, nor one that was deleted.
func TestTokenStoreExtendOnlyTheSame(t *testing.T) {
	rdb, prefix := testRedis(t)
	ctx := context.Background()
	a, _ := redisstore.New(rdb, redisstore.WithPrefix(prefix)).TokenStore(keyOld)
	b, _ := redisstore.New(rdb, redisstore.WithPrefix(prefix)).TokenStore(keyNew, keyOld)
	rkey := prefix + "{k}:token"
	later := time.Now().Add(time.Hour).Round(0)

	if err := a.Extend(ctx, "k", &oauth2.Token{AccessToken: "tok-1", Expiry: later}); err != nil {
		t.Fatal(err)
	}
	if n := rdb.Exists(ctx, rkey).Val(); n != 0 {
		t.Fatal("Extend stored a token where there was none")
	}
	if err := a.Save(ctx, "k", &oauth2.Token{AccessToken: "tok-1", Expiry: time.Now().Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if err := b.Extend(ctx, "k", &oauth2.Token{AccessToken: "tok-1", Expiry: later}); err != nil {
		t.Fatal(err)
	}
	got, err := a.Load(ctx, "k")
	if err != nil || got == nil || got.AccessToken != "tok-1" || !got.Expiry.Equal(later) {
		t.Fatalf("after Extend: %v, %v; want tok-1 expiring at %v", got, err, later)
	}
	if ttl := rdb.PTTL(ctx, rkey).Val(); ttl <= time.Minute {
		t.Fatalf("TTL after Extend = %v, want the new expiry's (about an hour)", ttl)
	}
	// Two touches' writes landing out of order: the later expiry stays.
	if err := a.Extend(ctx, "k", &oauth2.Token{AccessToken: "tok-1", Expiry: later.Add(-10 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if got, _ := a.Load(ctx, "k"); got == nil || !got.Expiry.Equal(later) {
		t.Fatalf("after an Extend to an earlier expiry: %v, want the expiry kept at %v", got, later)
	}

	// Another replica replaced tok-1: a late Extend of tok-1 leaves tok-2.
	if err := b.Save(ctx, "k", &oauth2.Token{AccessToken: "tok-2", Expiry: time.Now().Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if err := a.Extend(ctx, "k", &oauth2.Token{AccessToken: "tok-1", Expiry: later.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if got, _ := a.Load(ctx, "k"); got == nil || got.AccessToken != "tok-2" || got.Expiry.After(later) {
		t.Fatalf("after a late Extend of tok-1: %v, want tok-2 unchanged", got)
	}
}

func TestTokenStoreLock(t *testing.T) {
	rdb, prefix := testRedis(t)
	ctx := context.Background()
	lease := 300 * time.Millisecond
	a, _ := redisstore.New(rdb, redisstore.WithPrefix(prefix), redisstore.WithLockLease(lease)).TokenStore(testKey())
	b, _ := redisstore.New(rdb, redisstore.WithPrefix(prefix), redisstore.WithLockLease(lease)).TokenStore(testKey())

	unlockA, err := a.Lock(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	// A live holder renews its lease: B cannot take the lock for 3 leases.
	wctx, cancel := context.WithTimeout(ctx, 3*lease)
	_, err = b.Lock(wctx, "k")
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("B.Lock while A holds it: %v, want DeadlineExceeded", err)
	}
	// Released by A — deleted when unlock returns, not left for its lease to
	// end — the lock goes to B.
	unlockA()
	unlockA() // a second call is harmless
	if n := rdb.Exists(ctx, prefix+"{k}:lock").Val(); n != 0 {
		t.Fatal("A's unlock left the lock in Redis")
	}
	wctx, cancel = context.WithTimeout(ctx, time.Second)
	defer cancel()
	unlockB, err := b.Lock(wctx, "k")
	if err != nil {
		t.Fatalf("B.Lock after A unlocked: %v", err)
	}
	// A's stale unlock (compare-and-delete) must not free B's lock.
	unlockA()
	if n := rdb.Exists(ctx, prefix+"{k}:lock").Val(); n != 1 {
		t.Fatal("B's lock was deleted by A's unlock")
	}
	unlockB()
	if n := rdb.Exists(ctx, prefix+"{k}:lock").Val(); n != 0 {
		t.Fatal("lock not released")
	}
}

// TestLockRenewalSurvivesABlink: a renewal that fails (Redis does not answer
// within the op timeout) does not end the renewals: the holder keeps the lock
// through the blink, and no other replica takes it while the holder lives.
func TestLockRenewalSurvivesABlink(t *testing.T) {
	rdb, prefix := testRedis(t)
	opts, err := redis.ParseURL(testRedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	proxy := newBlinker(t, opts.Addr)
	viaProxy := redis.NewClient(&redis.Options{Addr: proxy.addr, DB: opts.DB})
	t.Cleanup(func() { viaProxy.Close() })
	const lease = 1200 * time.Millisecond // renewed every 400 ms
	var logs logBuffer
	a, _ := redisstore.New(viaProxy, redisstore.WithPrefix(prefix), redisstore.WithLockLease(lease),
		redisstore.WithOpTimeout(100*time.Millisecond), redisstore.WithLogger(logs.logger())).TokenStore(testKey())
	b, _ := redisstore.New(rdb, redisstore.WithPrefix(prefix), redisstore.WithLockLease(lease)).TokenStore(testKey())
	ctx := context.Background()
	unlock, err := a.Lock(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	proxy.hold()
	for guard := time.Now().Add(10 * time.Second); !strings.Contains(logs.String(), "unreachable"); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(guard) {
			proxy.pass()
			t.Fatal("no renewal failed while Redis did not answer")
		}
	}
	proxy.pass()
	// The renewal after the failed one comes a third of a lease later, within
	// the lease; without it the lock would end within two thirds of a lease.
	wctx, cancel := context.WithTimeout(ctx, 2*lease)
	defer cancel()
	if _, err := b.Lock(wctx, "k"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("B.Lock while A holds the lock through a blink: %v, want DeadlineExceeded", err)
	}
}

// TestTokenSourceSharesThroughRedis: several Sources (replicas in one process)
// fetch once between them, through the real tokensource.
func TestTokenSourceSharesThroughRedis(t *testing.T) {
	rdb, prefix := testRedis(t)
	var logins atomicCounter
	fetch := tokensource.FetcherFunc(func(ctx context.Context) (*oauth2.Token, error) {
		n := logins.add()
		time.Sleep(20 * time.Millisecond) // a login takes a while: others pile up on the lock
		return &oauth2.Token{AccessToken: "tok-" + itoa(n), Expiry: time.Now().Add(10 * time.Minute)}, nil
	})
	var srcs []*tokensource.Source
	for range 6 {
		store, _ := redisstore.New(rdb, redisstore.WithPrefix(prefix)).TokenStore(testKey())
		s := tokensource.New(fetch, tokensource.WithStore(store, "acct"))
		t.Cleanup(func() { s.Close() })
		srcs = append(srcs, s)
	}
	errs := make(chan error, len(srcs))
	for _, s := range srcs {
		go func() {
			tok, err := s.TokenContext(context.Background())
			if err == nil && tok.AccessToken != "tok-1" {
				err = errors.New("got " + tok.AccessToken)
			}
			errs <- err
		}()
	}
	for range srcs {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n := logins.get(); n != 1 {
		t.Fatalf("logins = %d, want 1", n)
	}
}

// TestRedisOutageAndRecovery: a Redis that dies and comes back is reported once
// each way, and the store works again without being recreated.
func TestRedisOutageAndRecovery(t *testing.T) {
	own := startRedis(t)
	var logs logBuffer
	clk := clock.NewFake(time.Now())
	const retry = 50 * time.Millisecond
	f := redisstore.New(own.client(t), redisstore.WithLogger(logs.logger()), redisstore.WithRetryInterval(retry),
		redisstore.WithClock(clk))
	store, _ := f.TokenStore(testKey())
	ctx := context.Background()
	tok := &oauth2.Token{AccessToken: "a", Expiry: time.Now().Add(time.Minute)}
	if err := store.Save(ctx, "k", tok); err != nil {
		t.Fatal(err)
	}
	own.Kill()
	for range 5 {
		if _, err := store.Load(ctx, "k"); err == nil {
			t.Fatal("Load from a dead Redis succeeded")
		}
	}
	if _, err := store.Lock(ctx, "k"); !errors.Is(err, redisstore.ErrUnavailable) {
		t.Fatalf("Lock during the outage: %v, want ErrUnavailable at once", err)
	}
	if f.Available() {
		t.Fatal("Available during the outage")
	}
	startRedis(t, own.Port)
	clk.Advance(retry) // past the retry interval: Redis is tried again
	if err := store.Save(ctx, "k", tok); err != nil {
		t.Fatalf("Save after Redis came back: %v", err)
	}
	if got, err := store.Load(ctx, "k"); err != nil || got.AccessToken != "a" {
		t.Fatalf("Load after Redis came back: %v, %v", got, err)
	}
	if strings.Contains(logs.String(), "reachable again") {
		t.Fatalf("recovery announced before Redis answered for a retry interval:\n%s", logs.String())
	}
	clk.Advance(retry)
	if _, err := store.Load(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	if strings.Count(out, "redis unreachable") != 1 || strings.Count(out, "reachable again") != 1 {
		t.Fatalf("want one outage and one recovery line:\n%s", out)
	}
}
