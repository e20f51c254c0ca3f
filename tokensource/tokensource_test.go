package tokensource_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/oauth2"

	"github.com/authwire/authwire/clock"
	"github.com/authwire/authwire/outcome"
	"github.com/authwire/authwire/tokensource"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// upstream is a scripted login: it counts fetches, can be gated (blocks until
// released) and issues tokens that live `life` on the fake clock.
type upstream struct {
	clk   *clock.Fake
	life  time.Duration
	n     atomic.Int32
	gate  chan struct{} // when non-nil, fetches block until it is closed
	err   error
	start chan struct{} // receives one value per fetch that started
}

func (u *upstream) Fetch(ctx context.Context) (*oauth2.Token, error) {
	n := u.n.Add(1)
	if u.start != nil {
		u.start <- struct{}{}
	}
	if u.gate != nil {
		select {
		case <-u.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if u.err != nil {
		return nil, u.err
	}
	tok := &oauth2.Token{AccessToken: fmt.Sprintf("tok-%d", n), TokenType: "Bearer"}
	if u.life > 0 {
		tok.Expiry = u.clk.Now().Add(u.life)
	}
	return tok, nil
}

func newSource(t *testing.T, u *upstream, opts ...tokensource.Option) *tokensource.Source {
	t.Helper()
	s := tokensource.New(u, append([]tokensource.Option{tokensource.WithClock(u.clk), tokensource.WithEarlyRefresh(time.Minute, 0)}, opts...)...)
	t.Cleanup(func() { s.Close() })
	return s
}

func mustToken(t *testing.T, s *tokensource.Source) *oauth2.Token {
	t.Helper()
	tok, err := s.TokenContext(context.Background())
	if err != nil {
		t.Fatalf("TokenContext: %v", err)
	}
	return tok
}

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestSingleFlightOnExpiredToken(t *testing.T) {
	u := &upstream{clk: clock.NewFake(t0), life: 10 * time.Minute}
	s := newSource(t, u)
	if got := mustToken(t, s).AccessToken; got != "tok-1" {
		t.Fatalf("first token = %q", got)
	}
	u.clk.Advance(11 * time.Minute) // expired

	const callers = 1000
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := s.TokenContext(context.Background())
			if err == nil && tok.AccessToken != "tok-2" {
				err = fmt.Errorf("got %q, want tok-2", tok.AccessToken)
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := u.n.Load(); n != 2 {
		t.Fatalf("upstream fetches = %d, want 2 (one initial, one for %d callers)", n, callers)
	}
}

func TestSingleFlightWhileFetchIsSlow(t *testing.T) {
	u := &upstream{clk: clock.NewFake(t0), life: time.Hour, gate: make(chan struct{}), start: make(chan struct{}, 10)}
	s := newSource(t, u)
	const callers = 200
	var done sync.WaitGroup
	for range callers {
		done.Add(1)
		go func() { defer done.Done(); mustToken(t, s) }()
	}
	<-u.start // the one fetch has started; everyone else joins it or hits the cache
	close(u.gate)
	done.Wait()
	if n := u.n.Load(); n != 1 {
		t.Fatalf("upstream fetches = %d, want 1", n)
	}
}

func TestEarlyRefreshNobodyWaits(t *testing.T) {
	u := &upstream{clk: clock.NewFake(t0), life: 10 * time.Minute, start: make(chan struct{}, 10)}
	s := newSource(t, u)
	old := mustToken(t, s)
	<-u.start

	u.gate = make(chan struct{}) // the refresh will block until released
	u.clk.Advance(9*time.Minute + 30*time.Second)

	// Every caller, including the one that starts the refresh, gets the still-valid
	// token while the refresh is blocked upstream.
	var wg sync.WaitGroup
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if got := mustToken(t, s); got.AccessToken != old.AccessToken {
				t.Errorf("got %q during refresh, want the old token", got.AccessToken)
			}
		}()
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(10 * time.Second): // a guard against a hang, not a timing goal
		t.Fatal("callers blocked on the background refresh")
	}
	<-u.start // exactly one refresh started
	close(u.gate)
	s.Close() // waits for the background refresh to land
	if got := mustToken(t, s).AccessToken; got != "tok-2" {
		t.Fatalf("after refresh got %q, want tok-2", got)
	}
	if n := u.n.Load(); n != 2 {
		t.Fatalf("fetches = %d, want 2", n)
	}
}

func TestInvalidateStorm(t *testing.T) {
	u := &upstream{clk: clock.NewFake(t0), life: time.Hour}
	s := newSource(t, u)
	rejected := mustToken(t, s)

	var wg sync.WaitGroup
	for range 1000 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.Invalidate(rejected)
			if got := mustToken(t, s); got.AccessToken == rejected.AccessToken {
				t.Error("got the rejected token back")
			}
		}()
	}
	wg.Wait()
	if n := u.n.Load(); n != 2 {
		t.Fatalf("fetches = %d, want 2 (one re-login for 1000 rejections)", n)
	}

	// A late rejection of the old token must not discard the fresh one.
	fresh := mustToken(t, s)
	s.Invalidate(rejected)
	if got := mustToken(t, s); got.AccessToken != fresh.AccessToken || u.n.Load() != 2 {
		t.Fatalf("late Invalidate discarded the fresh token: got %q, fetches %d", got.AccessToken, u.n.Load())
	}
	s.Invalidate(nil) // harmless
}

