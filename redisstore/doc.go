// Package redisstore runs a fleet of replicas against one vendor account as if
// they were one client, on Redis through github.com/redis/go-redis/v9: a single
// node, Sentinel or a Redis Cluster.
//
// When a service runs as many replicas, each one logging in by itself triggers
// the vendor's "too frequent" codes, spends the login budget, and — with vendors
// that keep one token per account — logs the others out. A [Fleet] gives the
// framework's layers a shared backend:
//
//   - [Fleet.TokenStore]: a tokensource.Store, Extender and Locker. Replicas
//     share the cached token; one replica refreshes under a Redis lock with a
//     lease (SET NX PX, a random fencing value, renewed while the holder lives,
//     released by a compare-and-delete script), the others wait for it or keep
//     using the valid token. Tokens at rest are sealed with AES-256-GCM under a
//     key ring the user supplies (a token in Redis is a credential); the ring
//     lets the key rotate during a rolling deploy (see [TokenStore]). A value
//     no key opens is logged once per process and counted in the
//     authwire.store.undecryptable metric.
//   - [Fleet.Limiter]: a ratelimit.Limiter with one GCRA budget per key
//     (github.com/go-redis/redis_rate/v10) and the adaptive slow-down shared:
//     the current rate and a "paused until" time live in Redis, so when one
//     replica is told "too frequent" every replica slows down, and the rate
//     recovers over time on Redis's clock.
//   - [Fleet.BreakerStore]: a breaker.SharedStore for breaker.Config.Store, so
//     replicas open and close one breaker. No lock is held across a request:
//     gobreaker's state machine runs in atomic Lua scripts on one Redis hash
//     per breaker, read on every request (see [BreakerStore]).
//
// # Redis down, slow or paused
//
// Redis is an optimisation, never a dependency of a request: when it cannot be
// reached every part degrades to the in-process behaviour (the token source logs
// in by itself, the limiter falls back to a local ratelimit.Adaptive, the breaker
// to a local gobreaker.CircuitBreaker), and tries Redis again after
// [WithRetryInterval]. The [WithLogger] logger hears one "unreachable" line per
// outage and one "reachable again" line once Redis has answered without an error
// for a whole retry interval: a Redis that flaps while it restarts does not
// flood the log.
//
// Every Redis call is bounded by [WithOpTimeout], whatever the client's own
// options. go-redis bounds a call by its context only when the client has
// ContextTimeoutEnabled; by default it waits for its ReadTimeout (3 s), so a
// paused Redis (CLIENT PAUSE) would hold every request that long. For such a
// client the fleet runs each call on a goroutine and stops waiting at the op
// timeout (the abandoned call ends within the client's own timeouts); a
// client with ContextTimeoutEnabled — what [ParseURL] makes — is called
// directly. Either way a request waits at most about the op timeout for Redis,
// then uses the local fallback. Consider MaxRetries -1 and DialerRetries 1 for
// your own clients ([ParseURL] sets both): go-redis otherwise retries a refused
// dial several times before this package sees the error. go-redis logs dial
// failures through its own global logger (redis.SetLogger), not through
// [WithLogger].
//
// # Redis Cluster and Sentinel
//
// [New] takes any redis.UniversalClient. Every key the fleet uses carries a
// hash tag naming the entity it belongs to ("authwire:{acct}:token",
// "authwire:{acct}:lock", "authwire:{rl:host}:adapt"...), so all keys of one
// token, limiter or breaker live in one slot and every script runs on a
// cluster. [ParseURL] turns go-redis's URL forms (single node, cluster,
// sentinel) into a client.
//
// Composition, one Fleet per process:
//
//	rdb, err := redisstore.ParseURL(os.Getenv("REDIS_URL"))
//	fleet := redisstore.New(rdb, redisstore.WithLogger(logger))
//	store, err := fleet.TokenStore(key) // 32-byte key from your secret manager; TokenStore(newKey, oldKey) while rotating
//	src := tokensource.New(login, tokensource.WithStore(store, "vendor:account-42"))
//	lim := fleet.Limiter(ratelimit.Config{Rate: 20})
//	breakers := breaker.NewSet(breaker.Config{Store: fleet.BreakerStore()})
package redisstore
