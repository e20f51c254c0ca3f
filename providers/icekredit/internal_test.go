package icekredit

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/authwire/authwire/outcome"
)

func TestMD5Vectors(t *testing.T) {
	for _, tc := range []struct{ name, password, want string }{
		{"vendor example", "P@ssw0rd!", "8a24367a1f46c141048752f2d5bbd14b"},
		{"empty", "", "d41d8cd98f00b204e9800998ecf8427e"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := md5Hex(tc.password); got != tc.want {
				t.Errorf("md5Hex(%q) = %s, want %s", tc.password, got, tc.want)
			}
			if got := NewCredentials("acme", tc.password).pwd.Reveal(); got != tc.want {
				t.Errorf("NewCredentials kept %s, want %s", got, tc.want)
			}
		})
	}
}

func TestLoginBody(t *testing.T) {
	cr := NewCredentials("acme", "P@ssw0rd!")
	for _, tc := range []struct {
		enc      LoginEncoding
		wantType string
		wantBody string
	}{
		{Form, "application/x-www-form-urlencoded", "merchant_name=acme&merchant_pwd=8a24367a1f46c141048752f2d5bbd14b"},
		{JSON, "application/json; charset=utf-8", `{"merchant_name":"acme","merchant_pwd":"8a24367a1f46c141048752f2d5bbd14b"}`},
	} {
		t.Run(tc.enc.String(), func(t *testing.T) {
			ct, body := loginBody(cr, tc.enc)
			if ct != tc.wantType || string(body) != tc.wantBody {
				t.Errorf("loginBody = %q %q, want %q %q", ct, body, tc.wantType, tc.wantBody)
			}
		})
	}
}

func TestNewCredentialsFromMD5(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
		ok             bool
	}{
		{"lowercase", "8a24367a1f46c141048752f2d5bbd14b", "8a24367a1f46c141048752f2d5bbd14b", true},
		{"uppercase is lowered", "8A24367A1F46C141048752F2D5BBD14B", "8a24367a1f46c141048752f2d5bbd14b", true},
		{"short", "8a24", "", false},
		{"not hex", strings.Repeat("z", 32), "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cr, err := NewCredentialsFromMD5("acme", tc.in)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			if tc.ok && cr.pwd.Reveal() != tc.want {
				t.Errorf("hash = %s, want %s", cr.pwd.Reveal(), tc.want)
			}
			if err != nil && strings.Contains(err.Error(), tc.in) {
				t.Errorf("error %q repeats the input", err)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		name      string
		status    int
		header    http.Header
		body      string
		want      outcome.Kind
		wantCode  string
		wantAfter time.Duration
		login     bool
	}{
		{"success", 200, nil, `{"response_code":"00","result":{},"message":"success","trace_id":"t"}`, outcome.Success, "", 0, false},
		{"success despite 500", 500, nil, `{"response_code":"00","message":"success"}`, outcome.Success, "", 0, false},
		{"rate limited default pause", 200, nil, `{"response_code":"10000429","message":"too frequent"}`, outcome.RateLimited, "10000429", time.Second, false},
		{"rate limited Retry-After", 429, http.Header{"Retry-After": {"7"}}, `{"response_code":"10000429"}`, outcome.RateLimited, "10000429", 7 * time.Second, false},
		{"token invalid", 200, nil, `{"response_code":"200005","message":"token_id invalid: expired"}`, outcome.TokenRejected, "200005", 0, false},
		{"token invalid in a 401", 401, nil, `{"response_code":"200005","message":"x"}`, outcome.TokenRejected, "200005", 0, false},
		{"ip changed", 200, nil, `{"response_code":"200006"}`, outcome.TokenRejected, "200006", 0, false},
		{"unauthorized", 200, nil, `{"response_code":"10000401"}`, outcome.TokenRejected, "10000401", 0, false},
		{"auth service error", 200, nil, `{"response_code":"02"}`, outcome.TokenRejected, "02", 0, false},
		{"auth service error on login", 200, nil, `{"response_code":"02","response_msg":"x"}`, outcome.Transient, "02", 0, true},
		{"wrong password", 200, nil, `{"response_code":"200002","response_msg":"invalid username or password"}`, outcome.Permanent, "200002", 0, true},
		{"locked", 200, nil, `{"response_code":"200008"}`, outcome.Permanent, "200008", 0, true},
		{"expired account", 403, nil, `{"response_code":"200009"}`, outcome.Permanent, "200009", 0, true},
		{"processing error", 500, nil, `{"response_code":"10000001"}`, outcome.Transient, "10000001", 0, false},
		{"retrieve data error", 200, nil, `{"response_code":"20100300"}`, outcome.Transient, "20100300", 0, false},
		{"balance", 200, nil, `{"response_code":"20100202"}`, outcome.Permanent, "20100202", 0, false},
		{"undocumented", 200, nil, `{"response_code":"31337"}`, outcome.Transient, "31337", 0, false},
		{"bare 502", 502, nil, `<html>bad gateway</html>`, outcome.Transient, "", 0, false},
		{"bare 404", 404, nil, ``, outcome.Permanent, "", 0, false},
		{"200 without envelope", 200, nil, `{"hello":1}`, outcome.Unknown, "", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, "https://api.example/p", nil)
			resp := &http.Response{StatusCode: tc.status, Header: tc.header, Request: req}
			if resp.Header == nil {
				resp.Header = http.Header{}
			}
			c := Classify
			if tc.login {
				c = classifyLogin
			}
			r := c(resp, []byte(tc.body))
			if r.Kind != tc.want {
				t.Fatalf("kind = %s, want %s", r.Kind, tc.want)
			}
			if r.After != tc.wantAfter {
				t.Errorf("after = %v, want %v", r.After, tc.wantAfter)
			}
			if tc.want == outcome.Success {
				if r.Err != nil {
					t.Errorf("err = %v on success", r.Err)
				}
				return
			}
			e, ok := r.Err.(*Error)
			if !ok {
				t.Fatalf("err = %T %v, want *Error", r.Err, r.Err)
			}
			if e.Code != tc.wantCode || e.HTTPStatus != tc.status || e.Kind != tc.want || e.Op != "/p" {
				t.Errorf("error = %+v", e)
			}
			if tc.wantCode != "" && !strings.Contains(e.Error(), tc.wantCode) {
				t.Errorf("Error() = %q does not name the code", e.Error())
			}
		})
	}
}
