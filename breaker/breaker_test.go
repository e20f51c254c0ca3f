package breaker_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/sony/gobreaker/v2"

	"github.com/authwire/authwire/breaker"
	"github.com/authwire/authwire/outcome"
)

func TestOnlyUnhealthyOutcomesCount(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		open   bool
	}{
		{"5xx", 503, true},
		{"rate limited", 429, false},
		{"validation error", 400, false},
		{"token rejected", 401, false},
		{"success", 200, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(tc.status) }))
			defer srv.Close()
			set := breaker.NewSet(breaker.Config{ConsecutiveFailures: 3})
			c := &http.Client{Transport: &breaker.Transport{Set: set, Key: func(*http.Request) string { return "k" }}}
			for range 5 {
				resp, err := c.Get(srv.URL)
				if err != nil {
					if !tc.open || !errors.Is(err, breaker.ErrOpen) {
						t.Fatalf("unexpected error %v", err)
					}
					continue
				}
				resp.Body.Close()
			}
			if got := set.State("k") == gobreaker.StateOpen; got != tc.open {
				t.Fatalf("open = %v, want %v", got, tc.open)
			}
		})
	}
}

func TestOpenErrorIsTyped(t *testing.T) {
	err := error(&breaker.OpenError{Name: "vendor-a", State: gobreaker.StateOpen})
	var oe *breaker.OpenError
	if !errors.Is(err, breaker.ErrOpen) || !errors.As(err, &oe) || oe.Name != "vendor-a" {
		t.Fatalf("%v", err)
	}
	if k, _ := outcome.KindOf(err); k != outcome.Transient {
		t.Fatalf("kind %v", k)
	}
}

func ExampleNewSet() {
	set := breaker.NewSet(breaker.Config{
		ConsecutiveFailures: 5,
		OnStateChange: func(name string, from, to gobreaker.State) {
			fmt.Println(name, from, "->", to)
		},
	})
	client := &http.Client{Transport: &breaker.Transport{Set: set}}
	_ = client
	fmt.Println(set.State("api.example.com"))
	// Output: closed
}
