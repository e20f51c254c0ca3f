package nxcloudtest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authwire/authwire/clock"
	"github.com/authwire/authwire/providers/nxcloud"
	"github.com/authwire/authwire/providers/nxcloud/nxcloudtest"
)

// req describes one hand-made request; the zero value is a correctly signed MD5
// login at the server's time.
type req struct {
	path    string
	method  string
	body    string
	sent    string // if set, the body sent instead of the one signed (tampering)
	alg     nxcloud.Algorithm
	ts      int64 // ms; 0 means now
	secret  string
	set     map[string]string // headers overridden after signing ("" deletes)
	biz     string
	action  string
	ctype   string
	extraTS bool // send a second ts header
}

type answer struct {
	status int
	env    map[string]any
	raw    string
}

func (a answer) code() int {
	if c, ok := a.env["code"].(float64); ok {
		return int(c)
	}
	return -12345
}

func send(t *testing.T, url string, fc clock.Clock, r req) answer {
	t.Helper()
	if r.path == "" {
		r.path = nxcloudtest.PathLogin
	}
	if r.method == "" {
		r.method = http.MethodPost
	}
	if r.secret == "" {
		r.secret = nxcloudtest.AccessSecret
	}
	op, _ := nxcloud.OperationOf(r.path)
	if r.biz == "" {
		r.biz = strconv.Itoa(int(op.BizType))
	}
	if r.action == "" {
		r.action = op.Action
	}
	if r.ts == 0 {
		r.ts = clock.OrReal(fc).Now().UnixMilli()
	}
	h := nxcloud.Headers{AccessKey: nxcloudtest.AccessKey, Action: r.action, BizType: r.biz, TS: strconv.FormatInt(r.ts, 10)}
	sig := nxcloud.Sign(h, []byte(r.body), r.secret, r.alg)
	body := r.body
	if r.sent != "" {
		body = r.sent
	}
	hr, err := http.NewRequest(r.method, url+r.path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	ct := r.ctype
	if ct == "" {
		ct = "application/json"
	}
	hr.Header.Set("Content-Type", ct)
	hdr := map[string]string{"accessKey": h.AccessKey, "ts": h.TS, "bizType": h.BizType, "action": h.Action, "sign": sig}
	if r.alg == nxcloud.SHA256 {
		hdr["algorithm"] = "sha256"
	}
	for k, v := range r.set {
		hdr[k] = v
	}
	for k, v := range hdr {
		if v != "" {
			hr.Header[k] = []string{v}
		}
	}
	if r.extraTS {
		hr.Header.Add("Ts", h.TS)
	}
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, raw: string(raw)}
	json.Unmarshal(raw, &a.env)
	return a
}

func serve(t *testing.T, cfg nxcloudtest.Config) (*nxcloudtest.Server, string) {
	t.Helper()
	sim := nxcloudtest.New(cfg)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return sim, srv.URL
}

// TestVendorVector: the vendor's getCode vector, sent verbatim at its own ts,
// is accepted; one byte changed anywhere is rejected.
func TestVendorVector(t *testing.T) {
	const (
		body = `{"phone_number":"185xxx99","method":"sms"}`
		sign = "c3252cf9a3c743821441a6a6d5657c6c"
		ts   = 1655710885431
	)
	fc := clock.NewFake(time.UnixMilli(ts))
	tests := []struct {
		name string
		r    req
		code int
	}{
		{"verbatim", req{}, 0},
		{"body byte changed", req{sent: `{"phone_number":"185xxx98","method":"sms"}`}, nxcloudtest.CodeBadSign},
		{"whitespace added", req{sent: `{"phone_number": "185xxx99","method":"sms"}`}, nxcloudtest.CodeBadSign},
		{"sign byte changed", req{set: map[string]string{"sign": "c3252cf9a3c743821441a6a6d5657c6d"}}, nxcloudtest.CodeBadSign},
		{"sign in upper case", req{set: map[string]string{"sign": strings.ToUpper(sign)}}, nxcloudtest.CodeBadSign},
		{"ts changed", req{set: map[string]string{"ts": "1655710885432"}}, nxcloudtest.CodeBadSign},
		{"sha256 header on an md5 sign", req{set: map[string]string{"algorithm": "sha256"}}, nxcloudtest.CodeBadSign},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim, url := serve(t, nxcloudtest.Config{Clock: fc})
			r := tt.r
			r.path, r.body, r.ts = nxcloudtest.PathGetCode, body, ts
			if r.set == nil {
				r.set = map[string]string{}
			}
			if _, ok := r.set["sign"]; !ok {
				r.set["sign"] = sign // the vector's value, not ours
			}
			a := send(t, url, fc, r)
			if a.code() != tt.code {
				t.Fatalf("code = %d (%s), want %d", a.code(), a.raw, tt.code)
			}
			want := 0
			if tt.code == 0 {
				want = 1
			}
			if n := sim.CodesSent("185xxx99"); n != want {
				t.Errorf("codes sent = %d, want %d", n, want)
			}
		})
	}
}

