package provider

import (
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"unicode"
)

// Secret is an opaque secret value (an access secret, a password hash, a key):
// every way of printing or encoding it — String, GoString, Format under every
// verb and flag, LogValue, MarshalJSON, MarshalText — shows "REDACTED", or
// "unset" for the zero Secret. [Secret.Reveal] is the one way out.
//
// The value is held in a closure, not in a string field: where fmt cannot call
// its methods (a struct that holds a Secret in an unexported field is printed by
// reflection, which even dereferences a pointer field under %s or %d), it reaches
// a func, and fmt prints a func as an address under every verb.
type Secret struct{ v func() string }

// NewSecret returns a Secret holding s; an empty s gives the zero (unset) Secret.
func NewSecret(s string) Secret {
	if s == "" {
		return Secret{}
	}
	return Secret{v: func() string { return s }}
}

// Reveal returns the secret value ("" when unset): the one way out, for the code
// that signs with it or sends it where the vendor asks. Never print or log it.
func (s Secret) Reveal() string {
	if s.v == nil {
		return ""
	}
	return s.v()
}

// IsSet reports whether the Secret holds a value.
func (s Secret) IsSet() bool { return s.v != nil }

// String returns "REDACTED", or "unset" for the zero Secret.
func (s Secret) String() string {
	if s.v == nil {
		return "unset"
	}
	return "REDACTED"
}

// GoString returns [Secret.String], for %#v.
func (s Secret) GoString() string { return s.String() }

// Format writes [Secret.String] whatever the verb and flags (%x, %q, %d...).
func (s Secret) Format(f fmt.State, _ rune) { io.WriteString(f, s.String()) }

// LogValue implements slog.LogValuer with [Secret.String].
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON encodes [Secret.String] as a JSON string.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(strconv.Quote(s.String())), nil }

// MarshalText returns [Secret.String].
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Abbrev shortens an identifier (an account name, a key's public half) to at
// most its first 4 runes, and never more than half of them, followed by "…":
// enough to tell accounts apart in a log, not enough to use one. "" stays "".
func Abbrev(id string) string {
	if id == "" {
		return ""
	}
	r := []rune(id)
	return string(r[:min(4, len(r)/2)]) + "…"
}

// Redacted is the one printed form of a credential, built by [Redact]: every
// credential type's String, GoString, Format and LogValue return it, so that all
// vendors print alike and none can reach a secret.
type Redacted struct {
	typ    string
	fields []any
}

// Redact returns the printed form of the credential type typ (e.g.
// "vendor.Credentials") from name, value pairs: a string value is an
// identifier, shown abbreviated ([Abbrev]) and quoted; a [Secret] shows
// REDACTED or unset; any other value shows REDACTED. Names are the Go field
// names; the log keys are their snake_case ("AgentID" → "agent_id").
func Redact(typ string, nameValues ...any) Redacted { return Redacted{typ, nameValues} }

// each calls fn with every name, its safe text, and whether it is set.
func (r Redacted) each(fn func(name, text string, quote, set bool)) {
	for i := 0; i+1 < len(r.fields); i += 2 {
		name, _ := r.fields[i].(string)
		switch v := r.fields[i+1].(type) {
		case string:
			fn(name, Abbrev(v), true, v != "")
		case Secret:
			fn(name, v.String(), false, v.IsSet())
		default:
			fn(name, "REDACTED", false, v != nil)
		}
	}
}

// String returns the form typ{Name:"abbr…", Secret:REDACTED}.
func (r Redacted) String() string {
	var b strings.Builder
	b.WriteString(r.typ + "{")
	sep := ""
	r.each(func(name, text string, quote, _ bool) {
		if quote {
			text = strconv.Quote(text)
		}
		b.WriteString(sep + name + ":" + text)
		sep = ", "
	})
	return b.String() + "}"
}

// Format writes [Redacted.String] whatever the verb and flags.
func (r Redacted) Format(f fmt.State, _ rune) { io.WriteString(f, r.String()) }

// LogValue returns a group of the fields under their snake_case keys.
func (r Redacted) LogValue() slog.Value {
	var attrs []slog.Attr
	r.each(func(name, text string, _, _ bool) { attrs = append(attrs, slog.String(snake(name), text)) })
	return slog.GroupValue(attrs...)
}

// Missing returns the name of the first identifier that is empty or Secret that
// is unset, or "" when every field is set: a credential built field by field,
// not by its constructor, is refused with it.
func (r Redacted) Missing() (name string) {
	r.each(func(n, _ string, _, set bool) {
		if !set && name == "" {
			name = n
		}
	})
	return name
}

// snake turns a Go field name into a log key: "AccessKey" → "access_key",
// "APIKey" → "api_key", "AgentID" → "agent_id".
func snake(name string) string {
	r := []rune(name)
	var b strings.Builder
	for i, c := range r {
		if i > 0 && unicode.IsUpper(c) && (unicode.IsLower(r[i-1]) || i+1 < len(r) && unicode.IsLower(r[i+1])) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToLower(c))
	}
	return b.String()
}
