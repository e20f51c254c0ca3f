package redisstore

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net/url"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"

	"github.com/authwire/authwire/tokensource"
)

// KeySize is the size of the key that seals tokens at rest: AES-256.
const KeySize = 32

// ErrKeySize is matched by the error of [Fleet.TokenStore] given a key that is not
// [KeySize] bytes long.
var ErrKeySize = errors.New("redisstore: token key must be 32 bytes (AES-256)")

// ErrCorrupt is matched by the error of a Load that finds a value it cannot open:
// sealed under another key, tampered with, or not written by this package. The
// token source then logs in and overwrites it.
var ErrCorrupt = errors.New("redisstore: stored token cannot be opened (wrong key or tampered)")

// TokenStore is a tokensource.Store and tokensource.Locker on Redis. Tokens are
// sealed with AES-256-GCM (a random nonce per write, the Redis key as additional
// data, so a value cannot be moved to another key) and expire in Redis with the
// token. Get one from [Fleet.TokenStore].
//
// What is stored: AccessToken, TokenType, RefreshToken, Expiry and the token's
// extras. oauth2.Token offers no way to list its extras, so the store reads them
// (read-only, by reflection) when they are a map[string]any — what
// oauth2.Token.WithExtra is normally given and what x/oauth2 itself decodes — or a
// url.Values. Values of type string, bool, any integer or float kind, and nil
// come back with their exact type (a named type such as time.Duration comes back
// as its underlying kind, int64); maps with string keys and slices come back as
// JSON does (map[string]any, []any, float64); anything else (a struct such as
// time.Time, a pointer to a struct, a func) is dropped. If a future x/oauth2 moves
// its extras, no extras are stored and a test in this package fails.
//
// A TokenStore prints as "redisstore.TokenStore{key:REDACTED}" in every format.
type TokenStore struct {
	f    *Fleet
	aead cipher.AEAD
	fp   []byte // HMAC key deriving token fingerprints for compare-and-delete
}

var (
	_ tokensource.Store  = (*TokenStore)(nil)
	_ tokensource.Locker = (*TokenStore)(nil)
)

// TokenStore returns the token store whose tokens are sealed with key, which must
// be KeySize random bytes shared by every replica (keep it in your secret
// manager, not next to the Redis address). The key is not kept: two subkeys
// derived from it (one seals, one fingerprints tokens) are.
func (f *Fleet) TokenStore(key []byte) (*TokenStore, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("%w, got %d", ErrKeySize, len(key))
	}
	block, err := aes.NewCipher(derive(key, "authwire redisstore seal v1"))
	if err != nil {
		return nil, fmt.Errorf("redisstore: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("redisstore: %w", err)
	}
	return &TokenStore{f: f, aead: aead, fp: derive(key, "authwire redisstore fingerprint v1")}, nil
}

func derive(key []byte, label string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(label))
	return m.Sum(nil)
}

// String implements fmt.Stringer without the key material.
func (s *TokenStore) String() string { return "redisstore.TokenStore{key:REDACTED}" }

// GoString implements fmt.GoStringer without the key material.
func (s *TokenStore) GoString() string { return s.String() }

// Format implements fmt.Formatter so that no verb (%v, %+v, %#v, %x...) prints
// the key material.
func (s *TokenStore) Format(st fmt.State, _ rune) { _, _ = st.Write([]byte(s.String())) }

// LogValue implements slog.LogValuer without the key material.
func (s *TokenStore) LogValue() slog.Value { return slog.StringValue(s.String()) }

// Sealed value layout: version | fingerprint | nonce | ciphertext+tag. The
// fingerprint (an HMAC of the access token under a subkey of the user's key) lets
// the compare-and-delete script check "still the rejected token" without the key.
const (
	version = 1
	fpLen   = 16
)

// record is the plaintext sealed in Redis.
type record struct {
	AccessToken  string           `json:"a"`
	TokenType    string           `json:"t,omitempty"`
	RefreshToken string           `json:"r,omitempty"`
	Expiry       time.Time        `json:"e,omitzero"`
	Extra        map[string]typed `json:"x,omitempty"`
	Values       url.Values       `json:"v,omitempty"`
}

func (s *TokenStore) fingerprint(access string) []byte {
	m := hmac.New(sha256.New, s.fp)
	m.Write([]byte(access))
	return append([]byte{version}, m.Sum(nil)[:fpLen]...)
}

func (s *TokenStore) seal(rkey string, tok *oauth2.Token, exp time.Time) ([]byte, error) {
	rec := record{AccessToken: tok.AccessToken, TokenType: tok.TokenType, RefreshToken: tok.RefreshToken, Expiry: exp}
	rec.Extra, rec.Values = extras(tok)
	plain, err := json.Marshal(rec)
	if err != nil {
		return nil, errors.New("redisstore: token cannot be encoded") // never the token itself
	}
	out := s.fingerprint(tok.AccessToken)
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("redisstore: nonce: %w", err)
	}
	out = append(out, nonce...)
	return s.aead.Seal(out, nonce, plain, []byte(rkey)), nil
}

