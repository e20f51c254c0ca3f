// Package redisstore runs a fleet of replicas against one vendor account as if
// they were one client, on Redis through github.com/redis/go-redis/v9.
//
// When a service runs as many replicas, each one logging in by itself triggers
// the vendor's "too frequent" codes, spends the login budget, and — with vendors
// that keep one token per account — logs the others out. A [Fleet] gives the
// framework's layers a shared backend:
//
//   - [Fleet.TokenStore]: a tokensource.Store and tokensource.Locker. Replicas
//     share the cached token; one replica refreshes under a Redis lock with a
//     lease (SET NX PX, a random fencing value, renewed while the holder lives,
//     released by a compare-and-delete script), the others wait for it or keep
//     using the valid token. Tokens at rest are sealed with AES-256-GCM under a
//     key the user supplies: a token in Redis is a credential.
//   - [Fleet.Limiter]: a ratelimit.Limiter with one GCRA budget per key
//     (github.com/go-redis/redis_rate/v10) and the adaptive slow-down shared:
//     the current rate and a "paused until" time live in Redis, so when one
//     replica sees NXCloud 2206 or HTTP 429 every replica slows down.
//   - [Fleet.BreakerStore]: a gobreaker.SharedDataStore for
//     breaker.Config.Store, so replicas open and close one breaker.
//
// Redis is an optimisation, never a dependency of a request: when it cannot be
// reached every part degrades to the in-process behaviour (the token source logs
// in by itself, the limiter falls back to a local ratelimit.Adaptive, the breaker
// keeps its state in memory), says so once through the [WithLogger] logger, and
// tries Redis again after [WithRetryInterval].
//
// Composition, one Fleet per process:
//
//	fleet := redisstore.New(rdb, redisstore.WithLogger(logger))
//	store, err := fleet.TokenStore(key) // 32-byte key from your secret manager
//	src := tokensource.New(login, tokensource.WithStore(store, "icekredit:merchant-42"))
//	lim := fleet.Limiter(ratelimit.Config{Rate: 20})
//	breakers := breaker.NewSet(breaker.Config{Store: fleet.BreakerStore()})
//
// Give go-redis short timeouts (or set redis.Options.ContextTimeoutEnabled) so a
// Redis that hangs rather than refuses costs little before the fallback starts,
// and consider MaxRetries -1 and DialerRetries 1: go-redis otherwise retries a
// refused dial five times before this package sees the error. Every call this
// package makes is also bounded by [WithOpTimeout]. go-redis logs dial failures
// through its own global logger (redis.SetLogger), not through [WithLogger].
package redisstore
