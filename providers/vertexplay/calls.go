package vertexplay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/authwire/authwire/outcome"
	"github.com/authwire/authwire/retry"
)

// Endpoint paths of the typed calls.
const (
	PathCreatePlayer     = "/v2/members"
	PathBalance          = "/v2/members/balance"
	PathTransfer         = "/v2/members/transaction"
	PathCheckTransaction = "/v2/members/check/transactions"
	PathGames            = "/v2/games"
)

// ID is an identifier the vendor may send as a JSON string or number; it is
// always held as a string.
type ID string

// UnmarshalJSON accepts a string or a number.
func (id *ID) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*id = ID(s)
		return nil
	}
	var n json.Number
	err := json.Unmarshal(b, &n)
	*id = ID(n)
	return err
}

// CreatePlayerRequest is the body of /v2/members.
type CreatePlayerRequest struct {
	Username string `json:"username"`
	SiteID   ID     `json:"siteId,omitempty"`
}

// Player is what /v2/members returns (inferred fields: the vendor's reply is
// decoded loosely, unknown fields are ignored).
type Player = CreatePlayerRequest

// CreatePlayer creates a player. It is not marked idempotent: a resend after an
// unknown outcome would meet "player exists", so an unknown outcome is returned
// to the caller (errors.Is(err, outcome.ErrUnknown)) to resolve with Balance.
func (c *Client) CreatePlayer(ctx context.Context, req CreatePlayerRequest) (*Player, error) {
	if req.Username == "" {
		return nil, errors.New("vertexplay: CreatePlayer: username is empty")
	}
	return call(ctx, c, PathCreatePlayer, req, &req)
}

// Balance is a player's balance. Amounts are decimal numbers kept as
// json.Number: never rounded through float64.
type Balance struct {
	Username string      `json:"username"`
	Balance  json.Number `json:"balance"`
}

// Balance returns a player's balance. Read-only, so marked idempotent: also
// retried after a dropped connection, a 5xx or code 7.
func (c *Client) Balance(ctx context.Context, username string) (*Balance, error) {
	if username == "" {
		return nil, errors.New("vertexplay: Balance: username is empty")
	}
	return call(retry.Idempotent(ctx), c, PathBalance, map[string]string{"username": username}, &Balance{Username: username})
}

// TransferRequest moves money between the agent and a player: a positive
// Amount credits the player, a negative one debits (inferred). TransID is the
// caller's unique id for the transfer: the vendor refuses a repeated one with
// code 3, and CheckTransaction finds it.
type TransferRequest struct {
	Username string      `json:"username"`
	Amount   json.Number `json:"amount"`
	TransID  string      `json:"transId"`
}

// Transaction is a transfer as /v2/members/transaction and
// /v2/members/check/transactions report it (inferred fields).
type Transaction struct {
	TransID  string      `json:"transId"`
	Username string      `json:"username"`
	Amount   json.Number `json:"amount"`
	// Balance is the player's balance after the transfer, when the vendor says.
	Balance json.Number `json:"balance,omitempty"`
}

// Transfer moves money. It is never re-sent after an outcome that may mean
// "processed" (a dropped connection, a timeout, a 5xx, code 7): such an outcome
// returns an error matching outcome.ErrUnknown, to be resolved with
// [Client.CheckTransaction] — or call [Client.TransferOrCheck], which does it.
// It is re-sent only when the vendor refused it unprocessed (77, a rejected
// token). Code 35 returns the transaction (if the vendor sent it) and an error
// matching [ErrPending]; code 3 (transId already used) is an *Error.
func (c *Client) Transfer(ctx context.Context, req TransferRequest) (*Transaction, error) {
	switch {
	case req.Username == "" || req.TransID == "" || req.Amount == "":
		return nil, errors.New("vertexplay: Transfer: username, amount and transId (what makes a transfer checkable and unrepeatable) are required")
	case !isNumber(req.Amount):
		return nil, fmt.Errorf("vertexplay: Transfer: amount %q is not a decimal number", string(req.Amount))
	}
	return call(ctx, c, PathTransfer, req, &Transaction{TransID: req.TransID, Username: req.Username, Amount: req.Amount})
}

// CheckTransaction looks a transfer up by transId. Read-only, so marked
// idempotent: also retried after a dropped connection, a 5xx or code 7. A
// transaction still processing returns an error matching [ErrPending].
func (c *Client) CheckTransaction(ctx context.Context, username, transID string) (*Transaction, error) {
	if username == "" || transID == "" {
		return nil, errors.New("vertexplay: CheckTransaction: username and transId are required")
	}
	return call(retry.Idempotent(ctx), c, PathCheckTransaction, map[string]string{"username": username, "transId": transID},
		&Transaction{TransID: transID, Username: username})
}

