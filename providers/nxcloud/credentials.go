package nxcloud

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
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
	// sec is a func, which fmt always prints as an address: a struct holding
	// Credentials in an unexported field, where fmt cannot call our methods,
	// still shows no secret.
	sec func() string
}

// NewCredentials returns the credentials for accessKey and accessSecret.
func NewCredentials(accessKey, accessSecret string) Credentials {
	return Credentials{AccessKey: accessKey, sec: func() string { return accessSecret }}
}

func (c Credentials) secret() string {
	if c.sec == nil {
		return ""
	}
	return c.sec()
}

func (c Credentials) valid() error {
	switch {
	case c.AccessKey == "":
		return errors.New("nxcloud: Config.Credentials.AccessKey is empty")
	case c.secret() == "":
		return errors.New("nxcloud: Config.Credentials has no access secret: build it with NewCredentials")
	}
	return nil
}

func (c Credentials) secretState() string {
	if c.secret() == "" {
		return "unset"
	}
	return "REDACTED"
}

// String returns the redacted form.
func (c Credentials) String() string {
	return fmt.Sprintf("nxcloud.Credentials{AccessKey:%q, AccessSecret:%s}", abbrev(c.AccessKey), c.secretState())
}

// Format writes the redacted form whatever the verb and flags (%#v included).
func (c Credentials) Format(f fmt.State, _ rune) { io.WriteString(f, c.String()) }

// LogValue implements slog.LogValuer with the redacted form.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(slog.String("access_key", abbrev(c.AccessKey)), slog.String("access_secret", c.secretState()))
}

// abbrev keeps at most the first 4 characters, and never more than half, of an
// identifier: enough to tell accounts apart in a log, not enough to use it.
func abbrev(s string) string {
	r := []rune(s)
	if len(r) == 0 {
		return ""
	}
	return string(r[:min(4, len(r)/2)]) + "…"
}
