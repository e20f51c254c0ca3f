package redisstore_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/authwire/authwire/redisstore"
	"github.com/authwire/authwire/tokensource"
)

var (
	keyOld = bytes.Repeat([]byte{0x01}, redisstore.KeySize)
	keyNew = bytes.Repeat([]byte{0x02}, redisstore.KeySize)
)

const undecryptable = "sealed with keys this replica does not have"

// TestTokenStoreKeyRing: a ring seals for all its keys and opens with any; a
// value only an older key opens is re-sealed for the whole ring at once.
func TestTokenStoreKeyRing(t *testing.T) {
	onEachRedis(t, func(t *testing.T, url string) {
		rdb, prefix := testRedisAt(t, url)
		ctx := context.Background()
		var logs logBuffer
		store := func(keys ...[]byte) *redisstore.TokenStore {
			s, err := redisstore.New(rdb, redisstore.WithPrefix(prefix), redisstore.WithLogger(logs.logger())).TokenStore(keys[0], keys[1:]...)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		both, old, fresh := store(keyNew, keyOld), store(keyOld), store(keyNew)
		load := func(s *redisstore.TokenStore) (string, error) {
			tok, err := s.Load(ctx, "acct")
			if tok == nil {
				return "", err
			}
			return tok.AccessToken, err
		}
		save := func(s *redisstore.TokenStore, access string) {
			if err := s.Save(ctx, "acct", &oauth2.Token{AccessToken: access, Expiry: time.Now().Add(time.Minute)}); err != nil {
				t.Fatal(err)
			}
		}
		// [new, old] writes: [old] and [new] replicas both read it.
		save(both, "a")
		for name, s := range map[string]*redisstore.TokenStore{"[old]": old, "[new]": fresh} {
			if got, err := load(s); got != "a" || err != nil {
				t.Fatalf("%s reading what [new, old] wrote: %q, %v", name, got, err)
			}
		}
		// [old] writes: [new, old] reads it with the old key and re-seals it,
		// after which a [new]-only replica reads it too.
		save(old, "b")
		if got, err := load(both); got != "b" || err != nil {
			t.Fatalf("[new, old] reading what [old] wrote: %q, %v", got, err)
		}
		if got, err := load(fresh); got != "b" || err != nil {
			t.Fatalf("[new] after [new, old] re-sealed: %q, %v", got, err)
		}
		if strings.Contains(logs.String(), undecryptable) {
			t.Fatalf("warning while the rings overlap:\n%s", logs.String())
		}
		// Delete by any ring that shares a key with the writer.
		if err := old.Delete(ctx, "acct", &oauth2.Token{AccessToken: "b"}); err != nil {
			t.Fatal(err)
		}
		if got, _ := load(both); got != "" {
			t.Fatalf("[old] could not delete the rejected token sealed by [new, old]: %q", got)
		}
		// [old] writes, [new] alone cannot read: ErrCorrupt, one warning for many reads.
		save(old, "c")
		for range 10 {
			if _, err := load(fresh); !errors.Is(err, redisstore.ErrCorrupt) {
				t.Fatalf("[new] reading what [old] wrote: %v, want ErrCorrupt", err)
			}
		}
		if n := strings.Count(logs.String(), undecryptable); n != 1 {
			t.Fatalf("%d warnings for 10 unreadable loads, want 1:\n%s", n, logs.String())
		}
	})
}

// replica is one in-process replica: its own Redis client, fleet, store and
// token source.
type replica struct {
	src  *tokensource.Source
	logs *logBuffer
}

// TestRollingKeyRotation is a rolling deploy of a new seal key across a fleet
// that keeps calling through it: [old] replicas, then [new, old] beside [old],
// then all [new, old], then all [new]. The fleet logs in once per token
// lifetime throughout, and no replica ever warns about an undecryptable token.
func TestRollingKeyRotation(t *testing.T) {
	onEachRedis(t, func(t *testing.T, url string) {
		_, prefix := testRedisAt(t, url)
		const lifetime = 400 * time.Millisecond
		var logins atomic.Int64
		fetch := tokensource.FetcherFunc(func(ctx context.Context) (*oauth2.Token, error) {
			n := logins.Add(1)
			return &oauth2.Token{AccessToken: "tok-" + itoa(int(n)), Expiry: time.Now().Add(lifetime)}, nil
		})
		start := func(keys ...[]byte) *replica {
			rdb, err := redisstore.ParseURL(url)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { rdb.Close() })
			r := &replica{logs: &logBuffer{}}
			store, err := redisstore.New(rdb, redisstore.WithPrefix(prefix), redisstore.WithLogger(r.logs.logger())).
				TokenStore(keys[0], keys[1:]...)
			if err != nil {
				t.Fatal(err)
			}
			r.src = tokensource.New(fetch, tokensource.WithStore(store, "acct"),
				tokensource.WithEarlyRefresh(100*time.Millisecond, 20*time.Millisecond), tokensource.WithExpirySkew(20*time.Millisecond))
			t.Cleanup(func() { r.src.Close() })
			return r
		}
		phases := []struct {
			name  string
			rings [][][]byte
		}{
			{"[old]", [][][]byte{{keyOld}, {keyOld}}},
			{"[new, old] beside [old]", [][][]byte{{keyNew, keyOld}, {keyOld}, {keyNew, keyOld}, {keyOld}}},
			{"all [new, old]", [][][]byte{{keyNew, keyOld}, {keyNew, keyOld}}},
			{"all [new]", [][][]byte{{keyNew}, {keyNew}}},
		}
		const phaseFor = 2 * lifetime
		var all []*replica
		began := time.Now()
		for _, ph := range phases {
			var rs []*replica
			for _, ring := range ph.rings {
				rs = append(rs, start(ring...))
			}
			all = append(all, rs...)
			end := time.Now().Add(phaseFor)
			var wg sync.WaitGroup
			for _, r := range rs {
				wg.Go(func() {
					for time.Now().Before(end) {
						if _, err := r.src.TokenContext(context.Background()); err != nil {
							t.Errorf("%s: %v", ph.name, err)
							return
						}
						time.Sleep(5 * time.Millisecond) // request spacing
					}
				})
			}
			wg.Wait()
		}
		took := time.Since(began)
		n := logins.Load()
		t.Logf("%d logins in %v of rolling deploy (token lifetime %v, refreshed up to 140 ms early)", n, took.Round(time.Millisecond), lifetime)
		// One per (lifetime - early refresh - skew), plus the first, plus
		// scheduling noise; replicas that did not share would log in hundreds
		// of times.
		if limit := int64(took/(lifetime-150*time.Millisecond)) + 2; n > limit {
			t.Errorf("%d logins, want at most %d (one per token lifetime)", n, limit)
		}
		for i, r := range all {
			if strings.Contains(r.logs.String(), "cannot be opened") || strings.Contains(r.logs.String(), undecryptable) {
				t.Errorf("replica %d warned during the rotation:\n%s", i, r.logs.String())
			}
		}
	})
}

