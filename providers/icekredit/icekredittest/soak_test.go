package icekredittest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/authwire/authwire/internal/simfault/soak"
	"github.com/authwire/authwire/providers/icekredit/icekredittest"
)

// TestSoak: 32 goroutines call the credit-risk product at full speed over
// loopback; the last window must serve at least 90% of the first's requests, in
// flat memory. Opt in with AUTHWIRE_SOAK=60s.
func TestSoak(t *testing.T) {
	s := icekredittest.New(icekredittest.Config{})
	srv := httptest.NewServer(s)
	defer srv.Close()
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	defer hc.CloseIdleConnections()
	tok := wireLogin(t, hc, srv.URL) // over the wire: the token is bound to the client's address
	soak.Test(t, 32, func(ctx context.Context) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+icekredittest.PathNigeriaAutoDecision, strings.NewReader(product))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Language", "en")
		req.Header["token_id"] = []string{tok}
		return expect(hc, req, `"response_code":"00"`)
	})
}

func wireLogin(t *testing.T, hc *http.Client, url string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+icekredittest.LoginPath, strings.NewReader("merchant_name=acme&merchant_pwd="+icekredittest.PasswordMD5))
	req.Header.Set("Content-Type", form)
	req.Header.Set("Language", "en")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r reply
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &r); err != nil || r.TokenID == "" {
		t.Fatalf("login: %q", raw)
	}
	return r.TokenID
}

// expect sends req and checks that the answer contains want.
func expect(hc *http.Client, req *http.Request, want string) error {
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if !strings.Contains(string(raw), want) {
		return fmt.Errorf("HTTP %d %q", resp.StatusCode, raw)
	}
	return nil
}
