package roundtripper_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/oauth2"

	"github.com/authwire/authwire/roundtripper"
)

// touchingSource is a custom token source with sliding expiry: it is not a
// *tokensource.Source, and still gets Touch because it implements Toucher.
type touchingSource struct{ touches atomic.Int32 }

func (s *touchingSource) TokenContext(context.Context) (*oauth2.Token, error) {
	return &oauth2.Token{AccessToken: "t"}, nil
}
func (s *touchingSource) Invalidate(*oauth2.Token) {}
func (s *touchingSource) Touch(*oauth2.Token)      { s.touches.Add(1) }

var _ roundtripper.Toucher = (*touchingSource)(nil)

func TestCustomToucherKeepsSlidingExpiry(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"code":0}`) }))
	defer srv.Close()
	src := &touchingSource{}
	client := stack(t, srv.URL, roundtripper.Config{Token: src})
	for range 3 {
		resp, err := client.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if n := src.touches.Load(); n != 3 {
		t.Fatalf("%d touches after 3 successes, want 3", n)
	}
}

// TestVendorSafeHeadersAreLogged: the framework's list names no vendor header;
// the vendor's own list (Config.SafeHeaders) shows its headers, and everything
// else stays REDACTED.
func TestVendorSafeHeadersAreLogged(t *testing.T) {
	for _, h := range roundtripper.SafeHeaders {
		if strings.EqualFold(h, "X-Vendor-Lang") || strings.EqualFold(h, "Language") {
			t.Fatalf("the framework's SafeHeaders name a vendor header: %s", h)
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"code":0}`) }))
	defer srv.Close()
	var buf syncBuffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	client := stack(t, srv.URL, roundtripper.Config{
		Logger: logger, SafeHeaders: []string{"X-Vendor-Lang"},
		PerAttempt: func(r *http.Request) { r.Header.Set("X-Vendor-Lang", "en"); r.Header.Set("X-Vendor-Key", "k-SECRET") },
	})
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	out := buf.String()
	if !strings.Contains(out, "X-Vendor-Lang:[en]") || strings.Contains(out, "k-SECRET") || !strings.Contains(out, "X-Vendor-Key:[REDACTED]") {
		t.Errorf("log:\n%s", out)
	}
}

func TestCredentiallessStack(t *testing.T) {
	var auth atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth.Store(r.Header.Get("Authorization"))
		fmt.Fprint(w, `{"code":0}`)
	}))
	defer srv.Close()
	if _, err := roundtripper.NewCredentialless(roundtripper.Config{Hosts: hostsOf(t, srv.URL), Token: &touchingSource{}}); err == nil {
		t.Fatal("NewCredentialless accepted a Token")
	}
	rt, err := roundtripper.NewCredentialless(roundtripper.Config{Hosts: hostsOf(t, srv.URL), Classifier: classify})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Transport: rt}).Post(srv.URL, "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := auth.Load(); got != "" {
		t.Fatalf("a credential-less request carried Authorization %q", got)
	}
}