func TestSlidingExpiry(t *testing.T) {
	u := &upstream{clk: clock.NewFake(t0)} // the vendor states no expiry
	s := newSource(t, u, tokensource.WithSlidingExpiry(20*time.Minute), tokensource.WithEarlyRefresh(0, 0), tokensource.WithExpirySkew(0))
	tok := mustToken(t, s)
	// A call every 15 minutes for 3 hours keeps the one token alive.
	for range 12 {
		u.clk.Advance(15 * time.Minute)
		got := mustToken(t, s)
		if got.AccessToken != tok.AccessToken {
			t.Fatalf("token replaced while in use: %q", got.AccessToken)
		}
		s.Touch(got)
	}
	if n := u.n.Load(); n != 1 {
		t.Fatalf("fetches = %d, want 1", n)
	}
	// Idle for 21 minutes: dead, one new login.
	u.clk.Advance(21 * time.Minute)
	if got := mustToken(t, s).AccessToken; got != "tok-2" {
		t.Fatalf("after idle got %q, want tok-2", got)
	}
	// Touching a token that is no longer cached changes nothing.
	s.Touch(tok)
	if got := mustToken(t, s).AccessToken; got != "tok-2" {
		t.Fatalf("got %q", got)
	}
}

func TestWaiterCancellationDoesNotCancelFetch(t *testing.T) {
	u := &upstream{clk: clock.NewFake(t0), life: time.Hour, gate: make(chan struct{}), start: make(chan struct{}, 1)}
	s := newSource(t, u)

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, err := s.TokenContext(ctx); errc <- err }()
	<-u.start
	other := make(chan *oauth2.Token, 1)
	go func() { other <- mustToken(t, s) }()

	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled waiter got %v, want context.Canceled", err)
	}
	close(u.gate)
	if tok := <-other; tok.AccessToken != "tok-1" {
		t.Fatalf("other waiter got %q", tok.AccessToken)
	}
	if n := u.n.Load(); n != 1 {
		t.Fatalf("fetches = %d, want 1", n)
	}
}

