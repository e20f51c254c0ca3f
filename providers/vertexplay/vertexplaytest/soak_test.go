package vertexplaytest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
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
	srv := httptest.NewServer(sim)
	defer srv.Close()
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	defer hc.CloseIdleConnections()
	signer, err := vertexplay.NewSigner(vertexplay.SignerConfig{Credentials: sim.Credentials()})
	if err != nil {
		t.Fatal(err)
	}
	post := func(ctx context.Context, path, plain, token string) ([]byte, error) {
		sealed, err := signer.Seal([]byte(plain), vertexplay.Fixed{})
		if err != nil {
			return nil, err
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+path, bytes.NewReader(sealed.Body))
		req.Header = sealed.Header()
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := hc.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		return io.ReadAll(resp.Body)
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
		raw, err := post(ctx, vertexplay.PathBalance, `{"username":"soak"}`, tok)
		if err == nil && !bytes.Contains(raw, []byte(`"code":0`)) {
			err = fmt.Errorf("%q", raw)
		}
		return err
	})
}
