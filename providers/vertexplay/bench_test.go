package vertexplay_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/authwire/authwire/provider"
	"github.com/authwire/authwire/providers/vertexplay"
	"github.com/authwire/authwire/ratelimit"
	"github.com/authwire/authwire/roundtripper"
)

// TestSignAllocations: the signer's own cost per request is the wire body, the
// headers' text and their value slices.
func TestSignAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	creds, _ := vertexplay.NewCredentials(vecAgent, vecAPIKey, vecSecret)
	s, err := vertexplay.NewSigner(vertexplay.SignerConfig{Credentials: creds})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, "https://api.example.com"+vertexplay.PathBalance, nil)
	body := []byte(`{"username":"alice"}`)
	if _, err := s.Sign(req, body); err != nil { // the header map's keys exist from here on
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(200, func() { s.Sign(req, body) }); n > 3 {
		t.Fatalf("Sign allocates %v times per request, want at most 3", n)
	}
}

// BenchmarkGET measures what VertexPlay adds to a GET through its full stack
// (token, signer, limiter, breaker, retry, timeouts) against a loopback server:
//
//	go test -run '^$' -bench '^BenchmarkGET$' -benchmem -count 6 ./providers/vertexplay
//
// "bare" is a plain http.Transport; "framework" is the same provider kit stack
// with a no-op signer and a static login (the framework's share);
// "framework+wire" also sends the vendor's five headers and encrypted body, as
// constants (what carrying them costs net/http on both ends); "vertexplay" is
// the real client. vertexplay − bare is the total, vertexplay − framework the
// provider's share, vertexplay − framework+wire the signer's computation.
func BenchmarkGET(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == vertexplay.AuthPath {
			io.WriteString(w, `{"code":0,"data":{"accessToken":"bench-token","expiresIn":86400}}`)
			return
		}
		io.WriteString(w, `{"code":0,"message":"No error.","data":{}}`)
	}))
	defer srv.Close()
	opts := func() provider.Options {
		tr := &http.Transport{MaxIdleConnsPerHost: 16}
		b.Cleanup(tr.CloseIdleConnections)
		return provider.Options{Transport: tr, Limiter: ratelimit.NewAdaptive(ratelimit.Config{Rate: 1e9, Burst: 1 << 20})}
	}
	creds, _ := vertexplay.NewCredentials(vecAgent, vecAPIKey, vecSecret)
	vp, err := vertexplay.New(vertexplay.Config{BaseURL: srv.URL, Credentials: creds, Options: opts()})
	if err != nil {
		b.Fatal(err)
	}
	defer vp.Close()
	kit := func(sign roundtripper.SignerFunc) *http.Client {
		c, err := provider.New(provider.Spec{
			Name: "noop", BaseURLs: []string{srv.URL}, LoginURL: vertexplay.AuthPath, Classifier: vertexplay.Classify, Signer: sign,
			Login: provider.LoginFunc(func(context.Context, *provider.LoginClient) (*oauth2.Token, error) {
				return &oauth2.Token{AccessToken: "bench-token", TokenType: "Bearer", Expiry: time.Now().Add(24 * time.Hour)}, nil
			}),
		}, opts())
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { c.Close() })
		return c.HTTPClient()
	}
	// wire sends what the vendor's signer sends (five headers, a 104-byte body)
	// without computing it: constant values, no allocation of its own.
	sealed, _ := vp.Signer().Seal(nil, vertexplay.Fixed{})
	wireHeader := sealed.Header()
	wire := func(r *http.Request, _ []byte) ([]byte, error) {
		for k, v := range wireHeader {
			r.Header[k] = v
		}
		return sealed.Body, nil
	}
	for _, c := range []struct {
		name string
		hc   *http.Client
	}{
		{"bare", &http.Client{Transport: opts().Transport}},
		{"framework", kit(func(_ *http.Request, body []byte) ([]byte, error) { return body, nil })},
		{"framework+wire", kit(wire)},
		{"vertexplay", vp.HTTPClient()},
	} {
		b.Run(c.name, func(b *testing.B) {
			get(b, c.hc, srv.URL+vertexplay.PathBalance) // the token and a connection, outside the count
			b.ReportAllocs()
			for b.Loop() {
				get(b, c.hc, srv.URL+vertexplay.PathBalance)
			}
		})
	}
}

func get(b *testing.B, hc *http.Client, url string) {
	resp, err := hc.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatal(resp.Status)
	}
}