func TestFailedRefreshKeepsServingAndBacksOff(t *testing.T) {
	events := make(chan tokensource.Event, 10)
	u := &upstream{clk: clock.NewFake(t0), life: 10 * time.Minute}
	s := newSource(t, u, tokensource.WithRefreshBackoff(time.Second, time.Minute),
		tokensource.WithObserver(func(e tokensource.Event) { events <- e }))
	tok := mustToken(t, s)
	<-events
	u.err = errors.New("upstream down")
	u.clk.Advance(9*time.Minute + 30*time.Second)

	mustToken(t, s) // starts a refresh, which fails
	if e := <-events; e.Err == nil || !e.Background {
		t.Fatalf("event = %+v, want a failed background refresh", e)
	}
	// Inside the backoff: the valid token is served and upstream is left alone.
	for range 50 {
		if got := mustToken(t, s); got.AccessToken != tok.AccessToken {
			t.Fatalf("got %q, want the still-valid token", got.AccessToken)
		}
	}
	if n := u.n.Load(); n != 2 {
		t.Fatalf("fetches = %d, want 2: refresh retried inside its backoff", n)
	}
	// After the backoff, a caller starts the next try.
	u.err = nil
	u.clk.Advance(2 * time.Second)
	deadline := time.Now().Add(10 * time.Second)
	for u.n.Load() < 3 && time.Now().Before(deadline) {
		mustToken(t, s) // the previous refresh goroutine may still be returning
	}
	if e := <-events; e.Err != nil {
		t.Fatalf("second refresh: %v", e.Err)
	}
	if got := mustToken(t, s).AccessToken; got != "tok-3" {
		t.Fatalf("got %q, want tok-3 (fetches %d)", got, u.n.Load())
	}
}

func TestPermanentErrorIsHeld(t *testing.T) {
	perm := &outcome.ResponseError{Vendor: "acme", StatusCode: 403, Kind: outcome.Permanent}
	u := &upstream{clk: clock.NewFake(t0), life: time.Hour, err: perm}
	s := newSource(t, u, tokensource.WithPermanentErrorHold(time.Minute))
	for range 5 {
		_, err := s.TokenContext(context.Background())
		if !errors.Is(err, perm) || !outcome.IsPermanent(err) {
			t.Fatalf("err = %v, want the permanent error", err)
		}
	}
	if n := u.n.Load(); n != 1 {
		t.Fatalf("fetches = %d, want 1: a wrong password must not become a login loop", n)
	}
	u.clk.Advance(61 * time.Second)
	u.err = nil
	if got := mustToken(t, s).AccessToken; got != "tok-2" {
		t.Fatalf("after the hold got %q", got)
	}
}

func TestSharedStoreOneLogin(t *testing.T) {
	store := &tokensource.MemoryStore{}
	u := &upstream{clk: clock.NewFake(t0), life: time.Hour}
	a := newSource(t, u, tokensource.WithStore(store, "acme"))
	b := newSource(t, u, tokensource.WithStore(store, "acme"))
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				mustToken(t, a)
			} else {
				mustToken(t, b)
			}
		}()
	}
	wg.Wait()
	if n := u.n.Load(); n != 1 {
		t.Fatalf("fetches = %d, want 1 for two sources sharing a store", n)
	}
	// A rejection seen by one source is shared: the other does not resurrect it.
	old := mustToken(t, a)
	a.Invalidate(old)
	b.Invalidate(old)
	if mustToken(t, b).AccessToken == old.AccessToken || mustToken(t, a).AccessToken == old.AccessToken {
		t.Fatal("rejected token came back")
	}
	if n := u.n.Load(); n != 2 {
		t.Fatalf("fetches = %d, want 2", n)
	}
}

// heldStore is a MemoryStore whose next call of one operation, once armed, waits
// until released: a store write or delete that runs late, as on a busy machine.
type heldStore struct {
	*tokensource.MemoryStore
	op      string // "save", "extend" or "delete"
	armed   atomic.Bool
	arrived chan struct{}
	release chan struct{}
	landed  chan struct{} // one value per Extend done
}

func newHeldStore(op string) *heldStore {
	return &heldStore{MemoryStore: &tokensource.MemoryStore{}, op: op,
		arrived: make(chan struct{}), release: make(chan struct{}), landed: make(chan struct{}, 100)}
}

func (h *heldStore) hold(op string) {
	if op == h.op && h.armed.CompareAndSwap(true, false) {
		h.arrived <- struct{}{}
		<-h.release
	}
}

func (h *heldStore) Save(ctx context.Context, key string, tok *oauth2.Token) error {
	h.hold("save")
	return h.MemoryStore.Save(ctx, key, tok)
}

