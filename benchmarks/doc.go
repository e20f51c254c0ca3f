// Package benchmarks measures authwire against the libraries users would
// otherwise stack by hand — golang.org/x/oauth2 and
// github.com/hashicorp/go-retryablehttp — side by side, on loopback httptest
// servers, in one run:
//
//	go test -run '^$' -bench . -benchmem -count 6 ./benchmarks/ | tee bench.txt
//	benchstat bench.txt
//
// or simply benchmarks/run.sh, which does both. README.md holds the figures, the
// machine they were measured on and the goals they are held against.
//
// The package has no API: everything lives in _test.go files. Without -bench,
// `go test ./benchmarks/` runs only the quick correctness tests (a request body
// is read once through the full stack; storms cost one login), so CI can run it
// with -race.
package benchmarks
