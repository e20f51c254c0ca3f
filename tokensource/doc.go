// Package tokensource caches tokens from a vendor login in front of any number of
// concurrent callers. [New] wraps a [Fetcher] (the one call that logs in) in a
// [Source], a drop-in for oauth2.ReuseTokenSource that is better in the ways that
// matter for vendor APIs with strict login limits:
//
//   - a cache hit is an atomic load: no mutex, no allocation;
//   - however many goroutines find the token missing or expired, one login runs
//     (single flight, golang.org/x/sync/singleflight), and a waiter whose context
//     ends leaves without cancelling the login for the others;
//   - inside a window before expiry (with jitter, so replicas spread out) the first
//     caller starts a refresh in the background and everyone, that caller included,
//     keeps using the still-valid token: nobody waits;
//   - [Source.Invalidate] drops the cached token only if it is still the one a
//     vendor rejected, so a thousand requests that saw the same 401 cause one
//     re-login and a late 401 never throws away a fresh token;
//   - sliding expiry ([WithSlidingExpiry]) for tokens that live "N minutes from the
//     last valid request": [Source.Touch] extends it after each success;
//   - a failed background refresh keeps serving the valid token and backs off; an
//     error that says retrying cannot help (outcome.IsPermanent: a wrong password)
//     is returned at once and held, so it never becomes a login loop;
//   - a Fetcher that panics is a bug, not a crash: every caller waiting for that
//     login gets a [*PanicError] (background refreshes too, where no caller could
//     have recovered it);
//   - a token that lives no longer than the expiry skew is used, not refetched on
//     every call: for half its life, and — when the vendor keeps issuing such
//     tokens — for a backoff that doubles with each one, so logins slow down
//     instead of storming; the condition is logged once. A lifetime from
//     expires_in is capped at a year, never overflowing;
//   - a [Store] (memory by default, Redis in package redisstore) shares tokens
//     between processes; a Store that is also a [Locker] makes one replica log in,
//     and one that is also an [Extender] moves a sliding token's stored expiry
//     without ever putting back a token another replica has replaced.
//
// Tokens are *oauth2.Token, vendor fields in Extra, so a Source feeds
// oauth2.Transport or any SDK that takes an oauth2.TokenSource.
package tokensource
