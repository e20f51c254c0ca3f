// Package icekredit calls IceKredit's credit-data API (risk levels, credit decisions
// and other "data products" for lenders, mostly in Nigeria) through the authwire
// stack.
//
// IceKredit authenticates with a login: POST LOGIN_DOMAIN/api/login.do with the
// merchant name and the lowercase hex MD5 of the password returns a token_id, which
// every product call carries in a header named exactly "token_id". The token has a
// sliding expiry: it lives 20 minutes from the last valid request, there is no
// refresh or logout, and an idle token is simply dead. Errors come as vendor codes
// (strings such as "200005") inside JSON bodies, whatever the HTTP status.
//
// A [Client] logs in once for any number of concurrent callers
// (tokensource.Source), keeps the token alive by using it (each success extends it,
// so a busy client logs in once for hours), logs in again once when IceKredit says
// the token is invalid or the client IP changed, and holds a wrong-password error
// instead of looping on the login. [Client.Do] calls any product; typed calls such
// as [Client.NigeriaAutoDecision] are a few lines on top of it. Package
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
// # Inferred facts and the defaults chosen
//
// The vendor's documentation leaves these open; each is configurable:
//   - Login encoding: application/x-www-form-urlencoded by default (the doc's own
//     example is malformed; .do is a Java form endpoint); [JSON] as an option. On
//     10000415 (content type not supported) the client tries the other encoding once
//     and remembers the one that worked for later logins.
//   - Hosts: LOGIN_DOMAIN and SERVICE_DOMAIN are given at onboarding; the defaults
//     are the Nigerian ones from the docs, sso-ng.icekredit.ai and
//     api-ng.icekredit.ai.
//   - Early refresh is off: a sliding token is kept alive by use, so refreshing it
//     before expiry would only cost logins. A token is treated as dead 10 s before
//     its 20 minutes end (tokensource's expiry skew).
//   - Timeout: 20 s per attempt (the vendor asks for at least 5 s, 20 s preferred);
//     retries, the limiter and the caller's context bound the whole call.
//   - Rate: the vendor documents no budget; the default limiter allows 10 requests
//     per second with a burst of 10, and slows down on 10000429 (1 s pause without
//     Retry-After).
//   - Undocumented codes are transient (retried only for idempotent calls). On the
//     login endpoint, 02 ("authentication service error") is transient: there is
//     no token to reject yet.
//   - A reply without response_code is classified by HTTP status; a 2xx one is
//     "unknown" (the product may have run).
//   - The NigeriaAutoDecision request and result fields come from the vendor's
//     product page (ID is the BVN).
//   - Product calls are billed lookups without side effects: the typed calls are
//     marked idempotent (a retry may cost a second lookup). [Client.Do] leaves that
//     to the caller: pass retry.Idempotent(ctx) when a repeat is harmless.
package icekredit
