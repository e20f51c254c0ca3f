package redisstore

import (
	"net/url"
	"testing"

	"golang.org/x/oauth2"
)

// TestExtrasReadable guards the one assumption the token store makes about
// x/oauth2's internals: a token's extras sit in a field named raw. If an upgrade
// moves them, this fails instead of tokens silently losing their extras.
func TestExtrasReadable(t *testing.T) {
	tok := (&oauth2.Token{AccessToken: "a"}).WithExtra(map[string]any{"k": "v"})
	m, _ := extras(tok)
	if got := m["k"].value(); got != "v" {
		t.Fatalf("extras(map) k = %#v, want \"v\"", got)
	}
	_, vals := extras((&oauth2.Token{}).WithExtra(url.Values{"k": {"v"}}))
	if vals.Get("k") != "v" {
		t.Fatalf("extras(url.Values) = %v", vals)
	}
	if m, vals := extras(&oauth2.Token{}); m != nil || vals != nil {
		t.Fatalf("extras(no extras) = %v, %v", m, vals)
	}
}
