// Command customvendor wires Acme, a made-up fourth vendor, on the provider kit
// and calls it. This file is all the vendor-specific code; server.go is Acme.
package main

import (
	"context"
	"fmt"
	"time"

	"github.com/authwire/authwire/outcome"
	"github.com/authwire/authwire/provider"
	"github.com/authwire/authwire/roundtripper"
)

// acme is Acme's reply envelope and code table: data, not code.
var acme = &outcome.Envelope{
	Vendor: "acme", CodeField: "code", MessageFields: []string{"msg"}, TraceField: "trace_id",
	Codes: outcome.Table[string]{Success: "0", Undocumented: outcome.Transient, RateLimitAfter: 100 * time.Millisecond, Codes: map[string]outcome.Rule{
		"40001": {Kind: outcome.Permanent, Meaning: "bad credentials", Hint: "check the user and password"},
		"40101": {Kind: outcome.TokenRejected, Meaning: "token expired"},
		"42900": {Kind: outcome.RateLimited, Meaning: "too frequent"},
		"50000": {Kind: outcome.Transient, Meaning: "system error"},
	}},
}

// NewAcme returns a client for Acme at baseURL that logs in as user: a JSON
// login, the token in X-Acme-Token, the replies read by the table above.
func NewAcme(baseURL, user, password string, opts provider.Options) (*provider.Client, error) {
	login := provider.JSONLogin{Body: provider.JSONBody(map[string]string{"user": user, "password": password}), TokenField: "data.token", LifetimeField: "data.expires_in"}
	return provider.New(provider.Spec{Name: "acme", BaseURLs: []string{baseURL}, LoginURL: "/auth/login", Envelope: acme, Login: login,
		TokenHeader: "X-Acme-Token", TokenFormat: roundtripper.RawToken}, opts)
}

// Echo is Acme's one typed call.
func Echo(ctx context.Context, c *provider.Client, msg string) (string, error) {
	var out struct{ Echo string }
	err := c.Call(ctx, "/v1/echo", map[string]string{"msg": msg}, &out)
	return out.Echo, err
}

func main() {
	srv := newServer("alice", "wonderland")
	defer srv.Close()
	c, err := NewAcme(srv.URL, "alice", "wonderland", provider.Options{})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	fmt.Println(Echo(context.Background(), c, "hello"))
	fmt.Println("logins:", c.Logins())
}
