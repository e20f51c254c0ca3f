package icekredit_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/authwire/authwire/internal/fakevendor"
	"github.com/authwire/authwire/provider"
	"github.com/authwire/authwire/providers/icekredit"
	"github.com/authwire/authwire/providers/icekredit/icekredittest"
	"github.com/authwire/authwire/roundtripper"
)

// BenchmarkGET measures what a GET costs through the full IceKredit stack
// (token_id, Language, limiter, breaker, retry, per-attempt timeout) against the
// same GET on a bare http.Transport, on loopback. The allocs/op delta between
// "icekredit" and "bare" is the whole stack's; "kit" is the same framework stack
// for a made-up vendor with a raw token header and no per-attempt hook, so
// "icekredit" minus "kit" is what IceKredit's own code adds (issue 17: at most
// +12 for the whole stack).
//
//	go test -run '^$' -bench BenchmarkGET -benchmem -count 6 ./providers/icekredit
func BenchmarkGET(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == icekredit.LoginPath {
			io.WriteString(w, `{"response_code":"00","response_msg":"success","token_id":"bench-token"}`)
			return
		}
		io.WriteString(w, `{"response_code":"00","message":"success"}`)
	}))
	defer srv.Close()
	opts := func() provider.Options {
		return provider.Options{Transport: &http.Transport{}, Limiter: fakevendor.NoLimit{}}
	}
	ik, err := icekredit.New(icekredit.Config{LoginURL: srv.URL, BaseURL: srv.URL,
		Credentials: icekredit.NewCredentials(icekredittest.MerchantName, icekredittest.Password), Options: opts()})
	if err != nil {
		b.Fatal(err)
	}
	defer ik.Close()
	kit, err := provider.New(provider.Spec{Name: "kit", BaseURLs: []string{srv.URL}, LoginURL: icekredit.LoginPath,
		Classifier: icekredit.Classify, TokenHeader: icekredit.TokenHeader, TokenFormat: roundtripper.RawToken,
		Login: provider.JSONLogin{Body: provider.JSONBody(struct{}{}), TokenField: "token_id"}}, opts())
	if err != nil {
		b.Fatal(err)
	}
	defer kit.Close()

	for _, bc := range []struct {
		name string
		hc   *http.Client
	}{
		{"bare", &http.Client{Transport: &http.Transport{}}},
		{"kit", kit.HTTPClient()},
		{"icekredit", ik.HTTPClient()},
	} {
		b.Run(bc.name, func(b *testing.B) {
			get := func() {
				resp, err := bc.hc.Get(srv.URL + "/person-ds/test/Get")
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			get() // logs in, opens the connection
			b.ReportAllocs()
			for b.Loop() {
				get()
			}
		})
	}
}
