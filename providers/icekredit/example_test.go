package icekredit_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"

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
