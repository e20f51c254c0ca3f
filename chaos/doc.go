// Package chaos holds authwire's chaos test; it has no API. The test
// (chaos_test.go) sends 5,100 requests, 1,700 per vendor, through the three
// providers' Clients — the full stack: retry, rate limiter, circuit breaker,
// token and re-authentication, signer — from 48 goroutines, while the three
// simulators answer at random with HTTP 5xx (20%), rate limiting (10%: NXCloud
// 2206, IceKredit 10000429, VertexPlay 77), dropped connections, 200 ms latency
// spikes, and every 250 requests revoke all IceKredit and VertexPlay tokens.
//
// It asserts that nothing is lost (every request ends in success or in an
// error the stack may legitimately return, counted by category), that no
// side effect happens twice (an NXCloud verification code per phone number, a
// VertexPlay transfer per transId, checked on the simulators' counters), that
// each vendor logged in at most once per revocation plus once (plus logins
// whose reply was dropped), and that no secret, password hash or token appears
// in any log line (captured at debug level), error string or %v/%+v/%#v
// rendering of errors, credentials, configurations and clients.
//
// It runs with the ordinary tests (go test -race ./chaos/) in well under a
// minute; -v prints the run's numbers.
package chaos
