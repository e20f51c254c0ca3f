// Command vertexplay shows the VertexPlay client against its simulator on
// loopback: encrypted, signed calls with one Bearer token, a revoked token
// handled by one re-auth, and a transfer whose reply is lost resolved by the
// check call instead of sending the money twice.
//
//	go run ./examples/vertexplay
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http/httptest"

	"github.com/authwire/authwire/outcome"
	"github.com/authwire/authwire/providers/vertexplay"
	"github.com/authwire/authwire/providers/vertexplay/vertexplaytest"
)

func main() {
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
	games, err := c.Games(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("games:", len(games), "logins:", sim.Stats().Logins)

	t, err := c.TransferOrCheck(ctx, vertexplay.TransferRequest{Username: "alice", Amount: "100.00", TransID: "order-1"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("transfer order-1:", t.Amount, "balance", t.Balance)

	// The vendor revokes every token (code 12): one re-auth, the call succeeds.
	sim.RevokeAll()
	b, err := c.Balance(ctx, "alice")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("balance after token revocation:", b.Balance, "logins:", sim.Stats().Logins)

	// The transfer happens but its reply is lost: Transfer says "unknown" and is
	// not re-sent; TransferOrCheck asks the check call instead.
	sim.Inject(vertexplaytest.Fault{Path: vertexplay.PathTransfer, Lose: true})
	_, err = c.Transfer(ctx, vertexplay.TransferRequest{Username: "alice", Amount: "-30.00", TransID: "order-2"})
	fmt.Println("transfer order-2 with a lost reply: outcome unknown:", errors.Is(err, outcome.ErrUnknown))
	chk, err := c.CheckTransaction(ctx, "alice", "order-2")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("check order-2:", chk.Amount, "balance", chk.Balance, "- sent", sim.TransferRequests("order-2"), "time(s)")

	sim.Inject(vertexplaytest.Fault{Path: vertexplay.PathTransfer, Lose: true})
	t, err = c.TransferOrCheck(ctx, vertexplay.TransferRequest{Username: "alice", Amount: "5.00", TransID: "order-3"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("TransferOrCheck order-3 with a lost reply:", t.Amount, "balance", t.Balance, "- sent", sim.TransferRequests("order-3"), "time(s)")

	// A vendor error is a typed *vertexplay.Error.
	var e *vertexplay.Error
	if _, err := c.Transfer(ctx, vertexplay.TransferRequest{Username: "alice", Amount: "1.00", TransID: "order-1"}); errors.As(err, &e) {
		fmt.Printf("repeated transId: code %s %q\n", e.Code, e.Message)
	}
}
