package roundtripper_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/authwire/authwire/ratelimit"
	"github.com/authwire/authwire/retry"
	"github.com/authwire/authwire/roundtripper"
	"github.com/authwire/authwire/tokensource"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestLogsNameEventsButNoSecrets(t *testing.T) {
	const secretToken, secretSig = "tok-SECRET-1", "sig-SECRET"
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) {
		case 1:
			fmt.Fprint(w, `{"code":12}`) // token rejected
		case 2:
			fmt.Fprint(w, `{"code":42900}`) // too frequent
		default:
			fmt.Fprint(w, `{"code":0}`)
		}
	}))
	defer srv.Close()
	var logins atomic.Int32
	var buf syncBuffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	src := tokensource.New(tokensource.FetcherFunc(func(context.Context) (*oauth2.Token, error) {
		return &oauth2.Token{AccessToken: fmt.Sprintf("%s-%d", secretToken, logins.Add(1)), Expiry: time.Now().Add(time.Hour)}, nil
	}), tokensource.WithLogger(logger), tokensource.WithName("acme"))
	defer src.Close()
	client := stack(t, srv.URL, roundtripper.Config{
		Vendor: "acme", Logger: logger, Token: src,
		Signer: roundtripper.SignerFunc(func(r *http.Request, b []byte) ([]byte, error) {
			r.Header.Set("X-Signature", secretSig)
			return b, nil
		}),
		Limiter: ratelimit.NewAdaptive(ratelimit.Config{Rate: 1000, Pause: time.Millisecond, Logger: logger}),
		Retry:   &retry.Policy{WaitMin: time.Millisecond, WaitMax: time.Millisecond},
	})
	resp, err := client.Post(srv.URL, "application/json", strings.NewReader(`{"password":"hunter2"}`))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()

	out := buf.String()
	for _, want := range []string{"authwire: login", "re-authenticating", "authwire: retrying", "rate limited", "authwire: attempt", `"vendor":"acme"`, "REDACTED"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	for _, secret := range []string{secretToken, secretSig, "hunter2"} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains the secret %q", secret)
		}
	}
	if t.Failed() {
		t.Log(out)
	}
}
