package icekredit

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

// FuzzClassify feeds arbitrary replies (status, Retry-After, body) to Classify
// and classifyLogin, to the envelope decoding and to Client.Do through the whole
// stack (token_id layer included), and checks that nothing panics, that the
// outcome is one of the six kinds, and that every non-success carries a typed
// *Error agreeing with the outcome.
//
//	go test -run '^$' -fuzz '^FuzzClassify$' -fuzztime 10s ./providers/icekredit
func FuzzClassify(f *testing.F) {
	// The spec's envelopes (login and services), the code table, malformed replies.
	seeds := []struct {
		status int
		after  string
		body   string
	}{
		{200, "", `{"response_code":"00","response_msg":"success","token_id":"0123456789abcdef"}`},
		{200, "", `{"response_code":"00","result":{"nigeria_auto_decision":{"new_customer":1,"risk_level":"Low"}},"message":"success","trace_id":"abc"}`},
		{200, "", `{"response_code":"00","result":null,"message":"success"}`},
		{200, "", `{"response_code":"00","result":"text"}`},
		{200, "", `{"response_code":"10000429","message":"too frequent requests","trace_id":"t"}`},
		{429, "2", `{"response_code":"10000429","message":"too frequent requests"}`},
		{200, "", `{"response_code":"200005","message":"token_id invalid: expired","trace_id":"t"}`},
		{200, "", `{"response_code":"200006","message":"client IP address has changed"}`},
		{200, "", `{"response_code":"02","message":"authentication service error"}`},
		{200, "", `{"response_code":"200002","response_msg":"invalid username or password"}`},
		{200, "", `{"response_code":"10000415","response_msg":"content type not supported"}`},
		{200, "", `{"response_code":"20100102","message":"parameters missing: ID"}`},
		{200, "", `{"response_code":"10000001","message":"service processing error"}`},
		{200, "", `{"response_code":"99999999","message":"?"}`},
		{200, "", `{"response_code":0}`},
		{200, "", `{"response_code":""}`},
		{200, "", `<html>`},
		{200, "", ``},
		{503, "", `Service Unavailable`},
		{401, "", ``},
		{302, "", ``},
		{0, "", `{}`},
		{-7, "x", `{"response_code":"00"}`},
	}
	for _, s := range seeds {
		f.Add(s.status, s.after, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, status int, after string, body []byte) {
		resp := &http.Response{StatusCode: status, Header: http.Header{}, Request: &http.Request{URL: &url.URL{Path: PathNigeriaAutoDecision}}}
		if after != "" {
			resp.Header.Set("Retry-After", after)
		}
		r := Classify(resp, body)
		fakevendor.CheckResult(t, r)
		lr := classifyLogin(resp, body)
		fakevendor.CheckResult(t, lr)
		if lr.Kind == outcome.TokenRejected {
			t.Fatal("classifyLogin returned TokenRejected: there is no token on a login")
		}
		if f, ok := envelope.Parse(body); ok && f.Code == "" {
			t.Fatal("envelope.Parse reported ok without a response_code")
		}

		if status < 100 || status > 599 {
			return
		}
		// As a product reply, then as a login reply.
		err := doWith(t, status, after, body, false)
		if r.Kind != outcome.Success && err == nil {
			t.Fatalf("Classify said %s but Do returned no error", r.Kind)
		}
		if err := doWith(t, status, after, body, true); err != nil {
			_ = err.Error()
		}
	})
}

// doWith calls NigeriaAutoDecision against a transport that answers the login
// (or, with atLogin, the product call) correctly and everything else with the
// given reply: one attempt, no pacing, a breaker that never opens.
func doWith(t *testing.T, status int, after string, body []byte, atLogin bool) error {
	t.Helper()
	h := http.Header{"Content-Type": {"application/json"}}
	if after != "" {
		h.Set("Retry-After", after)
	}
	fuzzed := fakevendor.Reply{Status: status, Header: h, Body: body}
	good := fakevendor.Reply{Status: 200, Header: http.Header{}}
	rt := fakevendor.ByPath{LoginPath: good, "": fuzzed}
	good.Body = []byte(`{"response_code":"00","response_msg":"success","token_id":"fuzz-token"}`)
	rt[LoginPath] = good
	if atLogin {
		good.Body = []byte(`{"response_code":"00","result":{"nigeria_auto_decision":{"new_customer":0,"risk_level":"Low"}},"message":"success"}`)
		rt[LoginPath], rt[""] = fuzzed, good
	}
	c, err := New(Config{
		LoginURL:    "https://sso.icekredit.invalid",
		BaseURL:     "https://api.icekredit.invalid",
		Credentials: NewCredentials("fuzz", "fuzz-password"),
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
	_, err = c.NigeriaAutoDecision(context.Background(), NigeriaAutoDecisionRequest{ID: "1", Mobile: "2", EquipmentSN: "3", SN: "4"})
	return err
}
