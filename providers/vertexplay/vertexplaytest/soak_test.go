package vertexplaytest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/authwire/authwire/internal/simfault/soak"
	"github.com/authwire/authwire/providers/vertexplay"
	"github.com/authwire/authwire/providers/vertexplay/vertexplaytest"
)

// TestSoak: 32 goroutines call Balance at full speed over loopback, each request
// freshly encrypted and signed (a new nonce each time, so the replay check
// fills); the last window must serve at least 90% of the first's requests, in
// flat memory. Opt in with AUTHWIRE_SOAK=60s.
func TestSoak(t *testing.T) {
	sim := vertexplaytest.New(vertexplaytest.Config{})
	sim.AddPlayer("soak", "100")
	url, hc := soak.Serve(t, sim)
	signer, err := vertexplay.NewSigner(vertexplay.SignerConfig{Credentials: sim.Credentials()})
	if err != nil {
		t.Fatal(err)
	}
	post := func(ctx context.Context, path, plain, token string) ([]byte, error) {
		sealed, err := signer.Seal([]byte(plain), vertexplay.Fixed{})
		if err != nil {
			return nil, err
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+path, bytes.NewReader(sealed.Body))
		req.Header = sealed.Header()
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		return soak.Expect(hc, req, `"code":0`)
	}
	raw, err := post(t.Context(), vertexplay.AuthPath, authBody, "")
	var auth struct {
		Data struct {
			AccessToken string `json:"accessToken"`
		} `json:"data"`
	}
	if err != nil || json.Unmarshal(raw, &auth) != nil || auth.Data.AccessToken == "" {
		t.Fatalf("login: %v %q", err, raw)
	}
	tok := auth.Data.AccessToken
	soak.Test(t, 32, func(ctx context.Context) error {
		_, err := post(ctx, vertexplay.PathBalance, `{"username":"soak"}`, tok)
		return err
	})
}