func isNumber(n json.Number) bool { _, err := json.Marshal(n); return err == nil }

// call is every typed call: [Client.Call] into out, which starts with what the
// request already knows (the vendor's reply may leave fields out). A pending
// reply (code 35) returns out too, with its error.
func call[T any](ctx context.Context, c *Client, path string, in any, out *T) (*T, error) {
	err := c.Call(ctx, path, in, out)
	if err != nil && !errors.Is(err, ErrPending) {
		return nil, err
	}
	return out, err
}

// UnresolvedError reports a transfer whose outcome is unknown and whose check
// failed too: the money may or may not have moved. It matches
// outcome.ErrUnknown, and the caller's context error when that is what ended
// the transfer; Check is the check call's error (an *Error when the vendor
// answered, e.g. a "not found" code, which means the transfer had not happened
// when the check ran).
type UnresolvedError struct {
	TransID string
	// Transfer is the transfer's error.
	Transfer error
	// Check is the check call's error.
	Check error
}

// Error implements error.
func (e *UnresolvedError) Error() string {
	return fmt.Sprintf("vertexplay: transfer %s unresolved: %v; check: %v", e.TransID, e.Transfer, e.Check)
}

// Is matches outcome.ErrUnknown: the transfer may have been processed.
func (e *UnresolvedError) Is(target error) bool { return target == outcome.ErrUnknown }

// Unwrap returns both errors: errors.Is finds the caller's context error in the
// transfer's, errors.As the check's *Error.
func (e *UnresolvedError) Unwrap() []error { return []error{e.Transfer, e.Check} }

// TransferOrCheck is the safe way to move money: it sends the transfer once
// and, if the outcome is unknown, asks CheckTransaction (which is retried) what
// happened instead of sending it again. It returns the transaction when either
// call proves it happened; an error matching [ErrPending] when the vendor is
// still processing it; or an *UnresolvedError (matching outcome.ErrUnknown) when
// the check could not tell.
//
// The caller's deadline or cancel may be what left the outcome unknown, so the
// check runs detached from it (context.WithoutCancel: its values, not its
// deadline), bounded by Config.CheckTimeout (default [DefaultCheckTimeout]) and
// the client's Timeout. A context already done sends nothing and returns its
// error.
func (c *Client) TransferOrCheck(ctx context.Context, req TransferRequest) (*Transaction, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t, err := c.Transfer(ctx, req)
	if err == nil || !errors.Is(err, outcome.ErrUnknown) && (ctx.Err() == nil || !errors.Is(err, ctx.Err())) {
		return t, err
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.checkTimeout)
	defer cancel()
	t, cerr := c.CheckTransaction(cctx, req.Username, req.TransID)
	if cerr == nil || errors.Is(cerr, ErrPending) {
		return t, cerr
	}
	return nil, &UnresolvedError{TransID: req.TransID, Transfer: err, Check: cerr}
}

// Game is one entry of /v2/games (inferred fields; Raw keeps the vendor's whole
// object).
type Game struct {
	GameID ID     `json:"gameId"`
	Name   string `json:"name"`
	Type   string `json:"type,omitempty"`
	// Raw is the entry as the vendor sent it.
	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON keeps Raw.
func (g *Game) UnmarshalJSON(b []byte) error {
	type plain Game
	g.Raw = append(json.RawMessage(nil), b...)
	return json.Unmarshal(b, (*plain)(g))
}

// Games returns the game list. Read-only, so marked idempotent: also retried
// after a dropped connection, a 5xx or code 7. The list is read as a bare array
// or as an object holding one under "games" or "list" (the vendor's shape is
// not documented).
func (c *Client) Games(ctx context.Context) ([]Game, error) {
	var raw json.RawMessage
	if err := c.Call(retry.Idempotent(ctx), PathGames, nil, &raw); err != nil {
		return nil, err
	}
	var l []Game
	if raw = bytes.TrimSpace(raw); len(raw) == 0 {
		return nil, nil
	} else if raw[0] == '[' {
		return l, json.Unmarshal(raw, &l)
	}
	var o struct{ Games, List []Game }
	err := json.Unmarshal(raw, &o)
	return append(o.Games, o.List...), err
}