func (h *heldStore) Extend(ctx context.Context, key string, tok *oauth2.Token) error {
	h.hold("extend")
	defer func() { h.landed <- struct{}{} }()
	return h.MemoryStore.Extend(ctx, key, tok)
}

func (h *heldStore) Delete(ctx context.Context, key string, rejected *oauth2.Token) error {
	h.hold("delete")
	return h.MemoryStore.Delete(ctx, key, rejected)
}

// TestLateTouchKeepsTheNewerToken: a Touch republishes the token's new expiry in
// the background. If that write runs after another replica has replaced the
// token (the vendor revoked it, the other replica logged in), it must not put
// the old token back: every replica would load it, be rejected and log in
// again.
func TestLateTouchKeepsTheNewerToken(t *testing.T) {
	ctx := context.Background()
	store := newHeldStore("extend")
	u := &upstream{clk: clock.NewFake(t0)}
	s := tokensource.New(u, tokensource.WithClock(u.clk), tokensource.WithStore(store, "acct"),
		tokensource.WithSlidingExpiry(20*time.Minute), tokensource.WithEarlyRefresh(0, 0), tokensource.WithExpirySkew(0))
	tok := mustToken(t, s)

	u.clk.Advance(5 * time.Minute)
	store.armed.Store(true)
	s.Touch(tok)
	<-store.arrived // the touch's write has started, and waits
	newer := &oauth2.Token{AccessToken: "another-replica's", Expiry: u.clk.Now().Add(20 * time.Minute)}
	if err := store.MemoryStore.Save(ctx, "acct", newer); err != nil {
		t.Fatal(err)
	}
	close(store.release)
	s.Close() // waits for the touch's write
	if got, _ := store.Load(ctx, "acct"); got == nil || got.AccessToken != newer.AccessToken {
		t.Fatalf("stored token after a late touch = %v, want the newer one kept", got)
	}

	// A touch that is not late moves the stored expiry.
	s2 := tokensource.New(u, tokensource.WithClock(u.clk), tokensource.WithStore(store.MemoryStore, "acct"),
		tokensource.WithSlidingExpiry(20*time.Minute), tokensource.WithEarlyRefresh(0, 0), tokensource.WithExpirySkew(0))
	cur := mustToken(t, s2)
	u.clk.Advance(5 * time.Minute)
	s2.Touch(cur)
	s2.Close()
	if got, _ := store.Load(ctx, "acct"); got == nil || got.AccessToken != newer.AccessToken || !got.Expiry.Equal(u.clk.Now().Add(20*time.Minute)) {
		t.Fatalf("stored token after a touch = %v, want %q expiring at %v", got, newer.AccessToken, u.clk.Now().Add(20*time.Minute))
	}
}

// TestTouchWritesKeepTheLatestExpiry: two touches' background writes that land
// out of order leave the later expiry in the store.
func TestTouchWritesKeepTheLatestExpiry(t *testing.T) {
	store := newHeldStore("extend")
	u := &upstream{clk: clock.NewFake(t0)}
	s := newSource(t, u, tokensource.WithStore(store, "acct"), tokensource.WithSlidingExpiry(20*time.Minute),
		tokensource.WithEarlyRefresh(0, 0), tokensource.WithExpirySkew(0))
	tok := mustToken(t, s)
	u.clk.Advance(5 * time.Minute)
	store.armed.Store(true)
	s.Touch(tok)
	<-store.arrived // the first touch's write waits
	u.clk.Advance(2 * time.Minute)
	s.Touch(mustToken(t, s))
	<-store.landed // the second touch's write is done
	close(store.release)
	<-store.landed
	want := u.clk.Now().Add(20 * time.Minute)
	if got, _ := store.Load(context.Background(), "acct"); got == nil || !got.Expiry.Equal(want) {
		t.Fatalf("stored token = %v, want the latest touch's expiry %v", got, want)
	}
}

