package icekredit

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"

	"github.com/authwire/authwire/provider"
)

// Credentials are an IceKredit merchant's login: the merchant name and the MD5 of
// the password. The plain password is hashed once, in [NewCredentials], and never
// stored; the hash is what goes on the wire, so it is as secret as the password and
// is never printed: String, GoString, Format and LogValue show a redacted form such
// as icekredit.Credentials{MerchantName:"ac…", Password:REDACTED}.
//
// The zero value has no password; build Credentials with [NewCredentials] or
// [NewCredentialsFromMD5].
type Credentials struct {
	// MerchantName is the login name given at onboarding.
	MerchantName string
	pwd          provider.Secret // the lowercase hex MD5
}

// NewCredentials returns the credentials for merchantName, keeping only the
// lowercase hex MD5 of password.
func NewCredentials(merchantName, password string) Credentials {
	return Credentials{MerchantName: merchantName, pwd: provider.NewSecret(md5Hex(password))}
}

// NewCredentialsFromMD5 returns the credentials for merchantName from the MD5 of
// the password (32 hex digits), for deployments that store the hash, never the
// password.
func NewCredentialsFromMD5(merchantName, passwordMD5 string) (Credentials, error) {
	b, err := hex.DecodeString(passwordMD5)
	if err != nil || len(b) != md5.Size {
		return Credentials{}, errors.New("icekredit: the password MD5 must be 32 hex digits")
	}
	return Credentials{MerchantName: merchantName, pwd: provider.NewSecret(hex.EncodeToString(b))}, nil
}

// md5Hex is the vendor's password transform: lowercase hex MD5.
func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func (c Credentials) redacted() provider.Redacted {
	return provider.Redact("icekredit.Credentials", "MerchantName", c.MerchantName, "Password", c.pwd)
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
