package redisstore

import (
	"cmp"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/attribute"
	"golang.org/x/oauth2"

	"github.com/authwire/authwire/internal/telemetry"
	"github.com/authwire/authwire/tokensource"
)

// KeySize is the size of the key that seals tokens at rest: AES-256.
const KeySize = 32

// ErrKeySize is matched by the error of [Fleet.TokenStore] given a key that is not
// [KeySize] bytes long.
var ErrKeySize = errors.New("redisstore: token key must be 32 bytes (AES-256)")

// ErrCorrupt is matched by the error of a Load that finds a value it cannot
// open: sealed only under keys this store's ring does not hold, tampered with,
// or not written by this package. The token source then logs in and overwrites
// it. Each cause is logged once per process as a warning (through [WithLogger])
// and every occurrence is counted in the authwire.store.undecryptable metric.
var ErrCorrupt = errors.New("redisstore: stored token cannot be opened (unknown key or tampered)")

// maxKeys bounds a key ring: every write seals the token once per key.
const maxKeys = 8

// TokenStore is a tokensource.Store, tokensource.Extender and tokensource.Locker
// on Redis. Tokens are sealed with AES-256-GCM (a random nonce per write, the
// Redis key as additional data, so a value cannot be moved to another key) and
// expire in Redis with the token. Get one from [Fleet.TokenStore].
//
// Seal keys rotate with a key ring, newest first. A write seals the token under
// every key of the ring (the newest first), so that a replica that does not have
// the newest key yet — a rolling deploy — still reads what a replica that does
// wrote; a read opens it with the first key of the ring that it was sealed
// with. A value that a replica could open only with an older key is re-sealed
// with its whole ring at once (if no one has written it since), so that
// replicas already on the new key alone can read it. To rotate: deploy
// [new, old] everywhere, then [new]; a replica on [old] keeps working during
// the first step, and only values written while it runs still carry the old
// key.
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
	ring []sealKey // newest first
}

// sealKey is what is kept of one key of the ring: subkeys derived from it, and
// its public identifier.
type sealKey struct {
	id   [idLen]byte // names the key in sealed values and logs; reveals nothing of it
	aead cipher.AEAD
	fp   []byte // HMAC key deriving token fingerprints for compare-and-delete
}

var (
	_ tokensource.Store    = (*TokenStore)(nil)
	_ tokensource.Extender = (*TokenStore)(nil)
	_ tokensource.Locker   = (*TokenStore)(nil)
)