func TestAuthentication(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name string
		r    req
		code int
		msg  string
	}{
		{"md5 login", req{}, 0, "success"},
		{"sha256 login", req{alg: nxcloud.SHA256}, 0, ""},
		{"sha256 with body", req{path: nxcloudtest.PathGetCode, alg: nxcloud.SHA256, body: `{"phone_number":"123456","method":"voice"}`}, 0, ""},
		{"MD5 header spelled in capitals", req{set: map[string]string{"algorithm": "MD5"}}, 0, ""},
		{"login with a body is signed over it", req{body: `{}`}, 0, ""},
		{"multipart body is not signed", req{path: nxcloudtest.PathLogin, body: "", sent: "--x\r\n\r\n--x--", ctype: "multipart/form-data; boundary=x"}, 0, ""},
		{"missing accessKey", req{set: map[string]string{"accessKey": ""}}, nxcloudtest.CodeMissingHeader, "accessKey"},
		{"missing ts", req{set: map[string]string{"ts": ""}}, nxcloudtest.CodeMissingHeader, "ts"},
		{"missing bizType", req{set: map[string]string{"bizType": ""}}, nxcloudtest.CodeMissingHeader, "bizType"},
		{"missing action", req{set: map[string]string{"action": ""}}, nxcloudtest.CodeMissingHeader, "action"},
		{"missing sign", req{set: map[string]string{"sign": ""}}, nxcloudtest.CodeMissingHeader, "sign"},
		{"repeated ts", req{extraTS: true}, nxcloudtest.CodeMissingHeader, "ts"},
		{"unknown accessKey", req{set: map[string]string{"accessKey": "nobody"}}, nxcloudtest.CodeBadAccessKey, ""},
		{"wrong secret", req{secret: "wrong"}, nxcloudtest.CodeBadSign, ""},
		{"bad algorithm", req{set: map[string]string{"algorithm": "sha1"}}, nxcloudtest.CodeBadAlgorithm, ""},
		{"ts in seconds", req{ts: now.Unix()}, nxcloudtest.CodeBadTS, "13-digit"},
		{"ts not a number", req{set: map[string]string{"ts": "165571088543x"}}, nxcloudtest.CodeBadTS, ""},
		{"ts 61 s old", req{ts: now.Add(-61 * time.Second).UnixMilli()}, nxcloudtest.CodeBadTS, "±60 s"},
		{"ts 61 s ahead", req{ts: now.Add(61 * time.Second).UnixMilli()}, nxcloudtest.CodeBadTS, "±60 s"},
		{"ts 59 s old", req{ts: now.Add(-59 * time.Second).UnixMilli()}, 0, ""},
		{"ts 59 s ahead", req{ts: now.Add(59 * time.Second).UnixMilli()}, 0, ""},
		{"wrong action for the path", req{action: "getCode"}, nxcloudtest.CodeParam, "bizType/action"},
		{"wrong bizType for OTA", req{path: nxcloudtest.PathOTAInit, biz: "2", body: `{}`}, nxcloudtest.CodeOTAParam, "bizType/action"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fc := clock.NewFake(now)
			sim, url := serve(t, nxcloudtest.Config{Clock: fc})
			a := send(t, url, fc, tt.r)
			if a.status != 200 || a.code() != tt.code {
				t.Fatalf("answer = %d %s, want code %d", a.status, a.raw, tt.code)
			}
			m, _ := a.env["message"].(string)
			if om, ok := a.env["msg"].(string); ok {
				m = om
			}
			if !strings.Contains(m, tt.msg) {
				t.Errorf("message %q does not mention %q", m, tt.msg)
			}
			processed := sim.Logins() + len(sim.Stats().CodesSent)
			if (tt.code == 0) != (processed == 1) {
				t.Errorf("processed = %d for code %d", processed, tt.code)
			}
		})
	}
}

