package provider

import (
	"net/http"
	"time"

	"golang.org/x/oauth2"

	"github.com/authwire/authwire/outcome"
	"github.com/authwire/authwire/roundtripper"
	"github.com/authwire/authwire/tokensource"
)

// Spec is a vendor's declaration: what is truly the vendor's, and nothing a user
// configures (that is [Options]). A provider package builds one from its
// credentials and hands it to [New].
type Spec struct {
	// Name names the vendor in errors, logs and metrics ("acme"). Required.
	Name string
	// BaseURLs are the origins the credential (token or signature) is for; the
	// first is the base that relative paths are resolved against. Required.
	BaseURLs []string
	// LoginURL is the login endpoint, absolute or relative to the first base URL;
	// the login's credentials go only to its origin (and the BaseURLs).
	LoginURL string

	// Envelope is the vendor's reply envelope and code table. When set it is the
	// default Classifier, and [Client.Call] decodes its payload field.
	Envelope *outcome.Envelope
	// Classifier decides what a reply means; nil means Envelope.Classify, or the
	// HTTP status alone when there is no Envelope either.
	Classifier outcome.Classifier
	// LoginClassifier decides what a login reply means; nil means Classifier
	// with TokenRejected read as Permanent: there is no token to reject yet, so
	// the credentials were refused, and the token source holds the error instead
	// of logging in again in a loop.
	LoginClassifier outcome.Classifier

	// Signer, if set, signs every attempt to the BaseURLs.
	Signer roundtripper.Signer
	// SignLogin sends the login through the Signer too.
	SignLogin bool
	// Login, if set, obtains tokens (see [JSONLogin] and [LoginFunc]); the client
	// then puts a token on every request to the BaseURLs and logs in again once
	// when the vendor rejects it. A Spec with neither Signer nor Login is for a
	// vendor that authenticates the transport (a client certificate in
	// Options.Transport).
	Login Login
	// Token tunes the token cache.
	Token TokenOptions
	// TokenHeader is the header that carries the token; empty means
	// "Authorization". It is written with exactly this spelling.
	TokenHeader string
	// TokenFormat renders the header's value; nil means "<type> <token>"
	// ("Bearer x"); roundtripper.RawToken sends the bare token.
	TokenFormat func(*oauth2.Token) string

	// SafeHeaders are the vendor's headers that carry no credential, shown as
	// they are in debug logs; every other header is REDACTED.
	SafeHeaders []string
	// LimitKey names the rate budget a request draws from; nil means its host.
	// A vendor that counts per account returns one key per account.
	LimitKey func(*http.Request) string
	// PerAttempt, if set, is called on each attempt's outgoing copy of a request
	// to the vendor, logins included, before it is signed (fixed headers such as
	// a language).
	PerAttempt func(*http.Request)

	// Timeout and AttemptTimeout are the vendor's defaults for
	// Options.Timeout and Options.AttemptTimeout; zero means [DefaultTimeout]
	// and [DefaultAttemptTimeout].
	Timeout, AttemptTimeout time.Duration
}

// TokenOptions tune a Spec's token cache. The zero value uses tokensource's
// defaults.
type TokenOptions struct {
	// Lifetime is the lifetime of a token whose login reply states none; zero
	// means [DefaultTokenLifetime] (or only the sliding expiry, when set).
	Lifetime time.Duration
	// Sliding declares tokens valid for this long after their last successful
	// use; early refresh is then off (using the token keeps it alive).
	Sliding time.Duration
	// EarlyRefresh and Jitter set the window before expiry in which a background
	// refresh starts (tokensource.WithEarlyRefresh); zero keeps its defaults.
	EarlyRefresh, Jitter time.Duration
	// PermanentErrorHold is how long a permanent login error (a wrong password)
	// is returned without asking the vendor again; zero keeps tokensource's
	// default.
	PermanentErrorHold time.Duration
	// StoreKey names the token in Options.TokenStore: derive it from the
	// credential's identity and the login host (never from a secret). Required
	// when a TokenStore is given.
	StoreKey string
	// Options are further tokensource options, applied last.
	Options []tokensource.Option
}
