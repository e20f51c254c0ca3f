// Package provider is the one composition root of authwire: a vendor is a
// declaration ([Spec]), a user's settings are one struct ([Options]) that every
// provider's Config embeds, and [New] applies the defaults once and builds
// everything in between — the credentialed stack (retry → limiter → breaker →
// token + re-auth → per-attempt → signer → transport, see roundtripper.New), the
// credential-less stack the login goes through, and the token cache — into a
// [*Client] that owns them and has Close.
//
// # A fourth vendor
//
// A provider keeps only what is truly the vendor's:
//
//  1. Its envelope and code table, as data: an [outcome.Envelope] naming the code,
//     message and trace-id fields and mapping each documented code to a kind
//     (token expired → TokenRejected, too frequent → RateLimited, system error →
//     Transient, bad parameters → Permanent). Every failure is then an
//     [*outcome.Error], inspected with errors.As the same way for every vendor.
//  2. Its credential: a [Login] (usually a [JSONLogin]: POST a body, read a token
//     and its lifetime; a [LoginFunc] for anything more), and where the token goes
//     (TokenHeader, TokenFormat); or a roundtripper.Signer; or both.
//  3. Its typed calls, on [Client.Call] or [Client.DoJSON].
//  4. The headers that are safe to log (SafeHeaders), and, if the vendor counts
//     its rate limit per account, a LimitKey.
//
// The framework decides the rest for every vendor alike: the defaults
// ([DefaultRate], [DefaultTimeout], ...), one login for any number of concurrent
// callers, one re-login per rejected token, pacing and retrying on "too frequent",
// never re-sending a request that may have been processed, https-only credentials
// (loopback http excepted), an overall deadline and a per-attempt one.
//
// See the package example for a whole vendor in a few dozen lines, and
// examples/customvendor for a runnable program.
package provider
