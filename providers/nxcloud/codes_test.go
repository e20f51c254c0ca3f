package nxcloud_test

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authwire/authwire/outcome"
	"github.com/authwire/authwire/providers/nxcloud"
)

func reply(status int, hdr ...string) *http.Response {
	r := &http.Response{StatusCode: status, Header: http.Header{}, Request: &http.Request{URL: &url.URL{Path: nxcloud.PathGetCode}}}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	return r
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name      string
		resp      *http.Response
		body      string
		kind      outcome.Kind
		code      int
		msg, hint string
		after     time.Duration
	}{
		{name: "success", resp: reply(200), body: `{"code":0,"message":"success","data":{}}`, kind: outcome.Success},
		{name: "OTA success", resp: reply(200), body: `{"code":0,"msg":"success","data":{"requestId":"r"}}`, kind: outcome.Success},
		{name: "code as string", resp: reply(200), body: `{"code":"0","message":"ok"}`, kind: outcome.Success},
		{name: "2206 rate limited", resp: reply(200), body: `{"code":2206,"message":"request is too frequent"}`, kind: outcome.RateLimited, code: 2206, after: time.Second},
		{name: "2206 with Retry-After", resp: reply(200, "Retry-After", "3"), body: `{"code":2206,"msg":"too frequent"}`, kind: outcome.RateLimited, code: 2206, after: 3 * time.Second},
		{name: "1000 auth", resp: reply(200), body: `{"code":1000,"message":"auth failed"}`, kind: outcome.Permanent, code: 1000, hint: "Config.Credentials"},
		{name: "1001 missing header", resp: reply(200), body: `{"code":1001,"message":"missing"}`, kind: outcome.Permanent, code: 1001, hint: "header"},
		{name: "1002 parameter", resp: reply(200), body: `{"code":1002,"message":"param"}`, kind: outcome.Permanent, code: 1002, hint: "bizType and action"},
		{name: "1003 sign", resp: reply(200), body: `{"code":1003,"message":"sign"}`, kind: outcome.Permanent, code: 1003, hint: "Config.Algorithm"},
		{name: "1004 ts", resp: reply(200), body: `{"code":1004,"message":"ts"}`, kind: outcome.Permanent, code: 1004, hint: "±60 s"},
		{name: "1005 permission", resp: reply(200), body: `{"code":1005,"message":"perm"}`, kind: outcome.Permanent, code: 1005, hint: "access key"},
		{name: "1009 auth", resp: reply(200), body: `{"code":1009,"msg":"x"}`, kind: outcome.Permanent, code: 1009, hint: "Config.Credentials"},
		{name: "9000 param", resp: reply(200), body: `{"code":9000,"message":"parameter exception"}`, kind: outcome.Permanent, code: 9000},
		{name: "9901 OTA param", resp: reply(200), body: `{"code":9901,"msg":"parameter missing"}`, kind: outcome.Permanent, code: 9901, msg: "parameter missing"},
		{name: "9001 transient", resp: reply(200), body: `{"code":9001,"message":"system business error"}`, kind: outcome.Transient, code: 9001},
		{name: "99 transient", resp: reply(200), body: `{"code":99,"msg":"system error"}`, kind: outcome.Transient, code: 99},
		{name: "88 transient", resp: reply(200), body: `{"code":88,"msg":""}`, kind: outcome.Transient, code: 88, msg: "request failed"},
		{name: "-1 transient", resp: reply(200), body: `{"code":-1,"message":"request failed"}`, kind: outcome.Transient, code: -1},
		{name: "9007 permanent", resp: reply(200), body: `{"code":9007,"message":"not integrator"}`, kind: outcome.Permanent, code: 9007, hint: "integrator"},
		{name: "9906..9908, 2205 permanent", resp: reply(200), body: `{"code":9908,"msg":"balance"}`, kind: outcome.Permanent, code: 9908},
		{name: "2205 permanent", resp: reply(200), body: `{"code":2205,"msg":"no record"}`, kind: outcome.Permanent, code: 2205},
		{name: "undocumented code", resp: reply(200), body: `{"code":4242,"message":"?"}`, kind: outcome.Transient, code: 4242},
		{name: "200 without envelope", resp: reply(200), body: `<html>`, kind: outcome.Unknown},
		{name: "200 without code", resp: reply(200), body: `{"message":"hi"}`, kind: outcome.Unknown},
		{name: "503 bare", resp: reply(503), body: `Service Unavailable`, kind: outcome.Transient},
		// Issue 14: the code decides whatever the status; a 4xx without one is
		// permanent, except 429 (rate-limited) and 401/408.
		{name: "non-200 with envelope: the code decides", resp: reply(400), body: `{"code":9000,"message":"bad"}`, kind: outcome.Permanent, code: 9000},
		{name: "2206 in a 429", resp: reply(429), body: `{"code":2206,"message":"too frequent"}`, kind: outcome.RateLimited, code: 2206, after: time.Second},
		{name: "1003 in a 401", resp: reply(401), body: `{"code":1003,"message":"sign"}`, kind: outcome.Permanent, code: 1003},
		{name: "404 bare is permanent", resp: reply(404), body: `404 page not found`, kind: outcome.Permanent},
		{name: "429 bare is rate limited", resp: reply(429), body: ``, kind: outcome.RateLimited},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := nxcloud.Classify(tt.resp, []byte(tt.body))
			if r.Kind != tt.kind {
				t.Fatalf("kind = %s, want %s", r.Kind, tt.kind)
			}
			if r.After != tt.after {
				t.Errorf("after = %v, want %v", r.After, tt.after)
			}
			if tt.kind == outcome.Success {
				if r.Err != nil {
					t.Errorf("success with error %v", r.Err)
				}
				return
			}
			var e *nxcloud.Error
			if !errors.As(r.Err, &e) {
				t.Fatalf("err = %T %v, want *nxcloud.Error", r.Err, r.Err)
			}
			if e.Code != code(tt.code) || e.Kind != tt.kind || e.HTTPStatus != tt.resp.StatusCode || e.Op != nxcloud.PathGetCode {
				t.Errorf("error = %+v", e)
			}
			if k, _ := outcome.KindOf(r.Err); k != tt.kind {
				t.Errorf("OutcomeKind = %s", k)
			}
			if tt.msg != "" && e.Message != tt.msg {
				t.Errorf("message = %q, want %q", e.Message, tt.msg)
			}
			if tt.hint != "" && !strings.Contains(e.Hint, tt.hint) {
				t.Errorf("hint = %q, want it to mention %q", e.Hint, tt.hint)
			}
			if (tt.code >= 1000 && tt.code <= 1009) != (tt.code == 1004) && strings.Contains(e.Hint, "clock") {
				t.Errorf("hint of %d talks about the clock: %q", tt.code, e.Hint)
			}
			if s := e.Error(); !strings.HasPrefix(s, "nxcloud: ") || (tt.code != 0 && !strings.Contains(s, " "+strconv.Itoa(tt.code)+" ")) {
				t.Errorf("Error() = %q does not name the vendor and code", s)
			}
			if nxcloud.IsAuth(r.Err) != (tt.code >= 1000 && tt.code <= 1009) {
				t.Errorf("IsAuth = %v for %d", nxcloud.IsAuth(r.Err), tt.code)
			}
		})
	}
}

// code renders an expected code as the error carries it; 0 is "no code".
func code(c int) string {
	if c == 0 {
		return ""
	}
	return strconv.Itoa(c)
}
