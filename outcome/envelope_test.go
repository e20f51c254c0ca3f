package outcome_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authwire/authwire/outcome"
)

var acme = &outcome.Envelope{
	Vendor: "acme", CodeField: "code", MessageFields: []string{"message", "msg"}, TraceField: "trace_id",
	Codes: outcome.Table[string]{
		Success: "0", Undocumented: outcome.Transient, RateLimitAfter: 2 * time.Second,
		Codes: map[string]outcome.Rule{
			"7":     {Kind: outcome.TokenRejected, Meaning: "token expired"},
			"42900": {Kind: outcome.RateLimited, Meaning: "too frequent"},
			"99":    {Kind: outcome.Transient, Meaning: "system error"},
			"11":    {Kind: outcome.Permanent, Meaning: "bad parameter", Hint: "check the phone number"},
		},
	},
}

func reply(status int, header ...string) *http.Response {
	r := &http.Response{StatusCode: status, Header: http.Header{}, Request: &http.Request{URL: &url.URL{Path: "/v1/send"}}}
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	return r
}

func TestEnvelopeClassify(t *testing.T) {
	tests := []struct {
		name     string
		env      *outcome.Envelope
		resp     *http.Response
		body     string
		kind     outcome.Kind
		code     string // "" and no error expected for success
		after    time.Duration
		contains string
	}{
		{"success number", acme, reply(200), `{"code":0,"data":{}}`, outcome.Success, "", 0, ""},
		{"success string", acme, reply(200), `{"code":"0"}`, outcome.Success, "", 0, ""},
		{"success float", acme, reply(200), `{"code":0.0}`, outcome.Success, "", 0, ""},
		{"too frequent in 200", acme, reply(200), `{"code":42900,"msg":"slow down"}`, outcome.RateLimited, "42900", 2 * time.Second, "slow down"},
		{"too frequent as string in 401", acme, reply(401), `{"code":"42900"}`, outcome.RateLimited, "42900", 2 * time.Second, "too frequent"},
		{"too frequent in 429 with Retry-After", acme, reply(429, "Retry-After", "5"), `{"code":42900}`, outcome.RateLimited, "42900", 5 * time.Second, ""},
		{"token expired in 200", acme, reply(200), `{"code":7}`, outcome.TokenRejected, "7", 0, "token expired"},
		{"system error in 500", acme, reply(500), `{"code":99,"trace_id":"t-9"}`, outcome.Transient, "99", 0, "trace_id t-9"},
		{"permanent with hint", acme, reply(200), `{"code":11}`, outcome.Permanent, "11", 0, "check the phone number"},
		{"undocumented", acme, reply(200), `{"code":12345}`, outcome.Transient, "12345", 0, "undocumented"},
		{"success code in 500 is success", acme, reply(500), `{"code":0}`, outcome.Success, "", 0, ""},
		{"2xx without envelope", acme, reply(200), `<html>`, outcome.Unknown, "", 0, "reply has no code"},
		{"2xx with null code", acme, reply(200), `{"code":null}`, outcome.Unknown, "", 0, "reply has no code"},
		{"2xx with empty code", acme, reply(200), `{"code":""}`, outcome.Unknown, "", 0, "reply has no code"},
		{"404 without envelope", acme, reply(404), `not found`, outcome.Permanent, "", 0, "Not Found"},
		{"503 without envelope", acme, reply(503), ``, outcome.Transient, "", 0, "HTTP 503"},
		{"401 without envelope", acme, reply(401), ``, outcome.TokenRejected, "", 0, ""},
		{"bare allowed", &outcome.Envelope{Vendor: "raw", CodeField: "code", AllowBare: true}, reply(200), `[1,2]`, outcome.Success, "", 0, ""},
		{"status rule beats the code", &outcome.Envelope{Vendor: "s", CodeField: "code", MessageFields: []string{"message"}, Status: map[int]outcome.Kind{401: outcome.TokenRejected},
			Codes: outcome.Table[string]{Success: "0"}}, reply(401), `{"code":0,"message":"who are you"}`, outcome.TokenRejected, "0", 0, "who are you"},
		{"status rule without envelope", &outcome.Envelope{Vendor: "s", CodeField: "code", Status: map[int]outcome.Kind{401: outcome.TokenRejected}},
			reply(401), ``, outcome.TokenRejected, "", 0, "Unauthorized"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.env.Classify(tt.resp, []byte(tt.body))
			if r.Kind != tt.kind || r.After != tt.after {
				t.Fatalf("kind %s after %v, want %s after %v", r.Kind, r.After, tt.kind, tt.after)
			}
			if tt.kind == outcome.Success {
				if r.Err != nil {
					t.Fatalf("success with error %v", r.Err)
				}
				return
			}
			var e *outcome.Error
			if !errors.As(r.Err, &e) {
				t.Fatalf("Err = %T %v, want *outcome.Error", r.Err, r.Err)
			}
			if e.Code != tt.code || e.Kind != tt.kind || e.Vendor != tt.env.Vendor || e.HTTPStatus != tt.resp.StatusCode || e.Op != "/v1/send" {
				t.Errorf("error %+v", e)
			}
			if k, _ := outcome.KindOf(r.Err); k != tt.kind {
				t.Errorf("KindOf = %s", k)
			}
			if v, c := outcome.CodeOf(r.Err); v != tt.env.Vendor || c != tt.code {
				t.Errorf("CodeOf = %q %q", v, c)
			}
			if !strings.Contains(e.Error(), tt.contains) {
				t.Errorf("%q does not contain %q", e.Error(), tt.contains)
			}
		})
	}
}