// TestIdleReplicaTakesTheSlidTokenFromTheStore: replica A keeps a sliding token
// alive and moves its stored expiry; replica B, idle, finds its own copy expired
// and takes the stored one, whose expiry another replica moved on, instead of
// logging in again.
func TestIdleReplicaTakesTheSlidTokenFromTheStore(t *testing.T) {
	store := &tokensource.MemoryStore{}
	u := &upstream{clk: clock.NewFake(t0)}
	opts := []tokensource.Option{tokensource.WithStore(store, "acct"), tokensource.WithSlidingExpiry(20 * time.Minute),
		tokensource.WithEarlyRefresh(0, 0), tokensource.WithExpirySkew(0)}
	a := newSource(t, u, opts...)
	b := newSource(t, u, opts...)
	tok := mustToken(t, a)
	mustToken(t, b) // from the store
	u.clk.Advance(15 * time.Minute)
	a.Touch(tok)
	a.Close()                      // waits for the touch's write
	u.clk.Advance(6 * time.Minute) // B's copy has expired; the stored one lives 14 minutes more
	if got := mustToken(t, b); got.AccessToken != tok.AccessToken || u.n.Load() != 1 {
		t.Fatalf("B got %q after %d logins, want %q from the store and 1 login", got.AccessToken, u.n.Load(), tok.AccessToken)
	}
}

// TestSecondRejectionDoesNotReloadTheRejectedToken: two requests see the same
// token rejected. The first Invalidate's delete from the store is still on its
// way when the second request's re-authentication misses: it must log in, not
// take the rejected token back from the store.
func TestSecondRejectionDoesNotReloadTheRejectedToken(t *testing.T) {
	store := newHeldStore("delete")
	u := &upstream{clk: clock.NewFake(t0), life: time.Hour}
	s := newSource(t, u, tokensource.WithStore(store, "acct"))
	rejected := mustToken(t, s)
	store.armed.Store(true)
	done := make(chan struct{})
	go func() { s.Invalidate(rejected); close(done) }()
	<-store.arrived // dropped locally; the delete from the store waits
	s.Invalidate(rejected)
	got := mustToken(t, s)
	close(store.release)
	<-done
	if got.AccessToken == rejected.AccessToken {
		t.Fatalf("the re-authentication got the rejected token %q back from the store", got.AccessToken)
	}
}

// TestNewTokenIsStoredBeforeItIsServed: a fresh token is in the store before any
// caller gets it, so that if the vendor rejects it at once, Invalidate deletes it
// there and no late write puts it back.
func TestNewTokenIsStoredBeforeItIsServed(t *testing.T) {
	store := newHeldStore("save")
	u := &upstream{clk: clock.NewFake(t0), life: time.Hour}
	s := newSource(t, u, tokensource.WithStore(store, "acct"))
	release := sync.OnceFunc(func() { close(store.release) })
	defer release() // before the Source's Close, which waits for the login
	store.armed.Store(true)
	first := make(chan *oauth2.Token, 1)
	go func() { first <- mustToken(t, s) }()
	<-store.arrived // logged in; the write to the store waits
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	if tok, err := s.TokenContext(gone); err == nil {
		t.Fatalf("%q served before it was stored", tok.AccessToken)
	}
	release()
	got := <-first
	if stored, _ := store.Load(context.Background(), "acct"); stored == nil || stored.AccessToken != got.AccessToken {
		t.Fatalf("stored %v, want %q", stored, got.AccessToken)
	}
}

// TestTouchDoesNotUndoInvalidate: a Touch (a success with the token) that
// republishes the entry while Invalidate (a rejection of it) is dropping it must
// not leave the rejected token cached. The two meet in a window of a few
// instructions, so this tries many times; before the fix it failed within about
// 7,000 tries.
func TestTouchDoesNotUndoInvalidate(t *testing.T) {
	u := &upstream{clk: clock.NewFake(t0)}
	s := newSource(t, u, tokensource.WithSlidingExpiry(20*time.Minute), tokensource.WithEarlyRefresh(0, 0), tokensource.WithExpirySkew(0))
	for i := range 20000 {
		tok := mustToken(t, s)
		u.clk.Advance(2 * time.Second)
		var wg sync.WaitGroup
		wg.Go(func() { runtime.Gosched(); s.Touch(tok) })
		wg.Go(func() { runtime.Gosched(); s.Invalidate(tok) })
		wg.Wait()
		if got := mustToken(t, s); got.AccessToken == tok.AccessToken {
			t.Fatalf("try %d: the rejected token %q is still served", i, got.AccessToken)
		}
	}
}