func TestClockOffset(t *testing.T) {
	now := time.Now()
	fc := clock.NewFake(now)
	sim, url := serve(t, nxcloudtest.Config{Clock: fc})
	sim.SetClockOffset(90 * time.Second)
	if a := send(t, url, fc, req{}); a.code() != nxcloudtest.CodeBadTS {
		t.Errorf("with the server 90 s ahead: %s", a.raw)
	}
	if a := send(t, url, fc, req{ts: now.Add(90 * time.Second).UnixMilli()}); a.code() != 0 {
		t.Errorf("with the client matching the offset: %s", a.raw)
	}
	sim.SetClockOffset(0)
	fc.Advance(2 * time.Minute)
	if a := send(t, url, fc, req{ts: now.UnixMilli()}); a.code() != nxcloudtest.CodeBadTS {
		t.Errorf("a 2-minute-old ts: %s", a.raw)
	}
}

func TestOperations(t *testing.T) {
	tests := []struct {
		name   string
		path   string
		body   string
		code   int
		msgKey string
		data   []string
	}{
		{"login", nxcloudtest.PathLogin, "", 0, "message", []string{"token"}},
		{"getCode sms", nxcloudtest.PathGetCode, `{"phone_number":"8613800138000","method":"sms"}`, 0, "message", nil},
		{"getCode voice", nxcloudtest.PathGetCode, `{"phone_number":"8613800138000","method":"voice"}`, 0, "message", nil},
		{"getCode bad method", nxcloudtest.PathGetCode, `{"phone_number":"8613800138000","method":"fax"}`, nxcloudtest.CodeParam, "message", nil},
		{"getCode no phone", nxcloudtest.PathGetCode, `{"method":"sms"}`, nxcloudtest.CodeParam, "message", nil},
		{"getCode phone not a string", nxcloudtest.PathGetCode, `{"phone_number":8613800138000,"method":"sms"}`, nxcloudtest.CodeParam, "message", nil},
		{"getCode not JSON", nxcloudtest.PathGetCode, `phone=1`, nxcloudtest.CodeParam, "message", nil},
		{"getCode empty body", nxcloudtest.PathGetCode, ``, nxcloudtest.CodeParam, "message", nil},
		{"init", nxcloudtest.PathOTAInit, `{"appkey":"sim-ota-app","phone":"8613800138000","userIp":"203.0.113.7"}`, 0, "msg", []string{"requestId", "url"}},
		{"init IPv6", nxcloudtest.PathOTAInit, `{"appkey":"sim-ota-app","phone":"8613800138000","userIp":"2001:db8::7"}`, 0, "msg", []string{"requestId", "url"}},
		{"init no userIp", nxcloudtest.PathOTAInit, `{"appkey":"sim-ota-app","phone":"8613800138000"}`, nxcloudtest.CodeOTAParam, "msg", nil},
		{"init bad userIp", nxcloudtest.PathOTAInit, `{"appkey":"sim-ota-app","phone":"8613800138000","userIp":"999.1.1.1"}`, nxcloudtest.CodeOTAParam, "msg", nil},
		{"init unknown app", nxcloudtest.PathOTAInit, `{"appkey":"other","phone":"8613800138000","userIp":"203.0.113.7"}`, nxcloudtest.CodeAppUnknown, "msg", nil},
		{"init JSON array", nxcloudtest.PathOTAInit, `[1,2]`, nxcloudtest.CodeOTAParam, "msg", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, url := serve(t, nxcloudtest.Config{})
			a := send(t, url, nil, req{path: tt.path, body: tt.body})
			if a.code() != tt.code {
				t.Fatalf("answer %s, want code %d", a.raw, tt.code)
			}
			if _, ok := a.env[tt.msgKey]; !ok {
				t.Errorf("envelope %s has no %q", a.raw, tt.msgKey)
			}
			other := map[string]string{"message": "msg", "msg": "message"}[tt.msgKey]
			if _, ok := a.env[other]; ok {
				t.Errorf("envelope %s has %q too", a.raw, other)
			}
			data, _ := a.env["data"].(map[string]any)
			for _, k := range tt.data {
				if s, _ := data[k].(string); s == "" {
					t.Errorf("data %v has no %s", data, k)
				}
			}
			if tt.code == 0 && data == nil {
				t.Errorf("success without data: %s", a.raw)
			}
		})
	}
}

