package retry_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/authwire/authwire/retry"
)

func TestIsIdempotent(t *testing.T) {
	for _, tc := range []struct {
		method string
		hdr    string
		ctx    context.Context
		want   bool
	}{
		{http.MethodGet, "", context.Background(), true},
		{http.MethodPut, "", context.Background(), true},
		{http.MethodDelete, "", context.Background(), true},
		{http.MethodPost, "", context.Background(), false},
		{http.MethodPatch, "", context.Background(), false},
		{http.MethodPost, "Idempotency-Key", context.Background(), true},
		{http.MethodPost, "X-Idempotency-Key", context.Background(), true},
		{http.MethodPost, "", retry.Idempotent(context.Background()), true},
	} {
		t.Run(fmt.Sprint(tc.method, tc.hdr, tc.want), func(t *testing.T) {
			req, _ := http.NewRequestWithContext(tc.ctx, tc.method, "http://x/", nil)
			if tc.hdr != "" {
				req.Header.Set(tc.hdr, "k-1")
			}
			if got := retry.IsIdempotent(req); got != tc.want {
				t.Fatalf("IsIdempotent = %v, want %v", got, tc.want)
			}
		})
	}
}

func ExampleIdempotent() {
	// A balance query is a POST at most vendors, but reading twice is harmless:
	// mark it, and a timeout or 5xx is retried instead of reported as unknown.
	ctx := retry.Idempotent(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "https://vendor.example/v2/members/balance", nil)
	fmt.Println(retry.IsIdempotent(req))
	// Output: true
}
