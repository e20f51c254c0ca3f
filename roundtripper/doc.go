// Package roundtripper holds the transports that put credentials on requests and
// the one function, [New], that composes them with rate limiting, circuit breaking
// and retries in a fixed, documented order.
//
// [Token] injects a token from a token source (Authorization: Bearer, or a vendor
// header with its exact spelling) and re-authenticates once when the vendor
// rejects it. [Signing] hands a [Signer] a fresh copy of each attempt and its body,
// so every attempt carries a new timestamp, nonce and signature. Both attach
// credentials only to the origins in their [Hosts]: a redirect to another host, or
// any request to another host, goes out untouched.
//
// Every transport follows net/http's contract: it never modifies the caller's
// request, it always closes the request body, and it returns a response or an
// error, never both.
package roundtripper
