package retry_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/authwire/authwire/retry"
)

// BenchmarkSuccess measures the retry layer's success path over loopback, beside
// the bare transport it wraps, so the difference is the layer's own cost.
func BenchmarkSuccess(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Write([]byte(`{"code":0}`))
	}))
	defer srv.Close()
	base := srv.Client().Transport.(*http.Transport)
	payload := bytes.Repeat([]byte("x"), 1024)
	for _, tc := range []struct {
		name string
		rt   http.RoundTripper
	}{
		{"bare", base},
		{"retry", &retry.Transport{Base: base}},
	} {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			b.Run(tc.name+"/"+method, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					var body io.Reader
					if method == http.MethodPost {
						body = bytes.NewReader(payload)
					}
					req, _ := http.NewRequest(method, srv.URL, body)
					resp, err := tc.rt.RoundTrip(req)
					if err != nil {
						b.Fatal(err)
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			})
		}
	}
}