// TokenStore returns the token store whose tokens are sealed with key, each
// KeySize random bytes shared by the replicas (keep them in your secret
// manager, not next to the Redis address). older are the keys of the ring that
// are being rotated out, newest first: values sealed with them are still read,
// and re-sealed. The keys are not kept: subkeys derived from them (one seals,
// one fingerprints tokens, one names the key) are.
func (f *Fleet) TokenStore(key []byte, older ...[]byte) (*TokenStore, error) {
	keys := append([][]byte{key}, older...)
	if len(keys) > maxKeys {
		return nil, fmt.Errorf("redisstore: at most %d seal keys, got %d", maxKeys, len(keys))
	}
	s := &TokenStore{f: f}
	for i, k := range keys {
		if len(k) != KeySize {
			return nil, fmt.Errorf("%w, key %d of the ring is %d", ErrKeySize, i, len(k))
		}
		block, err := aes.NewCipher(derive(k, "authwire redisstore seal v2"))
		if err != nil {
			return nil, fmt.Errorf("redisstore: %w", err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("redisstore: %w", err)
		}
		sk := sealKey{aead: aead, fp: derive(k, "authwire redisstore fingerprint v2")}
		copy(sk.id[:], derive(k, "authwire redisstore key id v2"))
		if !slices.ContainsFunc(s.ring, func(o sealKey) bool { return o.id == sk.id }) {
			s.ring = append(s.ring, sk)
		}
	}
	return s, nil
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

// Sealed value layout:
//
//	version (1) | n (1) | n × fingerprint (16) | n × [key id (8) | nonce (12) | len (4) | ciphertext+tag]
//
// one fingerprint and one sealed copy per key of the writer's ring, newest
// first. A fingerprint (an HMAC of the access token under a subkey of one key)
// lets the compare-and-delete script check "still the rejected token" without
// any key.
const (
	version = 2
	fpLen   = 16
	idLen   = 8
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

func (k *sealKey) fingerprint(access string) []byte {
	m := hmac.New(sha256.New, k.fp)
	m.Write([]byte(access))
	return m.Sum(nil)[:fpLen]
}

// fingerprints returns the fingerprints of access under every key of the ring.
func (s *TokenStore) fingerprints(access string) []any {
	out := make([]any, len(s.ring))
	for i := range s.ring {
		out[i] = s.ring[i].fingerprint(access)
	}
	return out
}

func (s *TokenStore) seal(rkey string, tok *oauth2.Token, exp time.Time) ([]byte, error) {
	rec := record{AccessToken: tok.AccessToken, TokenType: tok.TokenType, RefreshToken: tok.RefreshToken, Expiry: exp}
	rec.Extra, rec.Values = extras(tok)
	plain, err := json.Marshal(rec)
	if err != nil {
		return nil, errors.New("redisstore: token cannot be encoded") // never the token itself
	}
	return s.sealPlain(rkey, tok.AccessToken, plain)
}

func (s *TokenStore) sealPlain(rkey, access string, plain []byte) ([]byte, error) {
	out := []byte{version, byte(len(s.ring))}
	for i := range s.ring {
		out = append(out, s.ring[i].fingerprint(access)...)
	}
	for i := range s.ring {
		k := &s.ring[i]
		out = append(out, k.id[:]...)
		nonce := make([]byte, k.aead.NonceSize())
		if _, err := rand.Read(nonce); err != nil {
			return nil, fmt.Errorf("redisstore: nonce: %w", err)
		}
		out = append(out, nonce...)
		out = binary.BigEndian.AppendUint32(out, uint32(len(plain)+k.aead.Overhead()))
		out = k.aead.Seal(out, nonce, plain, ad(rkey, k.id))
	}
	return out, nil
}

// ad is the additional data of a sealed copy: the Redis key and the key id.
func ad(rkey string, id [idLen]byte) []byte { return append([]byte(rkey), id[:]...) }

// opened is what open found.
type opened struct {
	tok    *oauth2.Token
	access string
	plain  []byte
	older  bool     // opened with a key other than the newest
	ids    []string // on failure: the key ids the value was sealed with
	bad    bool     // on failure: sealed with a key we have, yet does not open
}

func (s *TokenStore) open(rkey string, v []byte) (opened, error) {
	var o opened
	const nonceLen = 12
	if len(v) < 2 || v[0] != version {
		o.bad = true
		return o, ErrCorrupt
	}
	n := int(v[1])
	rest := v[2:]
	if n == 0 || len(rest) < n*fpLen {
		o.bad = true
		return o, ErrCorrupt
	}
	rest = rest[n*fpLen:]
	type entry struct{ nonce, ct []byte }
	entries := make(map[[idLen]byte]entry, n)
	for range n {
		if len(rest) < idLen+nonceLen+4 {
			o.bad = true
			return o, ErrCorrupt
		}
		var id [idLen]byte
		copy(id[:], rest)
		nonce := rest[idLen : idLen+nonceLen]
		l := int(binary.BigEndian.Uint32(rest[idLen+nonceLen:]))
		rest = rest[idLen+nonceLen+4:]
		if l > len(rest) {
			o.bad = true
			return o, ErrCorrupt
		}
		entries[id] = entry{nonce, rest[:l]}
		o.ids = append(o.ids, hex.EncodeToString(id[:4]))
		rest = rest[l:]
	}
	for i := range s.ring {
		k := &s.ring[i]
		e, ok := entries[k.id]
		if !ok {
			continue
		}
		plain, err := k.aead.Open(nil, e.nonce, e.ct, ad(rkey, k.id))
		if err != nil {
			o.bad = true
			continue
		}
		var rec record
		if err := json.Unmarshal(plain, &rec); err != nil {
			o.bad = true
			continue
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
		return opened{tok: tok, access: rec.AccessToken, plain: plain, older: i > 0}, nil
	}
	return o, ErrCorrupt
}

// unreadable reports a value that no key of the ring opened: counted every
// time, logged once per process and cause (each set of keys it was sealed with
// that this ring lacks; damaged values).
func (s *TokenStore) unreadable(key string, o opened) {
	reason := "unknown_key"
	if o.bad {
		reason = "corrupt"
	}
	telemetry.Get().Undecryptable.Add(context.Background(), 1, telemetry.Attrs(attribute.String("reason", reason)))
	have := make([]string, len(s.ring))
	for i := range s.ring {
		have[i] = hex.EncodeToString(s.ring[i].id[:4])
	}
	if o.bad {
		s.f.warnOnce("redisstore: a shared token cannot be opened (damaged, or not written by this package); this replica logs in and overwrites it",
			slog.String("token", key), slog.String("sealed_with", strings.Join(o.ids, ",")))
		return
	}
	sealed := strings.Join(o.ids, ",")
	msg := "redisstore: a shared token is sealed with keys this replica does not have; replicas with different seal keys log in against each other: give every replica the same key ring"
	if s.f.firstTime("unknown key " + sealed) {
		s.f.log.LogAttrs(context.Background(), slog.LevelWarn, msg,
			slog.String("token", key), slog.String("sealed_with", sealed), slog.String("have", strings.Join(have, ",")))
	}
}

// resealScript replaces KEYS[1] by ARGV[2], keeping its TTL, only if it still
// holds ARGV[1].
var resealScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
end
return 0`)

// Load implements tokensource.Store. A value opened with an older key of the
// ring is re-sealed with the whole ring at once, unless another replica has
// written it since.
func (s *TokenStore) Load(ctx context.Context, key string) (*oauth2.Token, error) {
	if !s.f.usable() {
		return nil, ErrUnavailable
	}
	rkey := s.f.key(key, "token")
	var v []byte
	err := s.f.do(ctx, func(ctx context.Context) error {
		var err error
		v, err = s.f.rdb.Get(ctx, rkey).Bytes()
		return err
	})
	if errors.Is(err, redis.Nil) {
		return nil, nil
	} else if err != nil {
		return nil, opErr("load", err)
	}
	o, err := s.open(rkey, v)
	if err != nil {
		s.unreadable(key, o)
		return nil, err
	}
	if o.older && len(s.ring) > 1 {
		if nv, err := s.sealPlain(rkey, o.access, o.plain); err == nil {
			// Best effort: a failure leaves the value readable as it was.
			_ = s.f.do(ctx, func(ctx context.Context) error {
				return resealScript.Run(ctx, s.f.rdb, []string{rkey}, v, nv).Err()
			})
		}
	}
	return o.tok, nil
}

// Save implements tokensource.Store: the Redis key expires with the token. A
// token already expired is not stored.
func (s *TokenStore) Save(ctx context.Context, key string, tok *oauth2.Token) error {
	rkey, v, ttl, err := s.sealed("save", key, tok)
	if v == nil || err != nil {
		return err
	}
	if err := s.f.do(ctx, func(ctx context.Context) error { return s.f.rdb.Set(ctx, rkey, v, ttl).Err() }); err != nil {
		return opErr("save", err)
	}
	return nil
}

// sealed returns what Save and Extend (op) write for tok: the Redis key, the
// sealed value and its TTL (zero: none, like the token). v is nil for a token
// already expired, which is not written.
func (s *TokenStore) sealed(op, key string, tok *oauth2.Token) (rkey string, v []byte, ttl time.Duration, err error) {
	if tok == nil {
		return "", nil, 0, errors.New("redisstore: " + op + ": nil token")
	}
	exp := tok.Expiry
	if exp.IsZero() && tok.ExpiresIn > 0 {
		exp = time.Now().Add(time.Duration(tok.ExpiresIn) * time.Second)
	}
	if !exp.IsZero() {
		if ttl = time.Until(exp); ttl < time.Millisecond {
			return "", nil, 0, nil
		}
	}
	if !s.f.usable() {
		return "", nil, 0, ErrUnavailable
	}
	rkey = s.f.key(key, "token")
	if v, err = s.seal(rkey, tok, exp); err != nil {
		return "", nil, 0, err
	}
	return rkey, v, ttl, nil
}

// holdsLua defines holds(first): whether KEYS[1] holds a sealed token one of
// whose fingerprints is one of ARGV[first..] (a token's fingerprints under each
// key of the caller's ring).
const holdsLua = `
local function holds(first)
  local v = redis.call('GET', KEYS[1])
  if not v or string.byte(v, 1) ~= 2 then return false end
  local n = string.byte(v, 2)
  for i = 0, n - 1 do
    local fp = string.sub(v, 3 + 16 * i, 2 + 16 * (i + 1))
    for j = first, #ARGV do
      if fp == ARGV[j] then return true end
    end
  end
  return false
end
`

// delScript deletes KEYS[1] only if it holds the token fingerprinted by ARGV
// (the rejected one).
var delScript = redis.NewScript(holdsLua + `
if holds(1) then return redis.call('DEL', KEYS[1]) end
return 0`)

// extendScript sets KEYS[1] to ARGV[1], expiring in ARGV[2] ms (never when 0),
// only if it holds the token fingerprinted by ARGV[3..] and expires sooner (two
// touches' writes may land out of order: the later expiry stays).
var extendScript = redis.NewScript(holdsLua + `
if not holds(3) then return 0 end
local ttl = redis.call('PTTL', KEYS[1])
if ARGV[2] == '0' then
  if ttl < 0 then return 0 end
  return redis.call('SET', KEYS[1], ARGV[1])
end
if ttl < 0 or tonumber(ARGV[2]) <= ttl then return 0 end
return redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])`)

// Extend implements tokensource.Extender: it re-seals tok, with its new expiry,
// only if the stored token is still tok and expires sooner (by the key's
// remaining TTL), in one atomic script, so that a replica's late sliding-expiry
// write never puts back a token another replica has replaced, nor moves an
// expiry back.
func (s *TokenStore) Extend(ctx context.Context, key string, tok *oauth2.Token) error {
	rkey, v, ttl, err := s.sealed("extend", key, tok)
	if v == nil || err != nil {
		return err
	}
	args := append([]any{v, ttl.Milliseconds()}, s.fingerprints(tok.AccessToken)...)
	err = s.f.do(ctx, func(ctx context.Context) error {
		return extendScript.Run(ctx, s.f.rdb, []string{rkey}, args...).Err()
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return opErr("extend", err)
	}
	return nil
}

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
	err := s.f.do(ctx, func(ctx context.Context) error {
		return delScript.Run(ctx, s.f.rdb, []string{s.f.key(key, "token")}, s.fingerprints(rejected.AccessToken)...).Err()
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return opErr("delete", err)
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
	return s.f.lock(ctx, s.f.key(key, "lock"))
}

// lock takes the Redis lock rkey (see [TokenStore.Lock]).
func (f *Fleet) lock(ctx context.Context, rkey string) (func(), error) {
	if !f.usable() {
		return nil, ErrUnavailable
	}
	fence := newFence()
	wait := 2 * time.Millisecond
	for {
		var ok bool
		err := f.do(ctx, func(ctx context.Context) error {
			var err error
			ok, err = f.rdb.SetNX(ctx, rkey, fence, f.lease).Result()
			return err
		})
		if err != nil {
			if gone(ctx) {
				return nil, cmp.Or(ctx.Err(), context.DeadlineExceeded)
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
				// A renewal that fails is tried again at the next tick: one lost
				// to a Redis that blinked must not cost the lock while the lease
				// still runs. If Redis is gone, the lease ends by itself.
				_ = f.do(context.Background(), func(ctx context.Context) error {
					return renewScript.Run(ctx, f.rdb, []string{rkey}, fence, f.lease.Milliseconds()).Err()
				})
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(stop)
			<-done
			_ = f.do(context.Background(), func(ctx context.Context) error {
				return unlockScript.Run(ctx, f.rdb, []string{rkey}, fence).Err()
			})
		})
	}
}

func newFence() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}