func (s *TokenStore) open(rkey string, v []byte) (*oauth2.Token, error) {
	head := 1 + fpLen + s.aead.NonceSize()
	if len(v) < head+s.aead.Overhead() || v[0] != version {
		return nil, ErrCorrupt
	}
	plain, err := s.aead.Open(nil, v[1+fpLen:head], v[head:], []byte(rkey))
	if err != nil {
		return nil, ErrCorrupt
	}
	var rec record
	if err := json.Unmarshal(plain, &rec); err != nil {
		return nil, ErrCorrupt
	}
	tok := &oauth2.Token{AccessToken: rec.AccessToken, TokenType: rec.TokenType, RefreshToken: rec.RefreshToken, Expiry: rec.Expiry}
	switch {
	case rec.Extra != nil:
		m := make(map[string]any, len(rec.Extra))
		for k, t := range rec.Extra {
			m[k] = t.value()
		}
		tok = tok.WithExtra(m)
	case rec.Values != nil:
		tok = tok.WithExtra(rec.Values)
	}
	return tok, nil
}

// Load implements tokensource.Store.
func (s *TokenStore) Load(ctx context.Context, key string) (*oauth2.Token, error) {
	if !s.f.usable() {
		return nil, ErrUnavailable
	}
	rkey := s.f.key("token", key)
	octx, cancel := s.f.op(ctx)
	defer cancel()
	v, err := s.f.rdb.Get(octx, rkey).Bytes()
	if err = s.f.result(ctx, err); errors.Is(err, redis.Nil) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("redisstore: load: %w", err)
	}
	return s.open(rkey, v)
}

// Save implements tokensource.Store: the Redis key expires with the token. A
// token already expired is not stored.
func (s *TokenStore) Save(ctx context.Context, key string, tok *oauth2.Token) error {
	if tok == nil {
		return errors.New("redisstore: save: nil token")
	}
	exp := tok.Expiry
	if exp.IsZero() && tok.ExpiresIn > 0 {
		exp = time.Now().Add(time.Duration(tok.ExpiresIn) * time.Second)
	}
	var ttl time.Duration // zero: no expiry, like the token
	if !exp.IsZero() {
		if ttl = time.Until(exp); ttl < time.Millisecond {
			return nil
		}
	}
	if !s.f.usable() {
		return ErrUnavailable
	}
	rkey := s.f.key("token", key)
	v, err := s.seal(rkey, tok, exp)
	if err != nil {
		return err
	}
	octx, cancel := s.f.op(ctx)
	defer cancel()
	if err := s.f.result(ctx, s.f.rdb.Set(octx, rkey, v, ttl).Err()); err != nil {
		return fmt.Errorf("redisstore: save: %w", err)
	}
	return nil
}

// delScript deletes KEYS[1] only if its value starts with ARGV[1] (the version
// and fingerprint of the rejected token).
var delScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, string.len(ARGV[1])) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`)

// Delete implements tokensource.Store: it removes the stored token only if it is
// still rejected, in one atomic script, so a replica that saw a 401 never deletes
// the fresh token another replica has just saved.
func (s *TokenStore) Delete(ctx context.Context, key string, rejected *oauth2.Token) error {
	if rejected == nil {
		return nil
	}
	if !s.f.usable() {
		return ErrUnavailable
	}
	octx, cancel := s.f.op(ctx)
	defer cancel()
	err := delScript.Run(octx, s.f.rdb, []string{s.f.key("token", key)}, s.fingerprint(rejected.AccessToken)).Err()
	if err := s.f.result(ctx, err); err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("redisstore: delete: %w", err)
	}
	return nil
}

var (
	// unlockScript releases a lock only if it still holds our fencing value.
	unlockScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`)
	// renewScript extends a lock's lease only if it still holds our value.
	renewScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`)
)

// Lock implements tokensource.Locker: one replica at a time refreshes the token
// under key. The lock is a Redis key set with SET NX PX and a random fencing value;
// while the holder lives a goroutine renews the lease, so a slow login is not
// joined by a second one, and a holder that dies loses the lock when its lease
// runs out. Waiters poll with a growing, jittered interval until ctx is done.
// An error (Redis unreachable) tells the token source to log in by itself.
func (s *TokenStore) Lock(ctx context.Context, key string) (func(), error) {
	return s.f.lock(ctx, s.f.key("lock", key))
}

// lock takes the Redis lock rkey (see [TokenStore.Lock]).
func (f *Fleet) lock(ctx context.Context, rkey string) (func(), error) {
	if !f.usable() {
		return nil, ErrUnavailable
	}
	fence := newFence()
	wait := 2 * time.Millisecond
	for {
		octx, cancel := f.op(ctx)
		ok, err := f.rdb.SetNX(octx, rkey, fence, f.lease).Result()
		cancel()
		if err = f.result(ctx, err); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("redisstore: lock: %w", err)
		}
		if ok {
			return f.holdLock(rkey, fence), nil
		}
		t := time.NewTimer(wait/2 + mrand.N(wait))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
		wait = min(2*wait, 100*time.Millisecond)
	}
}

// holdLock renews the lease of a held lock until the returned unlock is called;
// unlock stops the renewal and releases the lock by compare-and-delete.
func (f *Fleet) holdLock(rkey, fence string) func() {
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(f.lease / 3)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				ctx, cancel := f.op(context.Background())
				err := renewScript.Run(ctx, f.rdb, []string{rkey}, fence, f.lease.Milliseconds()).Err()
				cancel()
				if f.result(nil, err) != nil && !errors.Is(err, redis.Nil) {
					return // Redis is gone: the lease will end by itself
				}
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(stop)
			<-done
			ctx, cancel := f.op(context.Background())
			defer cancel()
			f.result(nil, unlockScript.Run(ctx, f.rdb, []string{rkey}, fence).Err())
		})
	}
}

func newFence() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}
