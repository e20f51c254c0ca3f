package vertexplay_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http/httptest"

	"golang.org/x/oauth2"

	"github.com/authwire/authwire/outcome"
	"github.com/authwire/authwire/providers/vertexplay"
	"github.com/authwire/authwire/providers/vertexplay/vertexplaytest"
)

// Example moves money safely against the simulator: the transfer's response is
// lost on the way back, and TransferOrCheck resolves it with the check call
// instead of sending the money twice.
func Example() {
	sim := vertexplaytest.New(vertexplaytest.Config{})
	srv := httptest.NewServer(sim)
	defer srv.Close()

	c, err := vertexplay.New(vertexplay.Config{BaseURL: srv.URL, Credentials: sim.Credentials()})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()

	if _, err := c.CreatePlayer(ctx, vertexplay.CreatePlayerRequest{Username: "alice"}); err != nil {
		log.Fatal(err)
	}
	sim.Inject(vertexplaytest.Fault{Path: vertexplay.PathTransfer, Lose: true})
	t, err := c.TransferOrCheck(ctx, vertexplay.TransferRequest{Username: "alice", Amount: "25.00", TransID: "order-1001"})
	switch {
	case errors.Is(err, vertexplay.ErrPending):
		fmt.Println("pending: check again later")
	case errors.Is(err, outcome.ErrUnknown):
		fmt.Println("unknown: check again later; never resend blindly")
	case err != nil:
		log.Fatal(err)
	default:
		fmt.Println("transferred", t.Amount, "balance", t.Balance)
	}
	b, err := c.Balance(ctx, "alice")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("balance", b.Balance)
	st := sim.Stats()
	fmt.Println("transfer requests:", sim.TransferRequests("order-1001"), "logins:", st.Logins)
	// Output:
	// transferred 25.00 balance 25.00
	// balance 25.00
	// transfer requests: 1 logins: 1
}

// ExampleClient_Refresher hands the bare /v2/auth login to another reuse layer:
// oauth2.ReuseTokenSource caches its tokens instead of the client's own cache.
func ExampleClient_Refresher() {
	sim := vertexplaytest.New(vertexplaytest.Config{})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	c, err := vertexplay.New(vertexplay.Config{BaseURL: srv.URL, Credentials: sim.Credentials()})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	ts := oauth2.ReuseTokenSource(nil, c.Refresher())
	for range 3 {
		tok, err := ts.Token()
		fmt.Println(tok.Type(), tok.Valid(), err)
	}
	fmt.Println("logins:", sim.Stats().Logins)
	// Output:
	// Bearer true <nil>
	// Bearer true <nil>
	// Bearer true <nil>
	// logins: 1
}
