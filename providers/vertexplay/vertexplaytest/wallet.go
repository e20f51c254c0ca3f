package vertexplaytest

import (
	"bytes"
	"encoding/json"
	"math/big"

	"github.com/authwire/authwire/providers/vertexplay"
)

type player struct {
	siteID  json.RawMessage
	balance *big.Rat
}

type txn struct {
	transID  string
	username string
	amount   *big.Rat
	balance  *big.Rat // after the transfer
	pending  bool
}

// Transaction is a transfer the simulator performed.
type Transaction struct {
	TransID  string
	Username string
	Amount   string // decimal
	Balance  string // the player's balance after it
	Pending  bool
}

// AddPlayer creates a player with a starting balance (a decimal string; ""
// means 0), bypassing the API.
func (s *Server) AddPlayer(username, balance string) {
	b, ok := new(big.Rat).SetString(balance)
	if !ok {
		b = new(big.Rat)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.players[username] = &player{balance: b}
}

// Balance returns a player's balance as a decimal string.
func (s *Server) Balance(username string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.players[username]
	if p == nil {
		return "", false
	}
	return dec(p.balance), true
}

// Transaction returns the transfer recorded under transID.
func (s *Server) Transaction(transID string) (Transaction, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.txns[transID]
	if t == nil {
		return Transaction{}, false
	}
	return Transaction{TransID: t.transID, Username: t.username, Amount: dec(t.amount), Balance: dec(t.balance), Pending: t.pending}, true
}

// TransferRequests returns how many transfer requests named transID and passed
// verification, the repeated ones (answered 3) included: a test that sees 1
// knows the client never re-sent the transfer.
func (s *Server) TransferRequests(transID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.txnReqs[transID]
}

// SettlePending completes every pending transfer.
func (s *Server) SettlePending() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.txns {
		t.pending = false
	}
}

func dec(r *big.Rat) string { return r.FloatString(2) }

func (s *Server) createPlayer(plain []byte) result {
	var p struct {
		Username string          `json:"username"`
		SiteID   json.RawMessage `json:"siteId"`
	}
	if err := json.Unmarshal(plain, &p); err != nil || p.Username == "" {
		return answer(vertexplay.CodeParameters, "parameters error: username is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.players[p.Username] != nil {
		return answer(CodePlayerExists, "player already exists")
	}
	s.players[p.Username] = &player{siteID: p.SiteID, balance: new(big.Rat)}
	data := map[string]any{"username": p.Username}
	if len(p.SiteID) > 0 {
		data["siteId"] = p.SiteID
	}
	return ok(data)
}

func (s *Server) balance(plain []byte) result {
	var p struct {
		Username string `json:"username"`
	}
	if err := json.Unmarshal(plain, &p); err != nil || p.Username == "" {
		return answer(vertexplay.CodeParameters, "parameters error: username is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	pl := s.players[p.Username]
	if pl == nil {
		return answer(CodePlayerNotFound, "player not found")
	}
	return ok(map[string]any{"username": p.Username, "balance": json.Number(dec(pl.balance))})
}

func (s *Server) transfer(plain []byte) result {
	var p struct {
		Username string      `json:"username"`
		Amount   json.Number `json:"amount"`
		TransID  string      `json:"transId"`
	}
	d := json.NewDecoder(bytes.NewReader(plain))
	d.UseNumber()
	if err := d.Decode(&p); err != nil || p.Username == "" || p.TransID == "" {
		return answer(vertexplay.CodeParameters, "parameters error: username, amount and transId are required")
	}
	amount, okAmt := new(big.Rat).SetString(string(p.Amount))
	if !okAmt || amount.Sign() == 0 {
		return answer(vertexplay.CodeParameters, "parameters error: amount must be a non-zero decimal")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.txnReqs[p.TransID] == 0 {
		if old, full := s.txnOrder.add(p.TransID, 0); full {
			delete(s.txns, old.key)
			delete(s.txnReqs, old.key)
		}
	}
	s.txnReqs[p.TransID]++
	if s.txns[p.TransID] != nil {
		return answer(vertexplay.CodeTransactionExists, "")
	}
	pl := s.players[p.Username]
	if pl == nil {
		return answer(CodePlayerNotFound, "player not found")
	}
	nb := new(big.Rat).Add(pl.balance, amount)
	if nb.Sign() < 0 {
		return answer(vertexplay.CodeBalanceNotEnough, "")
	}
	pl.balance = nb
	pending := s.hold > 0
	if pending {
		s.hold--
	}
	t := &txn{transID: p.TransID, username: p.Username, amount: amount, balance: new(big.Rat).Set(nb), pending: pending}
	s.txns[p.TransID] = t
	s.transfers++
	res := ok(txnData(t))
	if pending {
		res.code = vertexplay.CodePending
	}
	return res
}

func (s *Server) check(plain []byte) result {
	var p struct {
		Username string `json:"username"`
		TransID  string `json:"transId"`
	}
	if err := json.Unmarshal(plain, &p); err != nil || p.Username == "" || p.TransID == "" {
		return answer(vertexplay.CodeParameters, "parameters error: username and transId are required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.txns[p.TransID]
	if t == nil || t.username != p.Username {
		return answer(CodeTransactionNotFound, "transaction not found")
	}
	res := ok(txnData(t))
	if t.pending {
		res.code = vertexplay.CodePending
	}
	return res
}

func txnData(t *txn) map[string]any {
	return map[string]any{
		"transId":  t.transID,
		"username": t.username,
		"amount":   json.Number(t.amount.FloatString(2)),
		"balance":  json.Number(dec(t.balance)),
	}
}