func TestCounters(t *testing.T) {
	sim, url := serve(t, nxcloudtest.Config{})
	for range 2 {
		send(t, url, nil, req{path: nxcloudtest.PathGetCode, body: `{"phone_number":"111111","method":"sms"}`})
	}
	send(t, url, nil, req{path: nxcloudtest.PathGetCode, body: `{"phone_number":"222222","method":"voice"}`})
	send(t, url, nil, req{})
	send(t, url, nil, req{secret: "wrong"})
	st := sim.Stats()
	if st.CodesSent["111111"] != 2 || st.CodesSent["222222"] != 1 || st.Logins != 1 {
		t.Errorf("stats = %+v", st)
	}
	if st.Requests[nxcloudtest.PathGetCode] != 3 || st.Requests[nxcloudtest.PathLogin] != 2 || st.Codes[0] != 4 || st.Codes[nxcloudtest.CodeBadSign] != 1 {
		t.Errorf("stats = %+v", st)
	}
	st.CodesSent["111111"] = 99 // a snapshot: the server's counters do not change
	if sim.CodesSent("111111") != 2 {
		t.Error("Stats is not a snapshot")
	}
}

func TestFaults(t *testing.T) {
	t.Run("next N answer 2206", func(t *testing.T) {
		sim, url := serve(t, nxcloudtest.Config{})
		sim.Inject(nxcloudtest.Fault{Count: 2, Code: nxcloudtest.CodeRateLimited})
		var codes []int
		for range 3 {
			codes = append(codes, send(t, url, nil, req{}).code())
		}
		if fmt.Sprint(codes) != "[2206 2206 0]" || sim.Logins() != 1 {
			t.Errorf("codes = %v, logins = %d", codes, sim.Logins())
		}
	})
	t.Run("2206 only after authentication", func(t *testing.T) {
		sim, url := serve(t, nxcloudtest.Config{})
		sim.Inject(nxcloudtest.Fault{Code: nxcloudtest.CodeRateLimited})
		if c := send(t, url, nil, req{secret: "wrong"}).code(); c != nxcloudtest.CodeBadSign {
			t.Errorf("code = %d, want the signature error", c)
		}
	})
	t.Run("OTA envelope for an injected code", func(t *testing.T) {
		sim, url := serve(t, nxcloudtest.Config{})
		sim.Inject(nxcloudtest.Fault{Path: nxcloudtest.PathOTAInit, Code: nxcloudtest.CodeOTASystem})
		a := send(t, url, nil, req{path: nxcloudtest.PathOTAInit, body: `{"appkey":"sim-ota-app","phone":"123456","userIp":"203.0.113.7"}`})
		if a.code() != 99 || a.env["msg"] == nil || sim.Inits() != 0 {
			t.Errorf("answer %s, inits %d", a.raw, sim.Inits())
		}
	})
	t.Run("path filter", func(t *testing.T) {
		sim, url := serve(t, nxcloudtest.Config{})
		sim.Inject(nxcloudtest.Fault{Path: nxcloudtest.PathGetCode, Status: 503})
		if a := send(t, url, nil, req{}); a.status != 200 || a.code() != 0 {
			t.Errorf("login drew the getCode fault: %d %s", a.status, a.raw)
		}
		a := send(t, url, nil, req{path: nxcloudtest.PathGetCode, body: `{"phone_number":"123456","method":"sms"}`})
		if a.status != 503 || a.env != nil || sim.CodesSent("123456") != 0 {
			t.Errorf("getCode: %d %s", a.status, a.raw)
		}
	})
	t.Run("lose: processed, then dropped", func(t *testing.T) {
		sim, url := serve(t, nxcloudtest.Config{})
		sim.Inject(nxcloudtest.Fault{Path: nxcloudtest.PathGetCode, Lose: true})
		body := `{"phone_number":"123456","method":"sms"}`
		op, _ := nxcloud.OperationOf(nxcloudtest.PathGetCode)
		h := nxcloud.Headers{AccessKey: nxcloudtest.AccessKey, Action: op.Action, BizType: "2", TS: strconv.FormatInt(time.Now().UnixMilli(), 10)}
		hr, _ := http.NewRequest(http.MethodPost, url+nxcloudtest.PathGetCode, strings.NewReader(body))
		hr.Header.Set("Content-Type", "application/json")
		for k, v := range map[string]string{"accessKey": h.AccessKey, "ts": h.TS, "bizType": h.BizType, "action": h.Action, "sign": nxcloud.Sign(h, []byte(body), nxcloudtest.AccessSecret, nxcloud.MD5)} {
			hr.Header[k] = []string{v}
		}
		resp, err := http.DefaultClient.Do(hr)
		if err == nil {
			resp.Body.Close()
			t.Fatalf("got HTTP %d, want a dropped connection", resp.StatusCode)
		}
		if st := sim.Stats(); st.CodesSent["123456"] != 1 || st.Dropped != 1 {
			t.Errorf("stats = %+v", st)
		}
	})
	t.Run("latency", func(t *testing.T) {
		sim, url := serve(t, nxcloudtest.Config{})
		sim.Inject(nxcloudtest.Fault{Latency: 30 * time.Millisecond})
		start := time.Now()
		send(t, url, nil, req{})
		if d := time.Since(start); d < 30*time.Millisecond {
			t.Errorf("answered after %v", d)
		}
	})
	t.Run("chaos", func(t *testing.T) {
		sim, url := serve(t, nxcloudtest.Config{Seed: 1})
		sim.SetChaos(nxcloudtest.Chaos{RateLimitRate: 1})
		if c := send(t, url, nil, req{}).code(); c != nxcloudtest.CodeRateLimited {
			t.Errorf("code = %d", c)
		}
		sim.SetChaos(nxcloudtest.Chaos{ServerErrorRate: 1})
		if a := send(t, url, nil, req{}); a.status != 503 {
			t.Errorf("status = %d", a.status)
		}
		sim.SetChaos(nxcloudtest.Chaos{})
		if c := send(t, url, nil, req{}).code(); c != 0 {
			t.Errorf("code = %d", c)
		}
		if st := sim.Stats(); st.Faults != 2 || st.Logins != 1 {
			t.Errorf("stats = %+v", st)
		}
	})
}

