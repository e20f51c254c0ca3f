// Package icekredit calls IceKredit's credit-data API (risk levels, credit decisions
// and other "data products" for lenders, mostly in Nigeria) on the provider kit
// (package provider): this package declares the vendor — its login, its code
// table, its typed calls, its credentials — and the kit does the rest.
//
// IceKredit authenticates with a login: POST LOGIN_DOMAIN/api/login.do with the
// merchant name and the lowercase hex MD5 of the password returns a token_id, which
// every product call carries in a header named exactly "token_id". The token has a
// sliding expiry: it lives 20 minutes from the last valid request, there is no
// refresh or logout, and an idle token is simply dead. Errors come as vendor codes
// (strings such as "200005") inside JSON bodies, whatever the HTTP status; every
// failure is an [*Error] (an outcome.Error).
//
// A [Client] logs in once for any number of concurrent callers, keeps the token
// alive by using it (each success extends it, so a busy client logs in once for
// hours), logs in again once when IceKredit says the token is invalid or the
// client IP changed, and holds a wrong-password error for [LoginErrorHold]
// instead of looping on the login. [Client.Do] calls any product; typed calls
// such as [Client.NigeriaAutoDecision] are a few lines on top of it.
// [Client.TokenSource] and [Client.Refresher] expose the token. Package
// icekredittest is a simulator for tests.
//
//	c, err := icekredit.New(icekredit.Config{
//		LoginURL:    "https://sso-ng.icekredit.ai",
//		BaseURL:     "https://api-ng.icekredit.ai",
//		Credentials: icekredit.NewCredentials("acme", os.Getenv("ICEKREDIT_PASSWORD")),
//	})
//	...
//	res, err := c.NigeriaAutoDecision(ctx, icekredit.NigeriaAutoDecisionRequest{...})
//
// # Defaults, and the inferred facts behind them
//
// Every exchange, login included, sends "Language: en". The vendor asks for a
// client timeout of 20 s per request (at least 5 s): each attempt is bounded by
// [DefaultAttemptTimeout] (20 s) and a whole call, retries, waits and a login
// included, by [DefaultTimeout] (1 minute); Options.AttemptTimeout and
// Options.Timeout change them. The limiter, breakers and retry policy are the
// kit's defaults (10 requests per second, burst 10; 10000429 pauses 1 s without
// Retry-After). The vendor's documentation leaves these open; each is a choice:
//   - Login encoding: application/x-www-form-urlencoded by default (the doc's own
//     example is malformed; .do is a Java form endpoint); [JSON] as an option. On
//     10000415 (content type not supported) the client tries the other encoding once
//     and remembers the one that worked for later logins.
//   - Hosts: LOGIN_DOMAIN and SERVICE_DOMAIN are given at onboarding; the defaults
//     are the Nigerian ones from the docs, sso-ng.icekredit.ai and
//     api-ng.icekredit.ai.
//   - Undocumented codes are transient (retried only for idempotent calls). On the
//     login endpoint, 02 ("authentication service error") is transient: there is
//     no token to reject yet.
//   - A reply without response_code is classified by HTTP status; a 2xx one is
//     "unknown" (the product may have run).
//   - Product calls are billed lookups without side effects: the typed calls are
//     marked idempotent (a retry may cost a second lookup). [Client.Do] leaves that
//     to the caller: pass retry.Idempotent(ctx) when a repeat is harmless.
package icekredit