// TestNoLoginWhenTheLockWaitRunsOut: a fetch that cannot get the store's lock
// within its timeout (another replica is logging in, or died holding it) fails
// without logging in, even through a Fetcher that ignores its context: a login
// then would be without the lock, and past the fetch's time.
func TestNoLoginWhenTheLockWaitRunsOut(t *testing.T) {
	store := &tokensource.MemoryStore{}
	unlock, err := store.Lock(context.Background(), "acct") // another replica holds it
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	var logins atomic.Int32
	fetch := tokensource.FetcherFunc(func(context.Context) (*oauth2.Token, error) {
		logins.Add(1)
		return &oauth2.Token{AccessToken: "tok"}, nil
	})
	s := tokensource.New(fetch, tokensource.WithStore(store, "acct"), tokensource.WithFetchTimeout(20*time.Millisecond))
	defer s.Close()
	if _, err := s.TokenContext(context.Background()); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("TokenContext while the lock is held past the fetch timeout: %v, want DeadlineExceeded", err)
	}
	if n := logins.Load(); n != 0 {
		t.Fatalf("%d logins without the lock, want none", n)
	}
}

func TestCloseStopsBackgroundWork(t *testing.T) {
	u := &upstream{clk: clock.NewFake(t0), life: 10 * time.Minute, start: make(chan struct{}, 10)}
	s := tokensource.New(u, tokensource.WithClock(u.clk), tokensource.WithEarlyRefresh(time.Minute, 0))
	mustToken(t, s)
	<-u.start
	u.gate = make(chan struct{}) // never released: only Close can end the refresh
	u.clk.Advance(9*time.Minute + 30*time.Second)
	mustToken(t, s) // starts the refresh
	<-u.start
	s.Close()
	goleak.VerifyNone(t, goleak.IgnoreCurrent())
	if _, err := s.TokenContext(context.Background()); err != nil {
		t.Fatalf("cached token not served after Close: %v", err)
	}
	u.clk.Advance(time.Hour)
	if _, err := s.TokenContext(context.Background()); !errors.Is(err, tokensource.ErrClosed) {
		t.Fatalf("fetch after Close: %v, want ErrClosed", err)
	}
}

func TestReuseAsOAuth2TokenSource(t *testing.T) {
	u := &upstream{clk: clock.NewFake(t0), life: time.Hour}
	var ts oauth2.TokenSource = newSource(t, u)
	tok, err := ts.Token()
	if err != nil || tok.AccessToken != "tok-1" {
		t.Fatalf("Token() = %v, %v", tok, err)
	}
}

// TestOAuth2Adapters: FromOAuth2 and ToOAuth2 pass tokens and errors through
// unchanged, and ToOAuth2 fetches on every call (it is no cache).
func TestOAuth2Adapters(t *testing.T) {
	errLogin := errors.New("login refused")
	var fetches atomic.Int32
	var fail atomic.Bool
	login := tokensource.FetcherFunc(func(ctx context.Context) (*oauth2.Token, error) {
		fetches.Add(1)
		if fail.Load() {
			return nil, errLogin
		}
		return &oauth2.Token{AccessToken: "tok"}, nil
	})
	round := tokensource.FromOAuth2(tokensource.ToOAuth2(login))
	for i := range 2 {
		tok, err := round.Fetch(context.Background())
		if err != nil || tok.AccessToken != "tok" {
			t.Fatalf("fetch %d = %v, %v", i, tok, err)
		}
	}
	if n := fetches.Load(); n != 2 {
		t.Fatalf("%d fetches for 2 calls, want 2", n)
	}
	fail.Store(true)
	if _, err := tokensource.ToOAuth2(login).Token(); !errors.Is(err, errLogin) {
		t.Fatalf("err = %v, want the login's", err)
	}
}