// TestMalformed: whatever arrives, the simulator answers; it never panics.
func TestMalformed(t *testing.T) {
	sim := nxcloudtest.New(nxcloudtest.Config{})
	tests := []struct {
		name   string
		method string
		path   string
		body   io.Reader
		hdr    map[string]string
		status int
		code   int
	}{
		{"GET", http.MethodGet, nxcloudtest.PathLogin, nil, nil, 405, 0},
		{"unknown path", http.MethodPost, "/api/nope", nil, nil, 404, 0},
		{"no headers", http.MethodPost, nxcloudtest.PathGetCode, strings.NewReader(`{`), nil, 200, nxcloudtest.CodeMissingHeader},
		{"garbage headers", http.MethodPost, nxcloudtest.PathOTAInit, strings.NewReader("\x00\xff"), map[string]string{"accessKey": "\x01", "ts": "-1", "bizType": "x", "action": "y", "sign": "z", "algorithm": "md5"}, 200, nxcloudtest.CodeBadAccessKey},
		{"negative ts", http.MethodPost, nxcloudtest.PathLogin, nil, map[string]string{"accessKey": nxcloudtest.AccessKey, "ts": "-165571088543", "bizType": "2", "action": "login", "sign": "z"}, 200, nxcloudtest.CodeBadTS},
		{"huge ts", http.MethodPost, nxcloudtest.PathLogin, nil, map[string]string{"accessKey": nxcloudtest.AccessKey, "ts": "9999999999999", "bizType": "2", "action": "login", "sign": "z"}, 200, nxcloudtest.CodeBadTS},
		{"body over 1 MiB", http.MethodPost, nxcloudtest.PathGetCode, bytes.NewReader(make([]byte, 2<<20)), nil, 200, nxcloudtest.CodeParam},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.path, tt.body)
			for k, v := range tt.hdr {
				r.Header[k] = []string{v}
			}
			w := httptest.NewRecorder()
			sim.ServeHTTP(w, r)
			if w.Code != tt.status {
				t.Fatalf("status = %d (%s), want %d", w.Code, w.Body, tt.status)
			}
			if tt.code != 0 {
				var env struct{ Code int }
				if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil || env.Code != tt.code {
					t.Errorf("answer %s, want code %d", w.Body, tt.code)
				}
			}
		})
	}
}