func TestEnvelopeDecode(t *testing.T) {
	var out struct{ N int }
	if err := acme.Decode([]byte(`{"code":0,"data":{"n":3}}`), &out); err != nil || out.N != 3 {
		t.Fatalf("Decode = %v, %+v", err, out)
	}
	if err := acme.Decode([]byte(`{"code":0,"data":null}`), &out); err != nil || out.N != 3 {
		t.Fatalf("null data: %v, %+v", err, out)
	}
	err := acme.Decode([]byte(`{"code":0,"trace_id":"t-1","data":"x"}`), &out)
	if err == nil || !strings.Contains(err.Error(), "trace_id t-1") {
		t.Fatalf("bad data: %v", err)
	}
	f, ok := acme.Parse([]byte(`{"code":"42900","msg":"m","trace_id":42}`))
	if !ok || f.Code != "42900" || f.Message != "m" || f.TraceID != "42" {
		t.Fatalf("Parse = %+v, %v", f, ok)
	}
}

// TestErrorNeverCarriesTheBody: the error is built from the envelope's fields
// only; the rest of the body (a secret echoed back) is not in it.
func TestErrorNeverCarriesTheBody(t *testing.T) {
	r := acme.Classify(reply(200), []byte(`{"code":11,"msg":"bad","password":"hunter2","data":{"token":"t0ken"}}`))
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		if s := fmt.Sprintf(verb, r.Err); strings.Contains(s, "hunter2") || strings.Contains(s, "t0ken") {
			t.Errorf("%s: %s", verb, s)
		}
	}
}

func TestRemap(t *testing.T) {
	login := outcome.Remap(acme.Classify, outcome.TokenRejected, outcome.Permanent)
	orig := acme.Classify(reply(200), []byte(`{"code":7}`))
	r := login(reply(200), []byte(`{"code":7}`))
	if r.Kind != outcome.Permanent || !outcome.IsPermanent(r.Err) || orig.Kind != outcome.TokenRejected {
		t.Fatalf("remapped %s (%v), original %s", r.Kind, r.Err, orig.Kind)
	}
	if r := login(reply(401), nil); r.Kind != outcome.Permanent || !outcome.IsPermanent(r.Err) {
		t.Fatalf("bare 401 remapped to %s (%v)", r.Kind, r.Err)
	}
	if r := login(reply(200), []byte(`{"code":42900}`)); r.Kind != outcome.RateLimited {
		t.Fatalf("other kinds changed: %s", r.Kind)
	}
}

func TestStringCodes(t *testing.T) {
	tab := outcome.StringCodes(outcome.Table[int]{Success: 0, RateLimitAfter: time.Second, Codes: map[int]outcome.Rule{42900: {Kind: outcome.RateLimited}}})
	if tab.Success != "0" || tab.Lookup("42900").Kind != outcome.RateLimited || tab.RateLimitAfter != time.Second {
		t.Fatalf("%+v", tab)
	}
}
