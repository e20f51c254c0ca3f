package nxcloud

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
)

// Credentials are an NXCloud account's API key pair: the access key, sent in the
// accessKey header of every request, and the access secret, which only ever goes
// into the signature hash. The secret never leaves the process and is never
// printed: String, GoString, Format and LogValue show a redacted form such as
// nxcloud.Credentials{AccessKey:"fme2…", AccessSecret:REDACTED}.
//
// The zero value has no secret; build Credentials with [NewCredentials].
type Credentials struct {
	// AccessKey is the account's access key (the console's "AccessKey").
	AccessKey string
	// sec hides the secret from reflection-based printing of a struct that holds
	// Credentials in an unexported field, where fmt cannot call our methods: with a
	// verb it rejects (%s on a pointer) fmt prints the pointed-to struct, but it
	// always prints a func as an address.
	sec *secret
}

type secret struct{ value func() string }

// NewCredentials returns the credentials for accessKey and accessSecret.
func NewCredentials(accessKey, accessSecret string) Credentials {
	return Credentials{AccessKey: accessKey, sec: &secret{value: func() string { return accessSecret }}}
}

func (c Credentials) secret() string {
	if c.sec == nil {
		return ""
	}
	return c.sec.value()
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

// GoString returns the redacted form, for %#v.
func (c Credentials) GoString() string { return c.String() }

// Format writes the redacted form whatever the verb and flags, so that no verb
// (%x, %q, %+v) can reach the fields.
func (c Credentials) Format(f fmt.State, _ rune) { io.WriteString(f, c.String()) }

// LogValue implements slog.LogValuer with the redacted form.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(slog.String("access_key", abbrev(c.AccessKey)), slog.String("access_secret", c.secretState()))
}

// abbrev keeps at most the first 4 characters, and never more than half, of an
// identifier: enough to tell accounts apart in a log, not enough to use it.
func abbrev(s string) string {
	if s == "" {
		return ""
	}
	r := []rune(s)
	return string(r[:min(4, len(r)/2)]) + "…"
}
