package vertexplay_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authwire/authwire/outcome"
	"github.com/authwire/authwire/providers/vertexplay"
	"github.com/authwire/authwire/providers/vertexplay/vertexplaytest"
)

func reply(status int, body string) (*http.Response, []byte) {
	u, _ := url.Parse("https://api.example.com/v2/members/transaction")
	return &http.Response{StatusCode: status, Header: http.Header{}, Request: &http.Request{URL: u}}, []byte(body)
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
		kind   outcome.Kind
		after  time.Duration
		code   string
		hint   string
	}{
		{"success", 200, `{"code":0,"message":"No error.","data":{}}`, outcome.Success, 0, "", ""},
		{"pending is a success for the framework", 200, `{"code":35,"message":"pending"}`, outcome.Success, 0, "", ""},
		{"rate limited", 200, `{"code":77,"message":"Too many requests."}`, outcome.RateLimited, time.Second, "77", ""},
		{"internal error", 200, `{"code":7}`, outcome.Transient, 0, "7", ""},
		{"token rejected", 200, `{"code":12,"message":"Authorization error."}`, outcome.TokenRejected, 0, "12", ""},
		{"HTTP 401 with envelope", 401, `{"code":12}`, outcome.TokenRejected, 0, "12", ""},
		{"HTTP 401 bare", 401, `Unauthorized`, outcome.TokenRejected, 0, "", ""},
		{"agent blocked", 200, `{"code":10}`, outcome.Permanent, 0, "10", "Secret KEY"},
		{"transaction exists", 200, `{"code":3}`, outcome.Permanent, 0, "3", "transId"},
		{"signature", 200, `{"code":83}`, outcome.Permanent, 0, "83", "clock"},
		{"encryption", 200, `{"code":84}`, outcome.Permanent, 0, "84", "API KEY"},
		{"undocumented", 200, `{"code":999}`, outcome.Transient, 0, "999", ""},
		{"bare 502", 502, `<html>bad gateway</html>`, outcome.Transient, 0, "", ""},
		{"2xx without a code", 200, `{"ok":true}`, outcome.Unknown, 0, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := vertexplay.Classify(reply(tc.status, tc.body))
			if r.Kind != tc.kind || r.After != tc.after {
				t.Fatalf("result = %+v, want kind %s after %v", r, tc.kind, tc.after)
			}
			if tc.kind == outcome.Success {
				if r.Err != nil {
					t.Fatalf("success carries %v", r.Err)
				}
				return
			}
			var e *vertexplay.Error
			if !errors.As(r.Err, &e) || e.Code != tc.code || e.Kind != tc.kind {
				t.Fatalf("err = %#v", r.Err)
			}
			if k, _ := outcome.KindOf(r.Err); k != tc.kind {
				t.Fatalf("OutcomeKind %s", k)
			}
			if !strings.Contains(e.Hint, tc.hint) {
				t.Fatalf("hint %q lacks %q", e.Hint, tc.hint)
			}
			if !strings.HasPrefix(e.Error(), "vertexplay: ") {
				t.Fatalf("Error() = %q", e.Error())
			}
		})
	}
}

// TestErrPending: code 35 matches ErrPending and holds the vendor's *Error; a
// failure code does not match it.
func TestErrPending(t *testing.T) {
	e := setup(t, vertexplaytest.Config{}, nil)
	e.sim.AddPlayer("pat", "0")
	e.sim.HoldTransfers(1)
	_, err := e.c.Transfer(context.Background(), vertexplay.TransferRequest{Username: "pat", Amount: "1", TransID: "p-1"})
	var ve *vertexplay.Error
	if !errors.Is(err, vertexplay.ErrPending) || !errors.As(err, &ve) || ve.Code != "35" || ve.TraceID == "" {
		t.Fatalf("err = %v, want ErrPending holding code 35 with a logUUID", err)
	}
	_, err = e.c.Transfer(context.Background(), vertexplay.TransferRequest{Username: "pat", Amount: "1", TransID: "p-1"})
	if !errors.As(err, &ve) || ve.Code != "3" || errors.Is(err, vertexplay.ErrPending) {
		t.Fatalf("err = %v, want code 3, not pending", err)
	}
}

// TestNothingSecretIsPrinted checks every printing path of the types that hold
// or describe a secret.
func TestNothingSecretIsPrinted(t *testing.T) {
	const secret = "s3cr3t-Secret-KEY=="
	creds, err := vertexplay.NewCredentials(vecAgent, vecAPIKey, secret)
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := vertexplay.NewSigner(vertexplay.SignerConfig{Credentials: creds})
	e := &vertexplay.Error{Code: "84", Message: "Encryption failed.", HTTPStatus: 200, TraceID: "u-1", Op: "/v2/auth", Kind: outcome.Permanent, Hint: "check the API KEY"}
	type holder struct {
		c vertexplay.Credentials // unexported: fmt cannot call its methods
		C vertexplay.Credentials
		s *vertexplay.Signer
	}
	values := []any{creds, &creds, signer, *signer, e, holder{creds, creds, signer}}
	forbidden := []string{secret, vecAPIKey, vecAPIKey[:16], strings.ToUpper(vecAPIKey[:16]), "examplesecret"}
	check := func(what, out string) {
		t.Helper()
		for _, f := range forbidden {
			if strings.Contains(out, f) {
				t.Fatalf("%s leaks %q: %s", what, f, out)
			}
		}
	}
	for i, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
			check(fmt.Sprintf("value %d %s", i, verb), fmt.Sprintf(verb, v))
		}
	}
	check("Error()", e.Error())
	if s := creds.String(); !strings.Contains(s, "REDACTED") || !strings.Contains(s, "inte…") {
		t.Fatalf("String() = %s", s)
	}
	var buf bytes.Buffer
	for _, h := range []slog.Handler{slog.NewTextHandler(&buf, nil), slog.NewJSONHandler(&buf, nil)} {
		slog.New(h).Info("login", "creds", creds, "signer", signer, "err", e)
	}
	check("slog", buf.String())
	if !strings.Contains(buf.String(), "REDACTED") {
		t.Fatalf("slog output lacks the redacted form: %s", buf.String())
	}
}
