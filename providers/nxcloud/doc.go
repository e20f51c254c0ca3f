// Package nxcloud calls the NXCloud (nxtele, 牛信云) open platform — WhatsApp
// Business, SMS, voice, OTA one-click login and other messaging APIs — through the
// authwire stack.
//
// NXCloud authenticates every request with a signature, no login: each POST
// carries the headers accessKey, ts (Unix milliseconds, accepted within ±60 s of
// NXCloud's clock), bizType (the business line), action (the operation) and sign,
// the lowercase hex MD5 — or SHA-256 when the header "algorithm: sha256" is sent —
// of
//
//	accessKey=K&action=A&bizType=B&ts=T&body=BODY&accessSecret=S
//
// where "&body=BODY" is the exact body sent, left out when the body is empty. The
// access secret is only ever hashed: it never leaves the process. Replies are HTTP
// 200 with a JSON envelope whose integer code decides (0 is success; 2206 "too
// frequent"; 1000~100X authentication).
//
// A [Client] signs every attempt afresh ([Signer]: a new ts and sign, so a retry is
// a new request), slows down on 2206 (adaptive limiter) and retries it, and turns
// the codes into an *[Error] carrying an outcome.Kind. [Sign] and [StringToSign]
// are the pure signature, checked against the vendor's test vectors. [Client.Do]
// calls any API; [Client.Login], [Client.GetCode] and [Client.OTAInit] are the
// typed calls, and [Client.LoginTokenSource] reuses the embedded-page login token.
// Package nxcloudtest is a simulator for tests.
//
//	c, err := nxcloud.New(nxcloud.Config{
//		Credentials: nxcloud.NewCredentials("fme2na3kdi3ki", os.Getenv("NXCLOUD_SECRET")),
//	})
//	...
//	err = c.GetCode(ctx, "+8613800138000", nxcloud.MethodSMS)
//
// getCode sends an SMS or places a call: it is never re-sent when its outcome is
// unknown (a dropped connection, a 5xx, a "system error"); the error then matches
// outcome.ErrUnknown. A 2206 is safe to retry: the vendor did not process it.
//
// # Inferred facts and the defaults chosen
//
// The vendor's documentation leaves these open; each is configurable:
//   - The embedded-page login token has no documented lifetime: it is used for 10
//     minutes (Config.LoginTokenTTL) and refreshed shortly before; the embedded page
//     reports a rejection by calling Invalidate on [Client.LoginTokenSource].
//   - 1000~100X are all treated alike: a permanent configuration error whose hint
//     names the ±60 s ts window, because clock skew is the one cause fixed without
//     touching the configuration (then the request can be sent again).
//   - Rate: the vendor documents no budget; the default limiter allows 10 requests
//     per second per account with a burst of 10, halves on 2206 and pauses 1 s
//     (or Retry-After).
//   - Undocumented codes are transient (retried only for idempotent calls). A 200
//     reply without a code is "unknown" (the operation may have run); any other
//     HTTP status is transient, as the vendor says.
//   - Login is read-only and is retried like a read. OTA init may be billed, so it
//     is treated like getCode (not re-sent when the outcome is unknown); pass
//     retry.Idempotent(ctx) to allow it.
//   - Phone numbers are checked locally as 5 to 20 digits with an optional leading
//     "+"; the vendor documents no format.
//   - The envelope's code is accepted as a number or a numeric string; a traceId
//     field, if a reply ever carries one, is kept in [Error.TraceID].
package nxcloud
