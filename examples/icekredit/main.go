// Command icekredit shows the IceKredit client against its simulator on
// loopback: one login for many concurrent product calls, a revoked token and a
// changed client IP handled by one re-login each, and a wrong password held
// instead of looped on.
//
//	go run ./examples/icekredit
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http/httptest"
	"sync"

	"github.com/authwire/authwire/providers/icekredit"
	"github.com/authwire/authwire/providers/icekredit/icekredittest"
)

func main() {
	sim := icekredittest.New(icekredittest.Config{})
	// In production LOGIN_DOMAIN and SERVICE_DOMAIN are two hosts: two servers here.
	login := httptest.NewServer(sim)
	defer login.Close()
	api := httptest.NewServer(sim)
	defer api.Close()

	c, err := icekredit.New(icekredit.Config{
		LoginURL:    login.URL,
		BaseURL:     api.URL,
		Credentials: icekredit.NewCredentials(icekredittest.MerchantName, icekredittest.Password),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()

	decide := func(i int) (*icekredit.NigeriaAutoDecisionResult, error) {
		return c.NigeriaAutoDecision(ctx, icekredit.NigeriaAutoDecisionRequest{
			ID: fmt.Sprintf("3250000000%04d", i), Mobile: "09012345678", EquipmentSN: "eq-1", SN: fmt.Sprintf("sn-%d", i), BorrowCount: i % 2,
		})
	}

	// Ten concurrent calls, one login.
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := decide(i); err != nil {
				log.Fatal(err)
			}
		}()
	}
	wg.Wait()
	fmt.Println("10 concurrent calls, logins:", sim.Logins())

	res, err := decide(42)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("risk level %q, new customer %d\n", res.RiskLevel, res.NewCustomer)

	// IceKredit invalidates every token (200005): one re-login, the call succeeds.
	sim.RevokeAll()
	if _, err := decide(43); err != nil {
		log.Fatal(err)
	}
	fmt.Println("after token revocation, logins:", sim.Logins())

	// The client's IP changed (200006): one re-login again.
	sim.ChangeClientIP()
	if _, err := decide(44); err != nil {
		log.Fatal(err)
	}
	fmt.Println("after an IP change, logins:", sim.Logins())

	// A wrong password is a permanent *icekredit.Error, asked once and held.
	bad, err := icekredit.New(icekredit.Config{LoginURL: login.URL, BaseURL: api.URL, Credentials: icekredit.NewCredentials(icekredittest.MerchantName, "wrong")})
	if err != nil {
		log.Fatal(err)
	}
	defer bad.Close()
	before := sim.LoginAttempts()
	var e *icekredit.Error
	for range 3 {
		_, err = bad.NigeriaAutoDecision(ctx, icekredit.NigeriaAutoDecisionRequest{ID: "1", Mobile: "2", EquipmentSN: "3", SN: "4"})
	}
	if errors.As(err, &e) {
		fmt.Printf("wrong password: code %s %q; 3 calls, %d login attempt(s)\n", e.Code, e.Message, sim.LoginAttempts()-before)
	}
}
