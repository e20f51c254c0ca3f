package vertexplay

import (
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"
)

func jwtWith(claims map[string]any) string {
	p, _ := json.Marshal(claims)
	return "eyJhbGciOiJIUzI1NiJ9." + base64.RawURLEncoding.EncodeToString(p) + ".sig"
}

func TestTokenLifetime(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	for _, tc := range []struct {
		name      string
		expiresIn time.Duration
		token     string
		want      time.Duration
	}{
		{"expiresIn only", 3600, "opaque", time.Hour},
		{"jwt shorter wins", 3600, jwtWith(map[string]any{"iat": 100, "exp": 700}), 10 * time.Minute},
		{"expiresIn shorter wins", 600, jwtWith(map[string]any{"iat": 100, "exp": 3700}), 10 * time.Minute},
		// The vendor's clock is a day ahead: exp-iat still says one hour.
		{"skewed vendor clock", 3600, jwtWith(map[string]any{"iat": now.Unix() + 86400, "exp": now.Unix() + 90000}), time.Hour},
		{"no iat: exp against our clock", 3600, jwtWith(map[string]any{"exp": now.Unix() + 1200}), 20 * time.Minute},
		{"exp in the past without iat is ignored", 3600, jwtWith(map[string]any{"exp": now.Unix() - 10}), time.Hour},
		{"nothing usable: the kit's default applies", 0, "a.b.c", 0},
		{"jwt only", 0, jwtWith(map[string]any{"iat": 0, "exp": 1800}), 30 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tokenLifetime(now, tc.expiresIn*time.Second, tc.token); got != tc.want {
				t.Fatalf("lifetime %v, want %v", got, tc.want)
			}
		})
	}
}
