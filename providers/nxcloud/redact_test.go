package nxcloud_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/authwire/authwire/providers/nxcloud"
	"github.com/authwire/authwire/providers/nxcloud/nxcloudtest"
)

// TestSecretNeverPrinted: no printing path of credentials, configs, signers or
// errors shows the access secret.
func TestSecretNeverPrinted(t *testing.T) {
	const secret = "s3cr3t-Value-42"
	creds := nxcloud.NewCredentials("fme2na3kdi3ki", secret)
	cfg := nxcloud.Config{Credentials: creds}
	signer := &nxcloud.Signer{Credentials: creds}
	hidden := struct{ c nxcloud.Credentials }{creds} // unexported: fmt cannot call its methods
	values := map[string]any{"credentials": creds, "*credentials": &creds, "config": cfg, "*config": &cfg, "signer": signer, "unexported field": hidden}
	forbidden := []string{secret, hex.EncodeToString([]byte(secret))}

	check := func(t *testing.T, what, out string) {
		t.Helper()
		for _, f := range forbidden {
			if strings.Contains(out, f) {
				t.Errorf("%s leaks the secret: %s", what, out)
			}
		}
	}
	for name, v := range values {
		t.Run(name, func(t *testing.T) {
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
				check(t, verb, fmt.Sprintf(verb, v))
			}
			for _, h := range []slog.Handler{slog.NewJSONHandler(new(bytes.Buffer), nil), slog.NewTextHandler(new(bytes.Buffer), nil)} {
				var buf bytes.Buffer
				var l *slog.Logger
				switch h.(type) {
				case *slog.JSONHandler:
					l = slog.New(slog.NewJSONHandler(&buf, nil))
				default:
					l = slog.New(slog.NewTextHandler(&buf, nil))
				}
				l.Info("msg", "v", v)
				check(t, "slog", buf.String())
			}
		})
	}
	if got := fmt.Sprint(creds); got != `nxcloud.Credentials{AccessKey:"fme2…", AccessSecret:REDACTED}` {
		t.Errorf("redacted form = %s", got)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("m", "creds", creds)
	if !strings.Contains(buf.String(), `"access_secret":"REDACTED"`) {
		t.Errorf("slog form = %s", buf.String())
	}

	// Errors from the vendor: a wrong secret, a parameter error, a lost reply.
	f := setup(t, nxcloudtest.Config{AccessSecret: "server-side"}, func(c *nxcloud.Config) {
		c.Credentials = nxcloud.NewCredentials(nxcloudtest.AccessKey, secret)
	})
	_, err := f.c.Login(context.Background())
	var ne *nxcloud.Error
	if !errors.As(err, &ne) || !nxcloud.IsAuth(err) {
		t.Fatalf("err = %v, want an authentication error", err)
	}
	for _, verb := range []string{"%v", "%+v", "%#v"} {
		check(t, "error "+verb, fmt.Sprintf(verb, err))
	}
}
