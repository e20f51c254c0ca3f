package nxcloud

import (
	"context"
	"math"
	"net/http"
	"net/url"
	"testing"

	"github.com/authwire/authwire/breaker"
	"github.com/authwire/authwire/internal/fakevendor"
	"github.com/authwire/authwire/outcome"
	"github.com/authwire/authwire/provider"
	"github.com/authwire/authwire/retry"
)

// FuzzClassify feeds arbitrary replies (status, Retry-After, body) to Classify,
// to the envelope decoding and to Client.Call through the whole stack, and checks
// that nothing panics, that the outcome is one of the six kinds, and that every
// non-success carries a typed *Error agreeing with the outcome.
//
//	go test -run '^$' -fuzz '^FuzzClassify$' -fuzztime 10s ./providers/nxcloud
func FuzzClassify(f *testing.F) {
	// The spec's envelopes, the replies the code table knows, and malformed ones.
	seeds := []struct {
		status int
		after  string
		body   string
	}{
		{200, "", `{"code":0,"message":"success","data":{"token":"abc"}}`},
		{200, "", `{"code":0,"msg":"success","data":{"requestId":"r1","url":"http://x/ota"}}`},
		{200, "", `{"code":0,"message":"success","data":{}}`},
		{200, "", `{"code":"0","message":"ok","data":null}`},
		{200, "", `{"code":2206,"message":"request is too frequent"}`},
		{200, "3", `{"code":2206,"msg":"too frequent"}`},
		{200, "Wed, 21 Oct 2015 07:28:00 GMT", `{"code":2206}`},
		{200, "", `{"code":1003,"message":"sign does not match"}`},
		{200, "", `{"code":9000,"message":"parameter exception"}`},
		{200, "", `{"code":9901,"msg":"parameter missing: phone"}`},
		{200, "", `{"code":9001,"message":"system business error","traceId":"t-1"}`},
		{200, "", `{"code":-1,"message":"request failed"}`},
		{200, "", `{"code":4242}`},
		{200, "", `{"code":99999999999999999999}`},
		{200, "", `{"code":"x"}`},
		{200, "", `{"code":null}`},
		{200, "", `{"code":0,"data":"not an object"}`},
		{200, "", `{"code":0,"data":[1,2]}`},
		{200, "", `<html>`},
		{200, "", ``},
		{503, "", `Service Unavailable`},
		{502, "120", `{"code":9000,"message":"bad"}`},
		{429, "", ``},
		{301, "", ``},
		{0, "", `{}`},
		{-1, "-5", `{"code":0}`},
	}
	for _, s := range seeds {
		f.Add(s.status, s.after, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, status int, after string, body []byte) {
		resp := &http.Response{StatusCode: status, Header: http.Header{}, Request: &http.Request{URL: &url.URL{Path: PathGetCode}}}
		if after != "" {
			resp.Header.Set("Retry-After", after)
		}
		r := Classify(resp, body)
		fakevendor.CheckResult(t, r)
		if f, ok := envelope.Parse(body); ok && f.Code == "" {
			t.Fatalf("envelope.Parse reported ok without a code")
		}
		_ = r.Kind.String()

		// The same reply through Client.Call (status kept to what an HTTP client sees).
		if status < 100 || status > 599 {
			return
		}
		err := doWith(t, status, after, body)
		if r.Kind != outcome.Success && err == nil {
			t.Fatalf("Classify said %s but Call returned no error", r.Kind)
		}
		if err != nil {
			_ = err.Error()
		}
	})
}

// doWith calls Client.Call against a transport that answers every request with the
// given reply; one attempt, no pacing, a breaker that never opens.
func doWith(t *testing.T, status int, after string, body []byte) error {
	t.Helper()
	h := http.Header{"Content-Type": {"application/json"}}
	if after != "" {
		h.Set("Retry-After", after)
	}
	c, err := New(Config{
		BaseURL:     "https://nxcloud.invalid",
		Credentials: NewCredentials("fuzz-key", "fuzz-secret"),
		Options: provider.Options{
			Transport: fakevendor.Reply{Status: status, Header: h, Body: body},
			Limiter:   fakevendor.NoLimit{},
			Breakers:  breaker.NewSet(breaker.Config{ConsecutiveFailures: math.MaxUint32}),
			Retry:     &retry.Policy{MaxAttempts: 1},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var data struct {
		Token     string `json:"token"`
		RequestID string `json:"requestId"`
	}
	return c.Call(retry.Idempotent(context.Background()), PathLogin, nil, &data)
}
