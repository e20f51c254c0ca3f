package vertexplay

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// Credentials are a VertexPlay agent's three values: the agentId (sent in the
// clear), the API KEY (the AES-256-GCM key material for every request body) and
// the Secret KEY (sent only inside the encrypted /v2/auth body). Neither key is
// ever printed: String, GoString, Format and LogValue show a redacted form such as
// vertexplay.Credentials{AgentID:"inte…", APIKey:REDACTED, SecretKey:REDACTED}.
//
// The zero value has no keys; build Credentials with [NewCredentials].
type Credentials struct {
	// AgentID is the agent's id given at onboarding, e.g. "integratorNBTest01".
	AgentID string
	// keys is a closure, not a field holding strings: fmt cannot call our methods
	// on a Credentials kept in an unexported field, and then prints it by
	// reflection, even dereferencing a pointer field under %s or %d; a func is
	// printed as an address under every verb.
	keys func() (apiKey, secretKey string)
}

// NewCredentials returns the credentials of agentID. apiKey is trimmed of
// surrounding whitespace (keys pasted from a portal or read from a file often
// carry a newline) and must then be exactly 64 hex characters; secretKey is opaque
// and used as given.
func NewCredentials(agentID, apiKey, secretKey string) (Credentials, error) {
	apiKey = strings.ToLower(strings.TrimSpace(apiKey))
	switch _, err := hex.DecodeString(apiKey); {
	case agentID == "":
		return Credentials{}, errors.New("vertexplay: the agentId is empty")
	case len(apiKey) != 64:
		return Credentials{}, fmt.Errorf("vertexplay: the API KEY must be 64 hex characters, got %d characters", len(apiKey))
	case err != nil: // never echo the key, not even the offending character
		return Credentials{}, errors.New("vertexplay: the API KEY must be 64 hex characters (0-9, a-f)")
	case secretKey == "":
		return Credentials{}, errors.New("vertexplay: the Secret KEY is empty")
	}
	return Credentials{AgentID: agentID, keys: func() (string, string) { return apiKey, secretKey }}, nil
}

func (c Credentials) valid() error {
	if c.AgentID == "" || c.keys == nil {
		return errors.New("vertexplay: Config.Credentials has no agentId or no keys: build it with NewCredentials")
	}
	return nil
}

// redacted is what every printing path shows of the keys.
func (c Credentials) redacted() string {
	if c.keys == nil {
		return "unset"
	}
	return "REDACTED"
}

// String returns the redacted form.
func (c Credentials) String() string {
	return fmt.Sprintf("vertexplay.Credentials{AgentID:%q, APIKey:%s, SecretKey:%[2]s}", abbrev(c.AgentID), c.redacted())
}

// GoString returns the redacted form, for %#v.
func (c Credentials) GoString() string { return c.String() }

// Format writes the redacted form whatever the verb and flags, so that no verb
// (%x, %q, %+v) can reach the fields.
func (c Credentials) Format(f fmt.State, _ rune) { io.WriteString(f, c.String()) }

// LogValue implements slog.LogValuer with the redacted form.
func (c Credentials) LogValue() slog.Value {
	k := c.redacted()
	return slog.GroupValue(slog.String("agent_id", abbrev(c.AgentID)), slog.String("api_key", k), slog.String("secret_key", k))
}

// abbrev keeps at most the first 4 characters, and never more than half, of an
// identifier: enough to tell accounts apart in a log, not enough to spell one.
func abbrev(s string) string {
	if s == "" {
		return ""
	}
	r := []rune(s)
	return string(r[:min(4, len(r)/2)]) + "…"
}
