// Package vertexplay calls the VertexPlay ("VP") game-platform API — players,
// wallets, transfers, game lists — through the authwire stack.
//
// VertexPlay is the strictest of the vendors: every request, the token call
// included, is a POST whose JSON parameters are encrypted with AES-256-GCM under
// the agent's API KEY and sent as {"cipherText":"…"}, with x-agentid,
// x-timestamp, x-nonce and a SHA-256 x-signature; business calls also carry
// "Authorization: Bearer <accessToken>" from POST /v2/auth. Replies are
// plaintext JSON envelopes whose code says what happened, whatever the HTTP
// status.
//
// A [Client] encrypts and signs every attempt afresh (new IV, nonce, timestamp
// and signature: a retry is a new request), gets one token for any number of
// concurrent callers and refreshes it before it expires, asks for a new one once
// when the vendor rejects it (HTTP 401 or code 12), and never lets a wrong
// credential (code 10) become a loop. Money is never sent twice: a transfer whose
// outcome is unknown (a dropped connection, a timeout, a 5xx, code 7) is returned
// as an error matching outcome.ErrUnknown, and [Client.TransferOrCheck] resolves
// it with the check-transaction call instead of re-sending. Code 35 (pending) is
// not a failure: the framework sees a success, the caller an error matching
// [ErrPending].
//
//	creds, err := vertexplay.NewCredentials("integratorNBTest01", os.Getenv("VP_API_KEY"), os.Getenv("VP_SECRET_KEY"))
//	...
//	c, err := vertexplay.New(vertexplay.Config{BaseURL: "https://api.example.com", Credentials: creds})
//	...
//	defer c.Close()
//	t, err := c.TransferOrCheck(ctx, vertexplay.TransferRequest{Username: "p1", Amount: "10.00", TransID: id})
//
// The pure functions [Encrypt], [Decrypt], [Signature] and [Signer.Seal] with
// [Fixed] values reproduce the vendor's test vectors and back the CLI's
// "authwire sign vertexplay". Package vertexplaytest is a simulator for tests.
//
// # Inferred facts and the defaults chosen
//
// The vendor's documentation leaves these open; each is configurable:
//   - AES key: hex-decode of the 64-character API KEY ([HexKey]); [SHA256Key] or
//     any [KeyDerivation] can replace it (Config.DeriveKey). Code 84 says it is
//     wrong.
//   - Signature: v2 by default, v1 with Config.SignatureVersion.
//   - Host: none is published; Config.BaseURL is required.
//   - Token lifetime: expiresIn, cross-checked with the JWT's exp − iat (both on
//     the vendor's clock, so clock skew cannot make a fresh token look expired);
//     the smaller wins; 1 hour when neither is readable. The cache refreshes in
//     the background a minute (minus jitter) before expiry and treats a token as
//     dead 10 s early (tokensource defaults).
//   - /v2/auth: HTTP 401 or code 12 there means the credentials were refused:
//     permanent, like code 10. /v2/auth is safe to resend and is retried.
//   - Code 77 without Retry-After pauses the host for 1 s; undocumented codes are
//     transient (retried only for idempotent calls); a 2xx reply without a code
//     is unknown.
//   - Rate: the vendor documents no budget; the default limiter allows 10
//     requests/s with a burst of 10 per host (on the wall clock even when
//     Config.Clock is fake) and adapts to 77. /v2/auth shares the host's budget
//     but has its own circuit breaker.
//   - Reply fields of the typed calls (Player, Balance, Transaction, Game) are
//     not documented; they are decoded loosely (IDs as string or number, amounts
//     as json.Number, the game list as an array or under "games"/"list").
//   - A positive transfer amount credits the player, a negative one debits.
//   - Balance, CheckTransaction and Games are read-only and marked idempotent;
//     CreatePlayer and Transfer are not.
//   - Timeout: a call without a context deadline is bounded to 60 s, retries
//     included (Config.Timeout).
package vertexplay
