package vertexplay

import (
	"context"
	"math"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/authwire/authwire/breaker"
	"github.com/authwire/authwire/internal/fakevendor"
	"github.com/authwire/authwire/outcome"
	"github.com/authwire/authwire/provider"
	"github.com/authwire/authwire/retry"
)

// FuzzClassify feeds arbitrary replies (status, Retry-After, body) to Classify
// and classifyAuth, to the envelope decoding, to the token lifetime parsing and
// to Client.Do through the whole stack (the /v2/auth fetch included), and checks
// that nothing panics, that the outcome is one of the six kinds, and that every
// non-success carries a typed *Error agreeing with the outcome.
//
//	go test -run '^$' -fuzz '^FuzzClassify$' -fuzztime 10s ./providers/vertexplay
func FuzzClassify(f *testing.F) {
	// The spec's envelope, the code table, the token reply, malformed replies.
	seeds := []struct {
		status int
		after  string
		body   string
	}{
		{200, "", `{"code":0,"message":"No error.","data":[{"gameId":"1001","name":"Fortune Dragon","type":"slot"}],"logUUID":"5f0c"}`},
		{200, "", `{"code":0,"message":"No error.","data":{"games":[{"gameId":1002,"name":"x"}],"list":[]}}`},
		{200, "", `{"code":0,"message":"No error.","data":{"accessToken":"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjQxMDI0NDQ4MDAsImlhdCI6MTcwMDAwMDAwMH0.c2ln","expiresIn":3600,"tokenType":"Bearer"}}`},
		{200, "", `{"code":0,"data":{"accessToken":"a.b.c","expiresIn":-1}}`},
		{200, "", `{"code":0,"data":null}`},
		{200, "", `{"code":35,"message":"Transaction pending.","data":{"transId":"t1","amount":1.5}}`},
		{200, "", `{"code":77,"message":"Too many requests."}`},
		{200, "9", `{"code":77}`},
		{200, "", `{"code":12,"message":"Authorization error."}`},
		{401, "", `{"code":12,"message":"token expired","logUUID":"u"}`},
		{401, "", ``},
		{200, "", `{"code":83,"message":"Signature verification failed."}`},
		{200, "", `{"code":84}`},
		{200, "", `{"code":7,"message":"Internal error."}`},
		{200, "", `{"code":3}`},
		{200, "", `{"code":1e3}`},
		{200, "", `{"code":"0"}`},
		{200, "", `{"code":0,"data":"x"}`},
		{200, "", `<html>`},
		{200, "", ``},
		{502, "", "502 Bad Gateway\n"},
		{404, "", `{"code":11,"message":"unknown endpoint"}`},
		{307, "", ``},
		{0, "", `{}`},
	}
	for _, s := range seeds {
		f.Add(s.status, s.after, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, status int, after string, body []byte) {
		resp := &http.Response{StatusCode: status, Header: http.Header{}, Request: &http.Request{URL: &url.URL{Path: PathGames}}}
		if after != "" {
			resp.Header.Set("Retry-After", after)
		}
		r := Classify(resp, body)
		fakevendor.CheckResult(t, r)
		ar := classifyAuth(resp, body)
		fakevendor.CheckResult(t, ar)
		if ar.Kind == outcome.TokenRejected {
			t.Fatal("classifyAuth returned TokenRejected: there is no token on /v2/auth")
		}
		if f, ok := envelope.Parse(body); ok && f.Code == "" {
			t.Fatal("envelope.Parse reported ok without a code")
		}
		if d := tokenLifetime(time.Now(), time.Hour, string(body)); d <= 0 {
			t.Fatalf("tokenLifetime = %v, want > 0", d)
		}

		if status < 100 || status > 599 {
			return
		}
		// As a business reply, then as the /v2/auth reply.
		err := doWith(t, status, after, body, false)
		if r.Kind != outcome.Success && err == nil {
			t.Fatalf("Classify said %s but Do returned no error", r.Kind)
		}
		if err := doWith(t, status, after, body, true); err != nil {
			_ = err.Error()
		}
	})
}

const fuzzAPIKey = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

// doWith calls Games against a transport that answers /v2/auth (or, with
// atAuth, /v2/games) correctly and the other with the given reply: one attempt,
// no pacing, a breaker that never opens.
func doWith(t *testing.T, status int, after string, body []byte, atAuth bool) error {
	t.Helper()
	h := http.Header{"Content-Type": {"application/json"}}
	if after != "" {
		h.Set("Retry-After", after)
	}
	fuzzed := fakevendor.Reply{Status: status, Header: h, Body: body}
	auth := fakevendor.Reply{Status: 200, Header: http.Header{}, Body: []byte(`{"code":0,"message":"No error.","data":{"accessToken":"fuzz-token","expiresIn":3600,"tokenType":"Bearer"}}`)}
	games := fakevendor.Reply{Status: 200, Header: http.Header{}, Body: []byte(`{"code":0,"message":"No error.","data":[]}`)}
	rt := fakevendor.ByPath{AuthPath: auth, "": fuzzed}
	if atAuth {
		rt = fakevendor.ByPath{AuthPath: fuzzed, "": games}
	}
	creds, err := NewCredentials("fuzzAgent", fuzzAPIKey, "fuzz-secret")
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{
		BaseURL:     "https://vertexplay.invalid",
		Credentials: creds,
		Options: provider.Options{
			Transport: rt,
			Limiter:   fakevendor.NoLimit{},
			Breakers:  breaker.NewSet(breaker.Config{ConsecutiveFailures: math.MaxUint32}),
			Retry:     &retry.Policy{MaxAttempts: 1},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.Games(context.Background())
	return err
}
