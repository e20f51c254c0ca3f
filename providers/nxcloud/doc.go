// Package nxcloud calls the NXCloud (nxtele, 牛信云) open platform — WhatsApp
// Business, SMS, voice, OTA one-click login and other messaging APIs — on the
// provider kit (package provider): this package declares only what is NXCloud's.
//
// NXCloud signs every request, no login: each POST carries the headers
// accessKey, ts (Unix milliseconds, accepted within ±60 s of NXCloud's clock),
// bizType (the business line), action (the operation) and sign, the lowercase hex
// MD5 — or SHA-256 when the header "algorithm: sha256" is sent — of
//
//	accessKey=K&action=A&bizType=B&ts=T&body=BODY&accessSecret=S
//
// where "&body=BODY" is the exact body sent, left out when the body is empty. The
// access secret is only ever hashed: it never leaves the process. Replies are a
// JSON envelope whose code decides, whatever the HTTP status (0 is success; 2206
// "too frequent"; 1000~100X authentication).
//
// A [Client] signs every attempt afresh ([Signer]: a retry is a new request) and
// reads replies with its code table (failures are an *[Error]). [Client.Call]
// calls any API; [Client.Login], [Client.GetCode] and [Client.OTAInit] are typed;
// [Client.TokenSource] reuses the WhatsApp embedded-page login token. Package
// nxcloudtest is a simulator for tests.
//
//	c, err := nxcloud.New(nxcloud.Config{
//		Credentials: nxcloud.NewCredentials("fme2na3kdi3ki", os.Getenv("NXCLOUD_SECRET")),
//	})
//	...
//	err = c.GetCode(ctx, "+8613800138000", nxcloud.MethodSMS)
//
// getCode sends an SMS or places a call: it is never re-sent when its outcome is
// unknown (a dropped connection, a 5xx, a "system error", a deadline after it was
// sent); the error then matches outcome.ErrUnknown. A 2206 was not processed: it
// is retried.
//
// # Defaults, and the facts inferred
//
// The kit's defaults apply (provider.Options): an overall deadline of 30 s per
// call and 10 s per attempt (NXCloud documents none), an adaptive limiter of 10
// requests per second with a burst of 10 — one budget per access key and host,
// since NXCloud counts 2206 per account — which halves on 2206 and pauses 1 s (or
// Retry-After), a breaker per host, and the retry policy's defaults. The vendor's
// documentation leaves these open; each is configurable:
//   - The embedded-page login token has no documented lifetime: it is used for 10
//     minutes (Config.LoginTokenTTL) and refreshed shortly before.
//   - The authentication codes follow the vendor's error table: 1001 missing
//     header, 1002 parameter, 1003 signature, 1004 ts outside ±60 s (the one
//     cause fixed without touching the configuration: correct the clock or
//     Config.ClockOffset, then send again), 1005 permission; all are permanent,
//     each with its own hint. 1000 and 1006~1009 are undocumented.
//   - Undocumented codes are transient (retried only for idempotent calls). A 2xx
//     reply without a code is "unknown" (the operation may have run); without a
//     code, a 4xx other than 401, 408 and 429 is permanent (a wrong path is the
//     caller's mistake: never retried, never counted by the breaker), a 5xx
//     transient.
//   - Login is retried like a read. OTA init may be billed: like getCode, it is
//     not re-sent when the outcome is unknown (retry.Idempotent(ctx) allows it).
//   - Phone numbers are checked locally as 5 to 20 digits with an optional "+".
package nxcloud
