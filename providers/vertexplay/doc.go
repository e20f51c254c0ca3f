// Package vertexplay calls the VertexPlay ("VP") game-platform API — players,
// wallets, transfers, game lists — on the authwire provider kit: a declaration
// of the vendor (its envelope and code table, its encrypting [Signer], its
// /v2/auth login) handed to provider.New, plus typed calls.
//
// Every request, the token call included, is a POST whose JSON parameters are
// encrypted with AES-256-GCM under the agent's API KEY and sent as
// {"cipherText":"…"} (Content-Type application/json), with x-agentid,
// x-timestamp, x-nonce and a SHA-256 x-signature, drawn afresh on every attempt;
// business calls also carry "Authorization: Bearer <accessToken>" from POST
// /v2/auth. Replies are plaintext envelopes whose code decides, whatever the
// HTTP status (401 is a rejected token). Errors are outcome.Error (alias
// [Error]); code 35 (pending) is a success for the framework and an error
// matching [ErrPending] for the caller. Money is never sent twice: an unknown
// transfer outcome matches outcome.ErrUnknown, and [Client.TransferOrCheck]
// resolves it with the check call on a context detached from the caller's.
//
//	creds, err := vertexplay.NewCredentials("integratorNBTest01", os.Getenv("VP_API_KEY"), os.Getenv("VP_SECRET_KEY"))
//	c, err := vertexplay.New(vertexplay.Config{BaseURL: "https://api.example.com", Credentials: creds})
//	defer c.Close()
//	t, err := c.TransferOrCheck(ctx, vertexplay.TransferRequest{Username: "p1", Amount: "10.00", TransID: id})
//
// [Encrypt], [Decrypt], [Signature] and [Signer.Seal] with [Fixed] values
// reproduce the vendor's test vectors and back "authwire sign vertexplay".
// Package vertexplaytest is a simulator for tests.
//
// # Defaults and inferred facts
//
// The kit's defaults apply (provider.Options): 10 requests/s with a burst of 10
// per host, adapting to code 77 (1 s pause without Retry-After); breakers per
// host (/v2/auth its own); go-retryablehttp backoff, resending only what is
// safe; an overall deadline of 30 s per call (provider.DefaultTimeout) and 10 s
// per attempt (provider.DefaultAttemptTimeout); TransferOrCheck's check is
// bounded by [DefaultCheckTimeout]. Redirects are not followed (a redirected
// POST would leave unencrypted): a 3xx is an error naming its Location. Logged
// headers show x-agentid and x-timestamp, never x-signature, x-nonce or the token.
// The token store key is "vertexplay|<base URL>|<agentId>".
//
// The vendor leaves these open; each is configurable:
//   - AES key: hex-decode of the API KEY ([HexKey]; Config.DeriveKey, e.g.
//     [SHA256Key]). Code 84 says it is wrong. Signature: v2, or
//     Config.SignatureVersion.
//   - Host: none is published; Config.BaseURL is required.
//   - Token lifetime: expiresIn (a number or a numeric string, capped at
//     provider.MaxTokenLifetime), cross-checked with the JWT's exp − iat, the
//     smaller wins; one hour when neither is readable.
//   - /v2/auth: HTTP 401 or code 12 there means the credentials were refused
//     (permanent, like 10); undocumented codes are transient; a 2xx without a
//     code is unknown.
//   - Reply fields of the typed calls are decoded loosely (IDs as string or
//     number, amounts as json.Number, games as an array or under
//     "games"/"list"); a positive transfer amount credits the player. Balance,
//     CheckTransaction and Games are marked idempotent.
package vertexplay
