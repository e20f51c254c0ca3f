package icekredit_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"

	"golang.org/x/oauth2"

	"github.com/authwire/authwire/providers/icekredit"
	"github.com/authwire/authwire/providers/icekredit/icekredittest"
)

func Example() {
	// The simulator plays both IceKredit hosts; in production LoginURL and
	// BaseURL are the LOGIN_DOMAIN and SERVICE_DOMAIN given at onboarding.
	sim := icekredittest.New(icekredittest.Config{})
	srv := httptest.NewServer(sim)
	defer srv.Close()

	c, err := icekredit.New(icekredit.Config{
		LoginURL:    srv.URL,
		BaseURL:     srv.URL,
		Credentials: icekredit.NewCredentials(icekredittest.MerchantName, icekredittest.Password),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	for _, borrowed := range []int{0, 3} {
		res, err := c.NigeriaAutoDecision(context.Background(), icekredit.NigeriaAutoDecisionRequest{
			ID: "32500000000004", Mobile: "09012345678", EquipmentSN: "eq-1", SN: "bv2-1", BorrowCount: borrowed,
		})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("new customer: %d, risk level: %s\n", res.NewCustomer, res.RiskLevel)
	}
	fmt.Println("logins:", sim.Logins())
	// Output:
	// new customer: 1, risk level: High
	// new customer: 0, risk level: High
	// logins: 1
}

// ExampleClient_Refresher hands IceKredit's bare login to another reuse layer:
// every Token call of Refresher logs in, and oauth2.ReuseTokenSource keeps the
// token. Its tokens state no expiry (IceKredit's expiry slides with use, which
// only the client's own TokenSource tracks), so the reuse layer keeps the token
// until the caller drops it.
func ExampleClient_Refresher() {
	sim := icekredittest.New(icekredittest.Config{})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	c, err := icekredit.New(icekredit.Config{LoginURL: srv.URL, BaseURL: srv.URL,
		Credentials: icekredit.NewCredentials(icekredittest.MerchantName, icekredittest.Password)})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	ts := oauth2.ReuseTokenSource(nil, c.Refresher())
	for range 3 {
		tok, err := ts.Token()
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(len(tok.AccessToken) > 0, tok.Expiry.IsZero())
	}
	fmt.Println("logins:", sim.Logins())
	// Output:
	// true true
	// true true
	// true true
	// logins: 1
}