// TestConcurrent hammers the simulator with faults and chaos from many goroutines
// (run with -race).
func TestConcurrent(t *testing.T) {
	sim, url := serve(t, nxcloudtest.Config{Seed: 3})
	sim.SetChaos(nxcloudtest.Chaos{RateLimitRate: 0.2, ServerErrorRate: 0.1, LatencyRate: 0.1, Latency: time.Millisecond})
	sim.Inject(nxcloudtest.Fault{Count: 5, Code: nxcloudtest.CodeRateLimited})
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 5 {
				send(t, url, nil, req{path: nxcloudtest.PathGetCode, body: fmt.Sprintf(`{"phone_number":"%d%05d","method":"sms"}`, i+1, j)})
				_ = sim.Stats()
			}
		}()
	}
	wg.Wait()
	st := sim.Stats()
	sent := 0
	for _, n := range st.CodesSent {
		sent += n
	}
	if st.Requests[nxcloudtest.PathGetCode] != 80 || sent != st.Codes[0] || sent+st.Codes[2206]+st.HTTPErrors != 80 {
		t.Errorf("stats = %+v", st)
	}
}

// TestContentType: the vendor asks for application/json (multipart for
// uploads); another media type gets the path's parameter error.
func TestContentType(t *testing.T) {
	_, url := serve(t, nxcloudtest.Config{})
	ota := `{"appkey":"sim-ota-app","phone":"123456","userIp":"203.0.113.7"}`
	for _, tc := range []struct {
		name, path, ctype, body string
		code                    int
	}{
		{"json", nxcloudtest.PathLogin, "application/json", "", 0},
		{"json with charset", nxcloudtest.PathLogin, "application/json; charset=UTF-8", "", 0},
		{"multipart", nxcloudtest.PathLogin, "multipart/form-data; boundary=x", "", 0},
		{"form", nxcloudtest.PathLogin, "application/x-www-form-urlencoded", "", nxcloudtest.CodeParam},
		{"text", nxcloudtest.PathGetCode, "text/plain", `{"phone_number":"1","method":"sms"}`, nxcloudtest.CodeParam},
		{"malformed", nxcloudtest.PathLogin, "application/", "", nxcloudtest.CodeParam},
		{"OTA envelope", nxcloudtest.PathOTAInit, "text/json", ota, nxcloudtest.CodeOTAParam},
		{"OTA json", nxcloudtest.PathOTAInit, "application/json", ota, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := send(t, url, nil, req{path: tc.path, ctype: tc.ctype, body: tc.body})
			if a.status != 200 || a.code() != tc.code {
				t.Errorf("HTTP %d %s, want code %d", a.status, a.raw, tc.code)
			}
		})
	}
}
