package nxcloud

import (
	"fmt"
	"log/slog"

	"github.com/authwire/authwire/provider"
)

// Credentials are an NXCloud account's API key pair: the access key, sent in the
// accessKey header of every request, and the access secret, which only ever goes
// into the signature hash. The secret is never printed: String, Format and
// LogValue show a redacted form such as
// nxcloud.Credentials{AccessKey:"fme2…", AccessSecret:REDACTED}.
//
// The zero value has no secret; build Credentials with [NewCredentials].
type Credentials struct {
	// AccessKey is the account's access key (the console's "AccessKey").
	AccessKey string
	secret    provider.Secret
}

// NewCredentials returns the credentials for accessKey and accessSecret.
func NewCredentials(accessKey, accessSecret string) Credentials {
	return Credentials{AccessKey: accessKey, secret: provider.NewSecret(accessSecret)}
}

func (c Credentials) valid() error {
	if m := c.redacted().Missing(); m != "" {
		return fmt.Errorf("nxcloud: Config.Credentials.%s is not set: build the Credentials with NewCredentials", m)
	}
	return nil
}

func (c Credentials) redacted() provider.Redacted {
	return provider.Redact("nxcloud.Credentials", "AccessKey", c.AccessKey, "AccessSecret", c.secret)
}

// String returns the redacted form.
func (c Credentials) String() string { return c.redacted().String() }

// Format writes the redacted form whatever the verb and flags (%#v included).
func (c Credentials) Format(f fmt.State, verb rune) { c.redacted().Format(f, verb) }

// LogValue implements slog.LogValuer with the redacted form.
func (c Credentials) LogValue() slog.Value { return c.redacted().LogValue() }
