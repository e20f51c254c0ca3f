package tokensource

import (
	"context"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// Store shares tokens beyond one [Source]: between Sources in one process
// ([MemoryStore]) or between processes (redisstore). Errors are never fatal: a
// Source that cannot reach its Store logs in by itself.
type Store interface {
	// Load returns the token stored under key, or (nil, nil) when there is none.
	Load(ctx context.Context, key string) (*oauth2.Token, error)
	// Save stores tok under key until tok.Expiry.
	Save(ctx context.Context, key string, tok *oauth2.Token) error
	// Delete removes the token under key only if it is still rejected (same
	// AccessToken): a replica must not delete the fresh token another one saved.
	Delete(ctx context.Context, key string, rejected *oauth2.Token) error
}

// Extender is implemented by a [Store] that can republish a token only while it
// is still the one stored. [Source.Touch] uses it to move a sliding token's
// stored expiry: its write runs in the background, and may run after another
// replica has replaced the token (the vendor revoked it, someone logged in
// again); a Save would then put the old token back, and every replica would load
// it, be rejected and log in again. A Store without Extend gets a Save, and that
// race.
type Extender interface {
	// Extend stores tok under key only if the token stored there has the same
	// AccessToken and an earlier expiry (two touches' writes may land out of
	// order); otherwise, and when there is none, it does nothing.
	Extend(ctx context.Context, key string, tok *oauth2.Token) error
}

// Locker is implemented by a [Store] that can make one holder at a time fetch for a
// key, so that many replicas log in once. unlock must be called exactly once.
type Locker interface {
	Lock(ctx context.Context, key string) (unlock func(), err error)
}

// MemoryStore is an in-process [Store], [Extender] and [Locker]; the zero value
// is ready. It lets several Sources (say, one per client) share one login.
type MemoryStore struct {
	mu     sync.Mutex
	tokens map[string]*oauth2.Token
	locks  map[string]chan struct{}
}

// Load implements [Store].
func (m *MemoryStore) Load(_ context.Context, key string) (*oauth2.Token, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.tokens[key], nil
}

// Save implements [Store].
func (m *MemoryStore) Save(_ context.Context, key string, tok *oauth2.Token) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.tokens == nil {
		m.tokens = make(map[string]*oauth2.Token)
	}
	m.tokens[key] = tok
	return nil
}

// Delete implements [Store].
func (m *MemoryStore) Delete(_ context.Context, key string, rejected *oauth2.Token) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if t, ok := m.tokens[key]; ok && rejected != nil && t.AccessToken == rejected.AccessToken {
		delete(m.tokens, key)
	}
	return nil
}

// Extend implements [Extender].
func (m *MemoryStore) Extend(_ context.Context, key string, tok *oauth2.Token) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tokens[key]
	if ok && tok != nil && t.AccessToken == tok.AccessToken && LaterExpiry(tok.Expiry, t.Expiry) {
		m.tokens[key] = tok
	}
	return nil
}

// LaterExpiry reports whether expiry a is later than b, the zero time meaning never:
// the test an [Extender] applies.
func LaterExpiry(a, b time.Time) bool {
	return !b.IsZero() && (a.IsZero() || a.After(b))
}

// Lock implements [Locker].
func (m *MemoryStore) Lock(ctx context.Context, key string) (func(), error) {
	for {
		m.mu.Lock()
		if m.locks == nil {
			m.locks = make(map[string]chan struct{})
		}
		held, busy := m.locks[key]
		if !busy {
			ch := make(chan struct{})
			m.locks[key] = ch
			m.mu.Unlock()
			var once sync.Once
			return func() {
				once.Do(func() {
					m.mu.Lock()
					delete(m.locks, key)
					m.mu.Unlock()
					close(ch)
				})
			}, nil
		}
		m.mu.Unlock()
		select {
		case <-held:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
