package nxcloud_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/authwire/authwire/internal/fakevendor"
	"github.com/authwire/authwire/provider"
	"github.com/authwire/authwire/providers/nxcloud"
	"github.com/authwire/authwire/roundtripper"
)

// BenchmarkGETAllocs measures what the provider adds to a GET (issue 17): bare is
// an http.Transport GET; nxcloud the full stack with the Signer; noop-signer the
// same stack with a signer that does nothing, so that nxcloud minus noop-signer is
// the Signer's share and noop-signer minus bare the framework's.
//
//	go test -run '^$' -bench GETAllocs -benchmem ./providers/nxcloud
func BenchmarkGETAllocs(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"code":0,"message":"success","data":{"token":"t"}}`))
	}))
	defer srv.Close()
	transport := &http.Transport{}
	defer transport.CloseIdleConnections()
	// No pacing: the default 10 requests per second would time the limiter.
	opts := provider.Options{Transport: transport, Limiter: fakevendor.NoLimit{}}
	nx, err := nxcloud.New(nxcloud.Config{BaseURL: srv.URL, Credentials: nxcloud.NewCredentials("fme2na3kdi3ki", "abc123"), Options: opts})
	if err != nil {
		b.Fatal(err)
	}
	defer nx.Close()
	noop, err := provider.New(provider.Spec{Name: "nxcloud", BaseURLs: []string{srv.URL}, Classifier: nxcloud.Classify,
		Signer: roundtripper.SignerFunc(func(_ *http.Request, body []byte) ([]byte, error) { return body, nil })}, opts)
	if err != nil {
		b.Fatal(err)
	}
	defer noop.Close()
	for _, tt := range []struct {
		name string
		rt   http.RoundTripper
	}{{"bare", transport}, {"noop-signer", noop.Transport()}, {"nxcloud", nx.Transport()}} {
		b.Run(tt.name, func(b *testing.B) {
			hc := &http.Client{Transport: tt.rt}
			b.ReportAllocs()
			for b.Loop() {
				resp, err := hc.Get(srv.URL + nxcloud.PathLogin)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}
