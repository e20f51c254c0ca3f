package icekredittest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/authwire/authwire/internal/simfault/soak"
	"github.com/authwire/authwire/providers/icekredit/icekredittest"
)

// TestSoak: 32 goroutines call the credit-risk product at full speed over
// loopback; the last window must serve at least 90% of the first's requests, in
// flat memory. Opt in with AUTHWIRE_SOAK=60s.
func TestSoak(t *testing.T) {
	url, hc := soak.Serve(t, icekredittest.New(icekredittest.Config{}))
	tok := wireLogin(t, hc, url) // over the wire: the token is bound to the client's address
	soak.Test(t, 32, func(ctx context.Context) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+icekredittest.PathNigeriaAutoDecision, strings.NewReader(product))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Language", "en")
		req.Header["token_id"] = []string{tok}
		_, err := soak.Expect(hc, req, `"response_code":"00"`)
		return err
	})
}

func wireLogin(t *testing.T, hc *http.Client, url string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+icekredittest.LoginPath, strings.NewReader("merchant_name=acme&merchant_pwd="+icekredittest.PasswordMD5))
	req.Header.Set("Content-Type", form)
	req.Header.Set("Language", "en")
	raw, err := soak.Expect(hc, req, `"response_code":"00"`)
	var r reply
	if err != nil || json.Unmarshal(raw, &r) != nil || r.TokenID == "" {
		t.Fatalf("login: %v", err)
	}
	return r.TokenID
}
