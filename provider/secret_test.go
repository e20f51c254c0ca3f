package provider_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/authwire/authwire/provider"
)

const plain = "s3cr3t-Value-42"

// holder keeps a Secret where fmt cannot call its methods: an unexported field,
// printed by reflection.
type holder struct {
	name string
	sec  provider.Secret
	ptr  *provider.Secret
}

// noLeak fails if out contains the secret or a common encoding of it.
func noLeak(t *testing.T, what, out string) {
	t.Helper()
	for _, enc := range []string{plain, fmt.Sprintf("%x", plain), fmt.Sprintf("%X", plain), strings.ToLower(plain)} {
		if strings.Contains(strings.ToLower(out), strings.ToLower(enc)) {
			t.Errorf("%s leaks the secret: %s", what, out)
		}
	}
}

func TestSecretNeverPrinted(t *testing.T) {
	s := provider.NewSecret(plain)
	h := holder{name: "h", sec: s, ptr: &s}
	creds := provider.Redact("vendor.Credentials", "AccountID", "acct-12345", "Secret", s)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10.3s", "%T"} {
		for name, v := range map[string]any{"Secret": s, "*Secret": &s, "holder": h, "*holder": &h, "Redacted": creds, "[]any": []any{s, h}} {
			t.Run(verb+" "+name, func(t *testing.T) { noLeak(t, verb+" "+name, fmt.Sprintf(verb, v)) })
		}
	}
	if got := fmt.Sprintf("%v|%#v|%x|%d", s, s, s, s); got != "REDACTED|REDACTED|REDACTED|REDACTED" {
		t.Errorf("printed forms = %s", got)
	}
	if got := fmt.Sprint(provider.Secret{}, provider.NewSecret("")); got != "unset unset" {
		t.Errorf("zero Secret prints %q", got)
	}
}

func TestSecretEncodings(t *testing.T) {
	s := provider.NewSecret(plain)
	type exported struct {
		Secret  provider.Secret
		Pointer *provider.Secret
		Map     map[string]provider.Secret
	}
	b, err := json.Marshal(exported{Secret: s, Pointer: &s, Map: map[string]provider.Secret{"k": s}})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"Secret":"REDACTED","Pointer":"REDACTED","Map":{"k":"REDACTED"}}`; string(b) != want {
		t.Errorf("json = %s, want %s", b, want)
	}
	if b, _ := json.Marshal(provider.Secret{}); string(b) != `"unset"` {
		t.Errorf("json of the zero Secret = %s", b)
	}
	if txt, _ := s.MarshalText(); string(txt) != "REDACTED" {
		t.Errorf("MarshalText = %s", txt)
	}
	for name, newHandler := range map[string]func(*bytes.Buffer) slog.Handler{
		"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
	} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			log := slog.New(newHandler(&buf))
			log.Info("call", "secret", s, "ptr", &s, "holder", holder{sec: s}, "any", []any{s},
				"creds", provider.Redact("vendor.Credentials", "AccountID", "acct-12345", "Secret", s))
			noLeak(t, name, buf.String())
			if !strings.Contains(buf.String(), "REDACTED") || !strings.Contains(buf.String(), "acct…") {
				t.Errorf("the redacted forms are missing: %s", buf.String())
			}
		})
	}
}

func TestSecretReveal(t *testing.T) {
	s := provider.NewSecret(plain)
	if s.Reveal() != plain || !s.IsSet() {
		t.Errorf("Reveal = %q, IsSet = %v", s.Reveal(), s.IsSet())
	}
	var zero provider.Secret
	if zero.Reveal() != "" || zero.IsSet() || provider.NewSecret("").IsSet() {
		t.Error("the zero Secret and NewSecret(\"\") must be unset and reveal \"\"")
	}
}

func TestAbbrev(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"a", "…"},
		{"ab", "a…"},
		{"abcde", "ab…"},
		{"abcdefgh", "abcd…"},
		{"integratorNBTest01", "inte…"},
		{"ключ-доступа", "ключ…"}, // runes, not bytes
		{"日本", "日…"},
	} {
		if got := provider.Abbrev(tc.in); got != tc.want {
			t.Errorf("Abbrev(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRedact(t *testing.T) {
	set := provider.Redact("vendor.Credentials", "AgentID", "integratorNBTest01", "APIKey", provider.NewSecret("k"), "Other", 42)
	if got, want := set.String(), `vendor.Credentials{AgentID:"inte…", APIKey:REDACTED, Other:REDACTED}`; got != want {
		t.Errorf("String = %s, want %s", got, want)
	}
	if got := fmt.Sprintf("%#v %x", set, set); got != set.String()+" "+set.String() {
		t.Errorf("Format = %s", got)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "c", set)
	if want := `"c":{"agent_id":"inte…","api_key":"REDACTED","other":"REDACTED"}`; !strings.Contains(buf.String(), want) {
		t.Errorf("log = %s, want %s", buf.String(), want)
	}
	tests := []struct {
		name string
		r    provider.Redacted
		want string
	}{
		{"all set", set, ""},
		{"empty identifier", provider.Redact("v.C", "AccessKey", "", "AccessSecret", provider.NewSecret("s")), "AccessKey"},
		{"unset secret", provider.Redact("v.C", "AccessKey", "k", "AccessSecret", provider.Secret{}), "AccessSecret"},
		{"first of two", provider.Redact("v.C", "A", "a", "B", provider.Secret{}, "C", ""), "B"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.r.Missing(); got != tc.want {
				t.Errorf("Missing = %q, want %q", got, tc.want)
			}
		})
	}
	if got := provider.Redact("v.C", "AccessSecret", provider.Secret{}).String(); got != "v.C{AccessSecret:unset}" {
		t.Errorf("unset form = %s", got)
	}
}

func ExampleSecret() {
	type credentials struct {
		account string
		key     provider.Secret
	}
	c := credentials{account: "merchant-acme", key: provider.NewSecret("hunter2")}
	fmt.Println(c.key, provider.Abbrev(c.account))
	fmt.Println(provider.Redact("vendor.Credentials", "Account", c.account, "Key", c.key))
	fmt.Println(len(c.key.Reveal())) // only the signing code calls Reveal
	// Output:
	// REDACTED merc…
	// vendor.Credentials{Account:"merc…", Key:REDACTED}
	// 7
}
