package vertexplay

import (
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/authwire/authwire/provider"
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
	AgentID           string
	apiKey, secretKey provider.Secret
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
	return Credentials{AgentID: agentID, apiKey: provider.NewSecret(apiKey), secretKey: provider.NewSecret(secretKey)}, nil
}

func (c Credentials) redacted() provider.Redacted {
	return provider.Redact("vertexplay.Credentials", "AgentID", c.AgentID, "APIKey", c.apiKey, "SecretKey", c.secretKey)
}

// String returns the redacted form.
func (c Credentials) String() string { return c.redacted().String() }

// GoString returns the redacted form, for %#v.
func (c Credentials) GoString() string { return c.String() }

// Format writes the redacted form whatever the verb and flags, so that no verb
// (%x, %q, %+v) can reach the fields.
func (c Credentials) Format(f fmt.State, verb rune) { c.redacted().Format(f, verb) }

// LogValue implements slog.LogValuer with the redacted form.
func (c Credentials) LogValue() slog.Value { return c.redacted().LogValue() }
