package icekredit

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
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
	// pwd holds the hash inside a closure: reflection-based printing of a struct
	// that holds Credentials in an unexported field (where fmt cannot call our
	// methods) reaches a func, which fmt prints as an address, never its value.
	// (A plain pointer to a string field is dereferenced by %s and %d.)
	pwd *secret
}

type secret struct{ md5hex func() string }

func newSecret(h string) *secret { return &secret{md5hex: func() string { return h }} }

// NewCredentials returns the credentials for merchantName, keeping only the
// lowercase hex MD5 of password.
func NewCredentials(merchantName, password string) Credentials {
	return Credentials{MerchantName: merchantName, pwd: newSecret(md5Hex(password))}
}

// NewCredentialsFromMD5 returns the credentials for merchantName from the MD5 of
// the password (32 hex digits), for deployments that store the hash, never the
// password.
func NewCredentialsFromMD5(merchantName, passwordMD5 string) (Credentials, error) {
	h := strings.ToLower(passwordMD5)
	if b, err := hex.DecodeString(h); err != nil || len(b) != md5.Size {
		return Credentials{}, errors.New("icekredit: the password MD5 must be 32 hex digits")
	}
	return Credentials{MerchantName: merchantName, pwd: newSecret(h)}, nil
}

// md5Hex is the vendor's password transform: lowercase hex MD5.
func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func (c Credentials) valid() error {
	switch {
	case c.MerchantName == "":
		return errors.New("icekredit: Config.Credentials.MerchantName is empty")
	case c.pwd == nil:
		return errors.New("icekredit: Config.Credentials has no password: build it with NewCredentials or NewCredentialsFromMD5")
	}
	return nil
}

// String returns the redacted form.
func (c Credentials) String() string {
	pw := "REDACTED"
	if c.pwd == nil {
		pw = "unset"
	}
	return fmt.Sprintf("icekredit.Credentials{MerchantName:%q, Password:%s}", abbrev(c.MerchantName), pw)
}

// GoString returns the redacted form, for %#v.
func (c Credentials) GoString() string { return c.String() }

// Format writes the redacted form whatever the verb and flags, so that no verb
// (%x, %q, %+v) can reach the fields.
func (c Credentials) Format(f fmt.State, _ rune) { io.WriteString(f, c.String()) }

// LogValue implements slog.LogValuer with the redacted form.
func (c Credentials) LogValue() slog.Value {
	pw := "REDACTED"
	if c.pwd == nil {
		pw = "unset"
	}
	return slog.GroupValue(slog.String("merchant_name", abbrev(c.MerchantName)), slog.String("password", pw))
}

// abbrev keeps at most the first 4 characters, and never more than half, of an
// identifier: enough to tell accounts apart in a log, not enough to log in.
func abbrev(s string) string {
	if s == "" {
		return ""
	}
	r := []rune(s)
	return string(r[:min(4, len(r)/2)]) + "…"
}
