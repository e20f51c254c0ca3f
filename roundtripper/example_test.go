package roundtripper_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"golang.org/x/oauth2"

	"github.com/authwire/authwire/breaker"
	"github.com/authwire/authwire/ratelimit"
	"github.com/authwire/authwire/roundtripper"
	"github.com/authwire/authwire/tokensource"
)

func ExampleNew() {
	// A vendor that wants "Authorization: Bearer <token>" and a signature header.
	vendor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer t-1" || r.Header.Get("X-Signature") == "" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, `{"code":0}`)
	}))
	defer vendor.Close()

	login := tokensource.New(tokensource.FetcherFunc(func(ctx context.Context) (*oauth2.Token, error) {
		return &oauth2.Token{AccessToken: "t-1", Expiry: time.Now().Add(time.Hour)}, nil
	}))
	defer login.Close()
	hosts, _ := roundtripper.HostsOf(vendor.URL)
	rt, err := roundtripper.New(roundtripper.Config{
		Vendor: "acme",
		Hosts:  hosts,
		Token:  login,
		Signer: roundtripper.SignerFunc(func(r *http.Request, body []byte) ([]byte, error) {
			r.Header.Set("X-Signature", fmt.Sprintf("%x", len(body))) // a real signer hashes ts, nonce and body
			return body, nil
		}),
		Limiter:  ratelimit.NewAdaptive(ratelimit.Config{Rate: 50}),
		Breakers: breaker.NewSet(breaker.Config{}),
	})
	if err != nil {
		panic(err)
	}
	client := &http.Client{Transport: rt} // or hand rt to any SDK that takes a Transport
	resp, err := client.Get(vendor.URL + "/v1/things")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, string(b))
	// Output: 200 {"code":0}
}

func ExampleRedactHeaders() {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("Authorization", "Bearer secret")
	h["x_token"] = []string{"secret"}
	r := roundtripper.RedactHeaders(h)
	//lint:ignore SA1008 a vendor header sent with exactly this spelling
	fmt.Println(r.Get("Content-Type"), r.Get("Authorization"), r["x_token"][0])
	// Output: application/json REDACTED REDACTED
}