// TestDifferentKeysWarnOnce: two replicas with different seal keys (a
// misconfiguration) log in against each other; each says so once, not once
// per request.
func TestDifferentKeysWarnOnce(t *testing.T) {
	rdb, prefix := testRedis(t)
	var logins atomic.Int64
	fetch := tokensource.FetcherFunc(func(ctx context.Context) (*oauth2.Token, error) {
		n := logins.Add(1)
		return &oauth2.Token{AccessToken: "tok-" + itoa(int(n)), Expiry: time.Now().Add(time.Hour)}, nil
	})
	var logsA, logsB logBuffer
	storeA, _ := redisstore.New(rdb, redisstore.WithPrefix(prefix), redisstore.WithLogger(logsA.logger())).TokenStore(keyOld)
	storeB, _ := redisstore.New(rdb, redisstore.WithPrefix(prefix), redisstore.WithLogger(logsB.logger())).TokenStore(keyNew)
	ctx := context.Background()
	// Each cycle: a rejects its token and re-logs in, then b does.
	for range 6 {
		for _, s := range []*redisstore.TokenStore{storeA, storeB} {
			src := tokensource.New(fetch, tokensource.WithStore(s, "acct"))
			if _, err := src.TokenContext(ctx); err != nil {
				t.Fatal(err)
			}
			src.Close()
		}
	}
	t.Logf("12 fresh sources alternating between two keys: %d logins", logins.Load())
	for name, l := range map[string]*logBuffer{"A": &logsA, "B": &logsB} {
		if n := strings.Count(l.String(), undecryptable); n != 1 {
			t.Errorf("replica %s: %d warnings, want exactly 1:\n%s", name, n, l.String())
		}
	}
}
